import * as varint from 'uint8-varint'
import { Uint8ArrayList } from 'uint8arraylist'
import { PraasError } from '../../protocol/index.js'
import { IMAGE_CHUNK_BYTES, MAX_IMAGE_CHUNKS } from '../storage/index.js'
import type { AbortOptions, Stream } from '@libp2p/interface'

/** What one send hands to the stream: yamux and Noise frame it further. */
const WRITE_BYTES = 256 * 1024
const ACK = 0

/**
 * Sends chunks of `lengths` on a fresh stream: the count and each length (varints), then the
 * bytes back to back, with back-pressure; resolves when the receiver has taken them all (one ack
 * byte). The bytes come from `body`: the chunks themselves, or any buffers that make the same
 * bytes in order (an image's pieces, storage/image.ts `imagePieces`: no copy into chunks first).
 */
export async function sendChunks (stream: Stream, lengths: number[], body: Uint8Array[], options: AbortOptions = {}): Promise<void> {
  const bodyBytes = body.reduce((n, b) => n + b.byteLength, 0)
  if (bodyBytes !== lengths.reduce((n, l) => n + l, 0)) {
    stream.abort(new PraasError('BAD_REQUEST', 'chunk lengths that do not add up to the body'))
    throw new PraasError('BAD_REQUEST', `${lengths.length} chunks announced, their lengths do not add up to the ${bodyBytes} bytes to send`)
  }
  const head = [lengths.length, ...lengths]
  const header = new Uint8Array(head.reduce((n, v) => n + varint.encodingLength(v), 0))
  let at = 0
  for (const v of head) {
    varint.encodeUint8Array(v, header, at)
    at += varint.encodingLength(v)
  }
  const acked = new Promise<void>((resolve, reject) => {
    stream.addEventListener('message', (evt) => {
      const first = evt.data.byteLength === 0 ? undefined : evt.data instanceof Uint8Array ? evt.data[0] : evt.data.get(0)
      if (first === ACK) resolve(); else reject(new PraasError('BAD_REQUEST', 'the receiver refused the chunks'))
    }, { once: true })
    stream.addEventListener('close', (evt) => { reject(evt.error ?? new PraasError('UNAVAILABLE', 'chunk stream closed before its ack')) }, { once: true })
  })
  acked.catch(() => {})
  try {
    if (!stream.send(header)) await drained(stream, options)
    for (const piece of body) {
      for (let offset = 0; offset < piece.byteLength; offset += WRITE_BYTES) {
        if (!stream.send(piece.subarray(offset, offset + WRITE_BYTES))) await drained(stream, options)
      }
    }
    await raceSignal(acked, options.signal)
    await stream.close(options).catch(() => {})
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw err instanceof PraasError ? err : new PraasError('UNAVAILABLE', `sending chunks: ${(err as Error).message}`)
  }
}

/**
 * Receives the chunks of one `sendChunks` stream, handing each to `onChunk` as it completes
 * (the receiver hashes and keeps it), then acks. Sizes are checked against the image limits and
 * `maxBytes` before anything is buffered; a bad header or a short stream aborts it. The chunks
 * are consecutive views of one buffer, the size the header announced, that the network reads are
 * copied into as they come: the image is rebuilt from them without joining them again.
 */
export function receiveChunks (stream: Stream, onChunk: (chunk: Uint8Array) => void, options: { signal: AbortSignal, maxBytes: number }): void {
  const head = new Uint8ArrayList()
  let lengths: number[] | undefined
  let body: Uint8Array | undefined
  /** Bytes of the body received, and where the chunk being received starts. */
  let filled = 0
  let chunkAt = 0
  let next = 0
  const fail = (err: Error): void => { stream.abort(err) }
  const onAbort = (): void => { fail(new PraasError('TIMEOUT', 'chunk stream took too long')) }
  options.signal.addEventListener('abort', onAbort, { once: true })
  stream.addEventListener('close', () => { options.signal.removeEventListener('abort', onAbort) }, { once: true })
  const take = (bytes: Uint8Array): void => {
    if (body == null || lengths == null) return
    if (filled + bytes.byteLength > body.byteLength) throw new PraasError('BAD_REQUEST', 'bytes after the last chunk')
    body.set(bytes, filled)
    filled += bytes.byteLength
    while (next < lengths.length && filled - chunkAt >= lengths[next]) {
      onChunk(body.subarray(chunkAt, chunkAt + lengths[next]))
      chunkAt += lengths[next]
      next++
    }
  }
  stream.addEventListener('message', (evt) => {
    try {
      if (lengths == null) {
        head.append(evt.data)
        lengths = readHeader(head)
        if (lengths == null) return
        const total = lengths.reduce((a, b) => a + b, 0)
        if (total > options.maxBytes) throw new PraasError('TOO_LARGE', 'an image larger than this node takes now')
        body = Buffer.allocUnsafe(total)
        for (const bytes of head) take(bytes)
      } else if (evt.data instanceof Uint8Array) {
        take(evt.data)
      } else {
        for (const bytes of evt.data) take(bytes)
      }
      if (next === lengths.length) {
        stream.send(Uint8Array.of(ACK))
        void stream.close().catch(() => {})
      }
    } catch (err) {
      fail(err as Error)
    }
  })
}

/** The count and lengths at the head of the stream, once all of them have arrived (and are sane). */
function readHeader (buffer: Uint8ArrayList): number[] | undefined {
  const bytes = buffer.subarray(0, Math.min(buffer.byteLength, (MAX_IMAGE_CHUNKS + 1) * 4))
  const values: number[] = []
  let at = 0
  let count = -1
  while (count < 0 || values.length < count) {
    if (at >= bytes.byteLength) {
      if (bytes.byteLength >= (MAX_IMAGE_CHUNKS + 1) * 4) throw new PraasError('BAD_REQUEST', 'malformed chunk header')
      return undefined
    }
    let value: number
    try {
      value = varint.decodeUint8Array(bytes, at)
    } catch {
      // a varint is at most 10 bytes: with that many here, it is malformed, not incomplete
      if (bytes.byteLength - at >= 10) throw new PraasError('BAD_REQUEST', 'malformed chunk header')
      return undefined
    }
    at += varint.encodingLength(value)
    if (count < 0) {
      if (value < 1 || value > MAX_IMAGE_CHUNKS) throw new PraasError('BAD_REQUEST', `an image of ${value} chunks`)
      count = value
    } else {
      if (value < 1 || value > IMAGE_CHUNK_BYTES) throw new PraasError('BAD_REQUEST', `a chunk of ${value} bytes`)
      values.push(value)
    }
  }
  buffer.consume(at)
  return values
}

async function drained (stream: Stream, options: AbortOptions): Promise<void> {
  options.signal?.throwIfAborted()
  await raceSignal(new Promise<void>((resolve, reject) => {
    const onDrain = (): void => { stream.removeEventListener('close', onClose); resolve() }
    const onClose = (): void => { stream.removeEventListener('drain', onDrain); reject(new PraasError('UNAVAILABLE', 'chunk stream closed')) }
    stream.addEventListener('drain', onDrain, { once: true })
    stream.addEventListener('close', onClose, { once: true })
  }), options.signal)
}

async function raceSignal<T> (promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal == null) return await promise
  signal.throwIfAborted()
  return await new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(new PraasError('TIMEOUT', 'chunk transfer took too long')) }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort) })
  })
}
