import { createHash } from 'node:crypto'
import * as varint from 'uint8-varint'
import { PraasError } from '../../protocol/errors.js'
import { MAX_GRANT_BYTES } from '../../protocol/grant.js'
import { MAX_NAME_LENGTH, MAX_PID_LENGTH } from '../../protocol/limits.js'
import { ImageManifest as WireManifest } from '../../protocol/pb/storage.js'
import type { ActivationEpoch } from '../../protocol/location.js'

export type { ActivationEpoch }

/** An unread mailbox message, as a swap image keeps it. */
export interface StoredMessage {
  /** Its number in the process's mailbox: unique within the process, growing in arrival order. */
  id: number
  key: string
  from: string
  data: Uint8Array
}

/** Which process, running which app, as of which write: what images, manifests and batches all carry. */
export interface ProcessVersion {
  /** Any string of 1 to 128 characters. */
  pid: string
  app: string
  /** Hex sha256 of the app source, or empty. */
  appHash: string
  epoch: ActivationEpoch
  /** The last write batch included. */
  seq: number
}

/** Everything a process needs to resume elsewhere: its state and its unread mail. */
export interface ProcessImage extends ProcessVersion {
  state: Map<string, Uint8Array>
  /** Unread mailbox messages, in arrival order (by id). */
  messages: StoredMessage[]
}

/** A swap image's table of contents: the image's identity and the sha256 of each chunk. */
export interface ImageManifest extends ProcessVersion {
  /** Total bytes of all chunks. */
  size: number
  /** Hex sha256 of each chunk, in order. */
  chunks: string[]
  /** How the body is laid out: IMAGE_FORMAT (messages with their ids), or 0 (without; written before ids existed). */
  format?: number
}

/** The body layout `imagePieces` writes: each message starts with its id. */
export const IMAGE_FORMAT = 1

/** Images travel and rest in chunks of this size (the last one may be shorter). */
export const IMAGE_CHUNK_BYTES = 1024 * 1024

/** The largest image: 1 GiB of chunks. */
export const MAX_IMAGE_CHUNKS = 1024

/** The largest encoded manifest (1024 hashes and the names fit in well under this). */
export const MAX_MANIFEST_BYTES = 64 * 1024

const HEX_SHA256 = /^[0-9a-f]{64}$/
const utf8 = new TextDecoder('utf-8', { fatal: true })

function corrupt (message: string): PraasError {
  return new PraasError('BAD_REQUEST', `corrupt swap image: ${message}`)
}

