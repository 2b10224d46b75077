import { open, rename } from 'node:fs/promises'
import { dirname } from 'node:path'
import { crc32 } from 'node:zlib'
import { PraasError } from '../../protocol/errors.js'
import { readFully, syncDir, writeAll, writeAllSync } from './files.js'
import type { FileHandle } from 'node:fs/promises'

/** Each record is framed by its length and its crc32, both u32 big-endian. */
const FRAME_HEAD_BYTES = 8

/** The largest record payload: a 512 MiB replica and room for its names; a longer length is corruption. */
export const MAX_RECORD_BYTES = 512 * 1024 * 1024 + 1024 * 1024

/** Writes of at most this many bytes (the batches of one turn, say) are made on the event loop's thread (files.ts `writeAllSync`). */
const SYNC_WRITE_BYTES = 64 * 1024

/** Replay reads the log this much at a time. */
const READ_AHEAD_BYTES = 4 * 1024 * 1024

/** A record's frame head and its payload: one buffer, or the buffers that make it in order (not joined). */
export function frame (payload: Uint8Array | Uint8Array[]): Uint8Array[] {
  const pieces = Array.isArray(payload) ? payload : [payload]
  let length = 0
  let crc = 0
  for (const piece of pieces) {
    length += piece.byteLength
    crc = crc32(piece, crc)
  }
  if (length > MAX_RECORD_BYTES) throw new PraasError('TOO_LARGE', `replica log record of ${length} bytes`)
  const head = Buffer.allocUnsafe(FRAME_HEAD_BYTES)
  head.writeUInt32BE(length, 0)
  head.writeUInt32BE(crc, 4)
  return [head, ...pieces]
}

export interface ReplicaLogInit {
  /** Called after each write: a sync snapshot of the live records to rewrite the log with, or undefined. */
  compact?: (logBytes: number) => Array<Uint8Array | Uint8Array[]> | undefined
}

/**
 * An append-only file of checksummed records. Appends of one event-loop turn go out in one
 * write; durability waits for `flush`. Replay stops at the first torn or corrupt record and
 * cuts the file there, so a crash mid-write loses only what was not flushed.
 */
export class ReplicaLog {
  private readonly path: string
  private readonly compact?: ReplicaLogInit['compact']
  private fh?: FileHandle
  private position = 0
  /** Framed records to write, or records still to encode (a big copy is encoded when it is written, off its caller's path). */
  private pending: Array<Uint8Array | (() => Uint8Array | Uint8Array[])> = []
  private scheduled = false
  private chain: Promise<void> = Promise.resolve()
  private failure?: Error

  constructor (path: string, init: ReplicaLogInit = {}) {
    this.path = path
    this.compact = init.compact
  }

  /** Hands every intact record to `onRecord` in order; a record it throws on ends the log there. */
  async open (onRecord: (payload: Uint8Array) => void): Promise<void> {
    let fh: FileHandle
    try {
      fh = await open(this.path, 'r+')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      fh = await open(this.path, 'w+')
    }
    this.fh = fh
    const { size } = await fh.stat()
    let buf: Buffer = Buffer.alloc(0)
    let bufAt = 0
    const bytes = async (at: number, n: number): Promise<Buffer | undefined> => {
      if (at < bufAt || at + n > bufAt + buf.byteLength) {
        buf = await readFully(fh, Math.min(Math.max(n, READ_AHEAD_BYTES), size - at), at)
        bufAt = at
      }
      return at + n <= bufAt + buf.byteLength ? buf.subarray(at - bufAt, at - bufAt + n) : undefined
    }

    let at = 0
    while (at < size) {
      const head = await bytes(at, FRAME_HEAD_BYTES)
      if (head == null) break
      const length = head.readUInt32BE(0)
      if (length > MAX_RECORD_BYTES) break
      const payload = await bytes(at + FRAME_HEAD_BYTES, length)
      if (payload == null || crc32(payload) !== head.readUInt32BE(4)) break
      try {
        // a copy, so that values kept from this record do not pin the read-ahead buffer
        onRecord(payload.byteLength < READ_AHEAD_BYTES ? Buffer.from(payload) : payload)
      } catch {
        break
      }
      at += FRAME_HEAD_BYTES + length
    }
    if (at < size) {
      await fh.truncate(at)
      await fh.datasync()
    }
    this.position = at
  }

  /** Why the log stopped writing, if it did (a full or failing disk): nothing appended since is on disk. */
  get failed (): Error | undefined {
    return this.failure
  }

  /**
   * Queues a record, written with the others of this turn: `payload`, or a function that makes
   * it when the write goes out (a record encoded as pieces, say).
   */
  append (payload: Uint8Array | (() => Uint8Array | Uint8Array[])): void {
    if (typeof payload === 'function') this.pending.push(payload)
    else this.pending.push(...frame(payload))
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.enqueue(async () => { await this.writePending() })
    })
  }

  /** Resolves once every record appended so far is on disk and synced. */
  async flush (): Promise<void> {
    this.enqueue(async () => {
      await this.writePending()
      await this.fh?.datasync()
    })
    await this.chain
    if (this.failure != null) throw new PraasError('UNAVAILABLE', `replica log: ${this.failure.message}`)
  }

  async close (): Promise<void> {
    try {
      await this.flush()
    } finally {
      await this.fh?.close()
      this.fh = undefined
    }
  }

  private enqueue (op: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      if (this.failure == null) await op()
    }).catch((err: Error) => { this.failure = err })
  }

  private async writePending (): Promise<void> {
    if (this.fh == null) return
    if (this.pending.length > 0) {
      const buffers = this.pending.flatMap(p => typeof p === 'function' ? frame(p()) : [p])
      this.pending = []
      const bytes = buffers.reduce((n, b) => n + b.byteLength, 0)
      this.position += bytes <= SYNC_WRITE_BYTES ? writeAllSync(this.fh, buffers, this.position) : await writeAll(this.fh, buffers, this.position)
    }
    const snapshot = this.compact?.(this.position)
    if (snapshot != null) {
      // the snapshot already holds whatever was appended while the write above ran
      this.pending = []
      await this.rewrite(snapshot)
    }
  }

  /** Replaces the log with `payloads`: written aside, synced, renamed over the old one. */
  private async rewrite (payloads: Array<Uint8Array | Uint8Array[]>): Promise<void> {
    const tmp = `${this.path}.tmp`
    const fh = await open(tmp, 'w+')
    let size: number
    try {
      size = await writeAll(fh, payloads.flatMap(frame), 0)
      await fh.datasync()
      await rename(tmp, this.path)
    } catch (err) {
      await fh.close()
      throw err
    }
    await syncDir(dirname(this.path))
    await this.fh?.close()
    this.fh = fh
    this.position = size
  }
}
