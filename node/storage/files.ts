import { writevSync } from 'node:fs'
import { open } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'

/** Reads up to `length` bytes at `position`; shorter only at the end of the file. */
export async function readFully (fh: FileHandle, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length)
  let done = 0
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done)
    if (bytesRead === 0) break
    done += bytesRead
  }
  return done === length ? buf : buf.subarray(0, done)
}

/**
 * The most one writev call writes, so that one big image does not hold a thread of libuv's pool
 * (four, shared with every other file operation of the node) for the whole of it. On this VM a
 * 64 MiB write into a new file took 20-70 ms most times and 110-860 ms at others (stalls inside
 * the kernel, the process alone on the machine), in calls of 1, 8 or 64 MiB alike.
 */
const MAX_WRITEV_BYTES = 8 * 1024 * 1024

/** `buffers` cut into groups of at most MAX_WRITEV_BYTES (a bigger buffer is split). */
function * writeGroups (buffers: Uint8Array[]): Generator<Uint8Array[]> {
  let group: Uint8Array[] = []
  let bytes = 0
  for (const buffer of buffers) {
    for (let at = 0; at < buffer.byteLength;) {
      const part = buffer.subarray(at, at + MAX_WRITEV_BYTES - bytes)
      group.push(part)
      bytes += part.byteLength
      at += part.byteLength
      if (bytes >= MAX_WRITEV_BYTES) {
        yield group
        group = []
        bytes = 0
      }
    }
  }
  if (group.length > 0) yield group
}

/** Writes all `buffers` at `position`, in writev calls of at most MAX_WRITEV_BYTES; returns the bytes written. */
export async function writeAll (fh: FileHandle, buffers: Uint8Array[], position: number): Promise<number> {
  let at = position
  for (const group of writeGroups(buffers)) at = await writeGroup(fh, group, at)
  return at - position
}

/** One group, with as few writev calls as the kernel allows; returns where it ends. */
async function writeGroup (fh: FileHandle, buffers: Uint8Array[], position: number): Promise<number> {
  let rest = buffers
  let at = position
  while (rest.length > 0) {
    const { bytesWritten } = await fh.writev(rest, at)
    at += bytesWritten
    rest = unwritten(rest, bytesWritten)
  }
  return at
}

/** What is left of `buffers` after a write took their first `written` bytes (a short write). */
function unwritten (buffers: Uint8Array[], written: number): Uint8Array[] {
  let i = 0
  while (i < buffers.length && written >= buffers[i].byteLength) written -= buffers[i++].byteLength
  const rest = buffers.slice(i)
  if (written > 0) rest[0] = rest[0].subarray(written)
  return rest
}

/**
 * The same, on this thread, for a few small buffers: a system call into the page cache costs
 * less than the round trip through libuv's thread pool (a wakeup of a pool thread and of this
 * one, each a context switch on a busy machine), measured at about 200 us per append of a
 * replica log under load.
 */
export function writeAllSync (fh: FileHandle, buffers: Uint8Array[], position: number): number {
  let rest = buffers.filter(b => b.byteLength > 0)
  let at = position
  while (rest.length > 0) {
    const bytesWritten = writevSync(fh.fd, rest, at)
    at += bytesWritten
    rest = unwritten(rest, bytesWritten)
  }
  return at - position
}

/** Makes a rename in `dir` durable; platforms that cannot sync a folder are left as they are. */
export async function syncDir (dir: string): Promise<void> {
  let fh: FileHandle | undefined
  try {
    fh = await open(dir, 'r')
    await fh.sync()
  } catch {
    // EISDIR or EPERM on some platforms: the rename is as durable as they allow
  } finally {
    await fh?.close()
  }
}
