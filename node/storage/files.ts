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

/** Writes all `buffers` at `position` with as few writev calls as the kernel allows; returns the bytes written. */
export async function writeAll (fh: FileHandle, buffers: Uint8Array[], position: number): Promise<number> {
  let rest = buffers
  let at = position
  while (rest.length > 0) {
    let { bytesWritten } = await fh.writev(rest, at)
    at += bytesWritten
    // a short write: skip what went out and write the rest
    let i = 0
    while (i < rest.length && bytesWritten >= rest[i].byteLength) bytesWritten -= rest[i++].byteLength
    rest = rest.slice(i)
    if (bytesWritten > 0) rest[0] = rest[0].subarray(bytesWritten)
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
