import assert from 'node:assert/strict'
import { streamPair } from '@libp2p/utils'
import { FrameReader, PraasError } from '../../protocol/index.js'
import type { ErrorCode, InvokeFrame, InvokeMessage } from '../../protocol/index.js'
import type { InboundLimits } from '../../protocol/budget.js'
import type { Stream } from '@libp2p/interface'
import type { StreamPairOptions } from '@libp2p/utils'

/** Two ends of one in-memory libp2p stream (a mock muxer over a mock connection). */
export async function pair (options: StreamPairOptions = {}): Promise<[Stream, Stream]> {
  return streamPair(options)
}

/** `length` bytes that differ with `seed`, so a misplaced chunk shows. */
export function bytes (length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length)
  let x = (seed * 2654435761) >>> 0
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}

/** A view usable by assert.deepStrictEqual whatever the Uint8Array subclass or offset. */
export function buf (data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength)
}

export function assertBytesEqual (actual: Uint8Array, expected: Uint8Array, what = 'payload'): void {
  assert.equal(actual.byteLength, expected.byteLength, `${what} length`)
  assert.ok(buf(actual).equals(buf(expected)), `${what} differs`)
}

/** Asserts that `fn` throws (or `promise` rejects with) a PraasError with this code. */
export function assertPraasError (err: unknown, code: ErrorCode): void {
  assert.ok(err instanceof PraasError, `expected a PraasError ${code}, got ${String(err)} (${(err as Error)?.name})`)
  assert.equal(err.code, code, `code of "${err.message}"`)
}

export function throwsCode (fn: () => unknown, code: ErrorCode): void {
  let threw = false
  try {
    fn()
  } catch (err) {
    threw = true
    assertPraasError(err, code)
  }
  assert.ok(threw, `expected ${code}, nothing was thrown`)
}

export async function rejectsCode (promise: Promise<unknown>, code: ErrorCode): Promise<PraasError> {
  try {
    await promise
  } catch (err) {
    assertPraasError(err, code)
    return err as PraasError
  }
  assert.fail(`expected ${code}, the promise resolved`)
}

/** Resolves once `predicate` holds, polling each macrotask; rejects after `ms`. */
export async function until (predicate: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
}

/** Everything a FrameReader reported, in order. */
export interface Recording {
  messages: InvokeMessage[]
  refused: Array<{ head: InvokeFrame, error: PraasError }>
  controls: InvokeFrame[]
  malformed: PraasError[]
  reader: FrameReader
}

export function record (stream: Stream, limits?: InboundLimits): Recording {
  const rec: Omit<Recording, 'reader'> = { messages: [], refused: [], controls: [], malformed: [] }
  const reader = new FrameReader(stream, {
    onMessage: (message) => { rec.messages.push(message) },
    onRefused: (head, error) => { rec.refused.push({ head, error }) },
    onControl: (frame) => { rec.controls.push(frame) },
    onMalformed: (error) => { rec.malformed.push(error) }
  }, limits)
  return { ...rec, reader }
}

/** Resolves with the close event's error (undefined for a clean close). */
export async function closed (stream: Stream): Promise<Error | undefined> {
  if (stream.status !== 'open') return undefined
  return new Promise((resolve) => {
    stream.addEventListener('close', (evt) => { resolve(evt.error) }, { once: true })
  })
}
