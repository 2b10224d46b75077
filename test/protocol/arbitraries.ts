import fc from 'fast-check'
import {
  CHUNK_BYTES, CtlRequest, InvokeFrame, MAX_ERROR_MESSAGE_LENGTH, MAX_KEY_LENGTH, MAX_NAME_LENGTH, MAX_PID_LENGTH, MAX_REPLICAS_PUSHING, ProcessStatus, WireErrorCode
} from '../../protocol/index.js'
import type { CtlResponse, ErrorInfo, PeerInfo, ProcessInfo } from '../../protocol/index.js'
import type { AppEntry } from '../../protocol/pb/messages.js'
import { bytes } from './helpers.js'

/** The members of a protons enum (its namespace also holds a `codec` function). */
export function members<T> (enumeration: Record<string, unknown>): T[] {
  return Object.values(enumeration).filter((v) => typeof v === 'string') as T[]
}

const UINT32_MAX = 0xffffffff

/**
 * Strings of at most `max` UTF-16 units (the unit `.length` and the limits count): any Unicode
 * (lone surrogates excluded, as UTF-8 cannot carry them), and ASCII right up to the limit.
 */
export function text (max: number): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ unit: 'binary', maxLength: Math.floor(max / 2) }),
    fc.string({ unit: 'grapheme-ascii', maxLength: max }),
    fc.string({ unit: 'grapheme-ascii', minLength: max, maxLength: max })
  ).filter((s) => s.length <= max)
}

/** Byte strings of up to `max` bytes, biased to the small and to the exact limit. */
export function blob (max: number): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.uint8Array({ maxLength: 64 }) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(max, max - 1, 1), fc.nat()).map(([n, seed]) => bytes(n, seed)) },
    { weight: 1, arbitrary: fc.tuple(fc.nat(max), fc.nat()).map(([n, seed]) => bytes(n, seed)) }
  )
}

export const errorInfo: fc.Arbitrary<ErrorInfo> = fc.record({
  code: fc.constantFrom(...members<WireErrorCode>(WireErrorCode)),
  message: text(MAX_ERROR_MESSAGE_LENGTH)
})

/** Any invoke frame that codec.ts must accept. */
export function invokeFrame (maxChunk = CHUNK_BYTES): fc.Arbitrary<InvokeFrame> {
  return fc.record({
    id: fc.integer({ min: 1, max: UINT32_MAX }),
    kind: fc.constantFrom(...members<InvokeFrame.Kind>(InvokeFrame.Kind)),
    pid: text(MAX_PID_LENGTH),
    fn: text(MAX_NAME_LENGTH),
    timeoutMs: fc.oneof(fc.nat(60_000), fc.integer({ min: 0, max: UINT32_MAX })),
    key: text(MAX_KEY_LENGTH),
    from: text(256),
    chunk: blob(maxChunk),
    extra: fc.oneof(fc.constant(0), fc.nat(1024), fc.integer({ min: 0, max: UINT32_MAX })),
    more: fc.boolean(),
    error: fc.option(errorInfo, { nil: undefined }),
    replicas: fc.array(text(1024), { maxLength: MAX_REPLICAS_PUSHING })
  }).map(({ extra, error, ...rest }) => {
    const frame: InvokeFrame = { ...rest, chunk: rest.chunk as Uint8Array<ArrayBuffer>, size: Math.min(UINT32_MAX, rest.chunk.byteLength + extra) }
    if (error != null) frame.error = error
    return frame
  })
}

export const processInfo: fc.Arbitrary<ProcessInfo> = fc.record({
  pid: text(MAX_PID_LENGTH),
  app: text(MAX_NAME_LENGTH),
  status: fc.constantFrom(...members<ProcessStatus>(ProcessStatus)),
  node: text(256),
  addrs: fc.array(text(1024), { maxLength: 6 })
})

export const peerInfo: fc.Arbitrary<PeerInfo> = fc.record({
  id: text(256),
  addrs: fc.array(text(1024), { maxLength: 6 }),
  load: fc.integer({ min: 0, max: UINT32_MAX })
})

export const ctlRequest: fc.Arbitrary<CtlRequest> = fc.record({
  op: fc.constantFrom(...members<CtlRequest.Op>(CtlRequest.Op)),
  app: text(MAX_NAME_LENGTH),
  source: blob(64 * 1024).map((b) => b as Uint8Array<ArrayBuffer>),
  pid: text(MAX_PID_LENGTH),
  node: text(256),
  local: fc.boolean(),
  hash: text(64),
  term: fc.maxSafeNat(),
  counter: fc.maxSafeNat(),
  suspect: text(256),
  restore: fc.boolean(),
  holder: text(256),
  holders: fc.array(text(256), { maxLength: 4 }),
  allow: fc.array(text(128), { maxLength: 4 }),
  memoryMib: fc.integer({ min: 0, max: UINT32_MAX }),
  cpuMs: fc.integer({ min: 0, max: UINT32_MAX }),
  grant: blob(512).map((b) => b as Uint8Array<ArrayBuffer>),
  owner: text(64),
  serial: fc.maxSafeNat()
})

export const appEntry: fc.Arbitrary<AppEntry> = fc.record({
  name: text(MAX_NAME_LENGTH),
  hash: text(64),
  serial: fc.maxSafeNat(),
  owner: text(256)
})

export const ctlResponse: fc.Arbitrary<CtlResponse> = fc.record({
  error: fc.option(errorInfo, { nil: undefined }),
  processes: fc.array(processInfo, { maxLength: 8 }),
  peers: fc.array(peerInfo, { maxLength: 4 }),
  source: blob(64 * 1024).map((b) => b as Uint8Array<ArrayBuffer>),
  hash: text(64),
  leader: text(256),
  term: fc.maxSafeNat(),
  allow: fc.array(text(128), { maxLength: 4 }),
  memoryMib: fc.integer({ min: 0, max: UINT32_MAX }),
  cpuMs: fc.integer({ min: 0, max: UINT32_MAX }),
  apps: fc.array(appEntry, { maxLength: 4 })
}).map(({ error, ...rest }) => error == null ? rest : { ...rest, error })