export function sha256 (data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

/** Orders two image versions: by epoch term, then epoch counter, then seq. */
export function compareVersion (a: Pick<ProcessVersion, 'epoch' | 'seq'>, b: Pick<ProcessVersion, 'epoch' | 'seq'>): number {
  return compareEpoch(a.epoch, b.epoch) || Math.sign(a.seq - b.seq)
}

export function compareEpoch (a: ActivationEpoch, b: ActivationEpoch): number {
  return Math.sign(a.term - b.term) || Math.sign(a.counter - b.counter)
}

/** Throws BAD_REQUEST unless `chunk` hashes to `hash`. */
export function checkChunk (hash: string, chunk: Uint8Array): void {
  if (sha256(chunk) !== hash) throw corrupt('a chunk does not match its sha256')
}

function isCount (n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0
}

/** Checks what a manifest states about itself; the chunks are checked against it later. */
export function checkManifest (m: ImageManifest): void {
  if (typeof m.pid !== 'string' || m.pid.length === 0 || m.pid.length > MAX_PID_LENGTH) throw corrupt('pid length')
  if (typeof m.app !== 'string' || m.app.length > MAX_NAME_LENGTH) throw corrupt('app name')
  if (m.appHash !== '' && !HEX_SHA256.test(m.appHash)) throw corrupt('app hash')
  if (!isCount(m.epoch?.term) || !isCount(m.epoch.counter) || !isCount(m.seq)) throw corrupt('epoch or seq')
  if (m.epoch.grant != null && m.epoch.grant.byteLength > MAX_GRANT_BYTES) throw corrupt('grant too large')
  if (!isCount(m.size) || m.size === 0) throw corrupt('size')
  if (m.format != null && m.format !== 0 && m.format !== IMAGE_FORMAT) throw corrupt(`unknown body format ${m.format}`)
  if (!Array.isArray(m.chunks) || m.chunks.length > MAX_IMAGE_CHUNKS) throw corrupt('too many chunks')
  if (m.chunks.length !== Math.ceil(m.size / IMAGE_CHUNK_BYTES)) throw corrupt('size does not match the chunk count')
  for (const hash of m.chunks) {
    if (typeof hash !== 'string' || !HEX_SHA256.test(hash)) throw corrupt('chunk hash')
  }
}

export function encodeManifest (m: ImageManifest): Uint8Array {
  checkManifest(m)
  return WireManifest.encode({
    pid: m.pid,
    app: m.app,
    appHash: m.appHash,
    term: m.epoch.term,
    counter: m.epoch.counter,
    seq: m.seq,
    size: m.size,
    chunks: m.chunks.map((hash) => Buffer.from(hash, 'hex')),
    format: m.format ?? 0,
    grant: m.epoch.grant as Uint8Array<ArrayBuffer> | undefined
  })
}

export function decodeManifest (bytes: Uint8Array): ImageManifest {
  if (bytes.byteLength > MAX_MANIFEST_BYTES) throw corrupt('manifest too long')
  let wire: WireManifest
  try {
    wire = WireManifest.decode(bytes, { limits: { chunks: MAX_IMAGE_CHUNKS } })
  } catch (err) {
    throw corrupt(`manifest: ${(err as Error).message}`)
  }
  if (wire.chunks.some((hash) => hash.byteLength !== 32)) throw corrupt('chunk hash length')
  const manifest: ImageManifest = {
    pid: wire.pid,
    app: wire.app,
    appHash: wire.appHash,
    // the grant in bytes of its own, not a view that keeps the whole read buffer
    epoch: wire.grant.byteLength > 0 ? { term: wire.term, counter: wire.counter, grant: new Uint8Array(wire.grant) } : { term: wire.term, counter: wire.counter },
    seq: wire.seq,
    size: wire.size,
    chunks: wire.chunks.map((hash) => Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString('hex')),
    format: wire.format
  }
  checkManifest(manifest)
  return manifest
}

/** Values at least this big stay where they are in `imagePieces`; smaller ones are packed between the prefixes. */
const PIECE_MIN_BYTES = 16 * 1024

/** An image's serialized bytes as a list of pieces (see `imagePieces`), and its manifest without the chunk hashes. */
export interface ImagePieces {
  head: ProcessVersion & { size: number, format: number }
  pieces: Uint8Array[]
}

/**
 * Serializes an image (varint-prefixed keys, values and messages, each message after its id as a
 * varint: IMAGE_FORMAT) as the pieces it is made of:
 * every value or message of PIECE_MIN_BYTES or more is a piece by itself, the very bytes the
 * process holds, not a copy; the prefixes and the small values between them are packed into one
 * buffer, cut where a big value stands. Written in order the pieces are the image's bytes, which
 * `chunksOf` cuts into chunks. Storing a swapped process this way writes its state to disk
 * straight from where it lives: no 64 MiB copy (fresh pages cost as much as the disk write here).
 * The values must stay unchanged while the pieces are in use (a state value is never changed in
 * place: a put stores a new one).
 */
export function imagePieces (image: ProcessImage): ImagePieces {
  const keys: Buffer[] = []
  let size = varint.encodingLength(image.state.size) + varint.encodingLength(image.messages.length)
  let packedSize = size
  const add = (bytes: Uint8Array): void => {
    const prefixed = varint.encodingLength(bytes.byteLength) + bytes.byteLength
    size += prefixed
    packedSize += bytes.byteLength >= PIECE_MIN_BYTES ? prefixed - bytes.byteLength : prefixed
  }
  for (const [key, value] of image.state) {
    const k = Buffer.from(key, 'utf8')
    keys.push(k)
    add(k)
    add(value)
  }
  const fields: Buffer[] = []
  for (const m of image.messages) {
    const idLength = varint.encodingLength(m.id)
    size += idLength
    packedSize += idLength
    const k = Buffer.from(m.key, 'utf8')
    const f = Buffer.from(m.from, 'utf8')
    fields.push(k, f)
    add(k)
    add(f)
    add(m.data)
  }
  if (size > MAX_IMAGE_CHUNKS * IMAGE_CHUNK_BYTES) throw new PraasError('TOO_LARGE', `swap image of ${size} bytes`)

  const packed = Buffer.allocUnsafe(packedSize)
  const pieces: Uint8Array[] = []
  let at = 0
  let runStart = 0
  const count = (n: number): void => {
    varint.encodeUint8Array(n, packed, at)
    at += varint.encodingLength(n)
  }
  const put = (bytes: Uint8Array): void => {
    count(bytes.byteLength)
    if (bytes.byteLength < PIECE_MIN_BYTES) {
      packed.set(bytes, at)
      at += bytes.byteLength
      return
    }
    pieces.push(packed.subarray(runStart, at), bytes)
    runStart = at
  }
  count(image.state.size)
  let i = 0
  for (const value of image.state.values()) {
    put(keys[i++])
    put(value)
  }
  count(image.messages.length)
  i = 0
  for (const m of image.messages) {
    count(m.id)
    put(fields[i++])
    put(fields[i++])
    put(m.data)
  }
  if (at > runStart) pieces.push(packed.subarray(runStart, at))
  const { term, counter, grant } = image.epoch
  const head = { pid: image.pid, app: image.app, appHash: image.appHash, epoch: grant == null ? { term, counter } : { term, counter, grant }, seq: image.seq, size, format: IMAGE_FORMAT }
  return { head, pieces: pieces.filter(p => p.byteLength > 0) }
}

/** The lengths of the chunks an image of `size` bytes is cut into. */
export function chunkLengths (size: number): number[] {
  return Array.from({ length: Math.ceil(size / IMAGE_CHUNK_BYTES) }, (_, i) => Math.min(IMAGE_CHUNK_BYTES, size - i * IMAGE_CHUNK_BYTES))
}

/** The image's bytes in one buffer (a copy of the pieces), cut into chunks that are views of it. */
export function chunksOf ({ pieces, head }: ImagePieces): Uint8Array[] {
  const body = Buffer.concat(pieces, head.size)
  let from = 0
  return chunkLengths(head.size).map(length => {
    const piece = body.subarray(from, from + length)
    from += length
    return piece
  })
}

/**
 * Serializes an image into one buffer and cuts it into chunks that are views of that buffer:
 * values are copied once. The chunks are not hashed yet (see `hashChunks`).
 */
export function serializeImage (image: ProcessImage): { head: ImagePieces['head'], chunks: Uint8Array[] } {
  const pieces = imagePieces(image)
  return { head: pieces.head, chunks: chunksOf(pieces) }
}

/** Serializes and hashes an image on this thread (for small images and tests). */
export function imageToChunks (image: ProcessImage): { manifest: ImageManifest, chunks: Uint8Array[] } {
  const { head, chunks } = serializeImage(image)
  const manifest: ImageManifest = { ...head, chunks: chunks.map(sha256) }
  checkManifest(manifest)
  return { manifest, chunks }
}

/** The hex sha256 of one chunk, computed off the event loop (WebCrypto runs on libuv's pool). */
export async function hashChunk (chunk: Uint8Array): Promise<string> {
  return Buffer.from(await crypto.subtle.digest('SHA-256', chunk as Uint8Array<ArrayBuffer>)).toString('hex')
}

/**
 * The chunks that the bytes of `pieces` make in order (see `imagePieces`), each as the views of
 * the pieces it spans; BAD_REQUEST when the pieces make fewer or more than `size` bytes.
 */
function * chunkParts (pieces: Uint8Array[], size: number): Generator<Uint8Array[]> {
  let piece = 0
  let within = 0
  for (const length of chunkLengths(size)) {
    const parts: Uint8Array[] = []
    for (let filled = 0; filled < length;) {
      while (piece < pieces.length && within === pieces[piece].byteLength) { piece++; within = 0 }
      if (piece >= pieces.length) throw new PraasError('BAD_REQUEST', `the pieces of an image of ${size} bytes are too short`)
      const take = Math.min(length - filled, pieces[piece].byteLength - within)
      parts.push(pieces[piece].subarray(within, within + take))
      filled += take
      within += take
    }
    yield parts
  }
  if (pieces.slice(piece).some((p, i) => p.byteLength > (i === 0 ? within : 0))) throw new PraasError('BAD_REQUEST', `the pieces of an image of ${size} bytes are too long`)
}

/**
 * The chunk hashes of the bytes that `pieces` make, off the event loop (WebCrypto on libuv's
 * pool): the way when this thread is busy otherwise (sending the image: Noise runs here). A
 * chunk that spans pieces is gathered into one scratch buffer first; WebCrypto copies its input
 * when it is called, so the next chunk may reuse it at once.
 */
export async function hashPiecesOffThread (pieces: Uint8Array[], size: number): Promise<string[]> {
  const scratch = new Uint8Array(Math.min(IMAGE_CHUNK_BYTES, size))
  const digests: Array<Promise<string>> = []
  for (const parts of chunkParts(pieces, size)) {
    if (parts.length === 1) {
      digests.push(hashChunk(parts[0]))
      continue
    }
    let at = 0
    for (const part of parts) {
      scratch.set(part, at)
      at += part.byteLength
    }
    digests.push(hashChunk(scratch.subarray(0, at)))
  }
  return await Promise.all(digests)
}

/** Chunks hashed per slice of `hashPiecesBeside` before it yields to the event loop (about 4 ms). */
const HASH_SLICE_CHUNKS = 4

/**
 * The chunk hashes of the bytes that `pieces` make, on this thread, a few chunks at a time
 * between turns of the event loop: the way beside disk I/O. WebCrypto's digests run on libuv's
 * pool, where they hold up file operations queued behind them (a swap's file was opened only
 * after all of its 64 chunk digests), and on 2 cores they are no faster.
 */
export async function hashPiecesBeside (pieces: Uint8Array[], size: number): Promise<string[]> {
  const hashes: string[] = []
  for (const parts of chunkParts(pieces, size)) {
    if (hashes.length > 0 && hashes.length % HASH_SLICE_CHUNKS === 0) await new Promise(resolve => setImmediate(resolve))
    const hash = createHash('sha256')
    for (const part of parts) hash.update(part)
    hashes.push(hash.digest('hex'))
  }
  return hashes
}

/** The chunks as one buffer, without a copy when they are consecutive views of one already. */
function join (chunks: Uint8Array[], size: number): Uint8Array {
  const first = chunks[0]
  let end = first.byteOffset
  const contiguous = chunks.every((c) => {
    const ok = c.buffer === first.buffer && c.byteOffset === end
    end += c.byteLength
    return ok
  })
  if (contiguous) return new Uint8Array(first.buffer, first.byteOffset, size)
  return Buffer.concat(chunks, size)
}

/**
 * Throws BAD_REQUEST unless `chunks` are exactly the ones `manifest` names: count, lengths and
 * hashes (`hashed`: each chunk was checked against its hash already, as it arrived).
 */
export function checkChunks (manifest: ImageManifest, chunks: Uint8Array[], hashed = false): void {
  checkManifest(manifest)
  if (chunks.length !== manifest.chunks.length) throw corrupt(`${chunks.length} chunks, the manifest names ${manifest.chunks.length}`)
  chunks.forEach((chunk, i) => {
    const expected = i < chunks.length - 1 ? IMAGE_CHUNK_BYTES : manifest.size - i * IMAGE_CHUNK_BYTES
    if (chunk.byteLength !== expected) throw corrupt(`chunk ${i} has ${chunk.byteLength} bytes, not ${expected}`)
    if (!hashed) checkChunk(manifest.chunks[i], chunk)
  })
}

/** Rebuilds an image from its manifest and chunks, checking every chunk (unless `hashed`: checked on arrival) and every length. */
export function imageFromChunks (manifest: ImageManifest, chunks: Uint8Array[], hashed = false): ProcessImage {
  checkChunks(manifest, chunks, hashed)
  const body = join(chunks, manifest.size)

  let at = 0
  const count = (): number => {
    if (at >= body.byteLength) throw corrupt('truncated body')
    let n: number
    try {
      n = varint.decodeUint8Array(body, at)
    } catch {
      throw corrupt('bad length prefix')
    }
    at += varint.encodingLength(n)
    if (n > body.byteLength - at) throw corrupt('a length runs past the end')
    return n
  }
  const idAt = (): number => {
    if (at >= body.byteLength) throw corrupt('truncated body')
    let n: number
    try {
      n = varint.decodeUint8Array(body, at)
    } catch {
      throw corrupt('bad message id')
    }
    at += varint.encodingLength(n)
    if (!isCount(n)) throw corrupt('bad message id')
    return n
  }
  const bytes = (): Uint8Array => {
    const n = count()
    at += n
    return body.subarray(at - n, at)
  }
  const text = (): string => {
    try {
      return utf8.decode(bytes())
    } catch {
      throw corrupt('a key is not utf-8')
    }
  }

  const state = new Map<string, Uint8Array>()
  for (let n = count(); n > 0; n--) {
    const key = text()
    if (state.has(key)) throw corrupt('a key appears twice')
    state.set(key, bytes())
  }
  const messages: StoredMessage[] = []
  const numbered = manifest.format === IMAGE_FORMAT
  const ids = new Set<number>()
  for (let n = count(), i = 1; n > 0; n--, i++) {
    // an image of before messages were numbered: they are numbered in order
    const id = numbered ? idAt() : i
    if (ids.has(id)) throw corrupt('a message id appears twice')
    ids.add(id)
    messages.push({ id, key: text(), from: text(), data: bytes() })
  }
  if (at !== body.byteLength) throw corrupt('bytes after the body')
  return {
    pid: manifest.pid,
    app: manifest.app,
    appHash: manifest.appHash,
    epoch: { term: manifest.epoch.term, counter: manifest.epoch.counter },
    seq: manifest.seq,
    state,
    messages
  }
}
