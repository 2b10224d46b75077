import assert from 'node:assert/strict'
import vm from 'node:vm'
import fc from 'fast-check'
import * as varint from 'uint8-varint'
import { Uint8ArrayList } from 'uint8arraylist'
import {
  CHUNK_BYTES, CtlRequest, decodeCtlRequest, decodeCtlResponse, decodeInvokeFrame, encodeCtlRequest, encodeCtlResponse,
  encodeInvokeFrame, InvokeFrame, MAX_APP_SOURCE_BYTES, MAX_ERROR_MESSAGE_LENGTH, MAX_NAME_LENGTH, MAX_PID_LENGTH,
  PraasError, ProcessStatus, WireErrorCode
} from '../../protocol/index.js'
import { ctlRequest, ctlResponse, invokeFrame, members } from './arbitraries.js'
import type { CtlResponse, ErrorInfo, ProcessInfo } from '../../protocol/index.js'

/** A decode that loops forever must fail the test, not freeze it: run it under a vm time limit. */
const context = vm.createContext({ run: (): unknown => undefined })
const runScript = new vm.Script('run()')
function withinTimeLimit<T> (fn: () => T, ms = 1000): T {
  context.run = fn
  return runScript.runInContext(context, { timeout: ms }) as T
}

const isUint32 = (n: unknown): boolean => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= 0xffffffff
const within = (s: unknown, max: number): boolean => typeof s === 'string' && s.length <= max
const validError = (e: ErrorInfo | undefined): boolean =>
  e == null || (members<string>(WireErrorCode).includes(e.code) && within(e.message, MAX_ERROR_MESSAGE_LENGTH))
const validProcess = (p: ProcessInfo): boolean => within(p.pid, MAX_PID_LENGTH) && within(p.app, MAX_NAME_LENGTH) &&
  within(p.node, 256) && members<string>(ProcessStatus).includes(p.status) && p.addrs.length <= 64 && p.addrs.every((a) => within(a, 1024))

function validFrame (f: InvokeFrame): boolean {
  return isUint32(f.id) && f.id !== 0 && members<string>(InvokeFrame.Kind).includes(f.kind) && within(f.pid, MAX_PID_LENGTH) &&
    within(f.fn, MAX_NAME_LENGTH) && isUint32(f.timeoutMs) && isUint32(f.size) && f.chunk instanceof Uint8Array &&
    f.chunk.byteLength <= CHUNK_BYTES && f.chunk.byteLength <= f.size && typeof f.more === 'boolean' && validError(f.error)
}

function validRequest (r: CtlRequest): boolean {
  return members<string>(CtlRequest.Op).includes(r.op) && within(r.app, MAX_NAME_LENGTH) && within(r.pid, MAX_PID_LENGTH) &&
    within(r.node, 256) && within(r.hash, 64) && typeof r.local === 'boolean' && r.source.byteLength <= MAX_APP_SOURCE_BYTES
}

function validResponse (r: CtlResponse): boolean {
  return validError(r.error) && r.processes.every(validProcess) && within(r.hash, 64) && r.source.byteLength <= MAX_APP_SOURCE_BYTES &&
    r.peers.every((p) => within(p.id, 256) && p.addrs.length <= 64 && p.addrs.every((a) => within(a, 1024)) && isUint32(p.load))
}

interface Codec<T> { name: string, decode(bytes: Uint8Array | Uint8ArrayList): T, encode(value: T): Uint8Array, valid(value: T): boolean }

const codecs: Array<Codec<any>> = [
  { name: 'decodeInvokeFrame', decode: decodeInvokeFrame, encode: encodeInvokeFrame, valid: validFrame },
  { name: 'decodeCtlRequest', decode: decodeCtlRequest, encode: encodeCtlRequest, valid: validRequest },
  { name: 'decodeCtlResponse', decode: decodeCtlResponse, encode: encodeCtlResponse, valid: validResponse }
]

/**
 * The whole contract of a decoder facing hostile bytes: it returns a message that passes
 * validation (and re-encodes to itself), or throws a PraasError BAD_REQUEST / TOO_LARGE.
 */
function checkOutcome<T> (codec: Codec<T>, input: Uint8Array | Uint8ArrayList): void {
  let decoded: T
  try {
    decoded = withinTimeLimit(() => codec.decode(input))
  } catch (err) {
    assert.ok(err instanceof PraasError, `${codec.name} threw ${(err as Error)?.name}: ${(err as Error)?.message}`)
    assert.ok(err.code === 'BAD_REQUEST' || err.code === 'TOO_LARGE', `${codec.name} threw code ${err.code}`)
    return
  }
  assert.ok(codec.valid(decoded), `${codec.name} returned an invalid message`)
  assert.deepStrictEqual(codec.decode(codec.encode(decoded)), codec.decode(codec.encode(codec.decode(codec.encode(decoded)))))
}

/** Protobuf-shaped noise: plausible tags with any wire type, followed by arbitrary bodies. */
const fieldSoup = fc.array(fc.tuple(fc.nat(12), fc.nat(7), fc.uint8Array({ maxLength: 24 }), fc.boolean()), { maxLength: 12 })
  .map((fields) => {
    const parts: number[] = []
    for (const [field, wire, body, lengthPrefixed] of fields) {
      parts.push(...varint.encode(field * 8 + wire))
      if (lengthPrefixed) parts.push(...varint.encode(body.byteLength))
      parts.push(...body)
    }
    return Uint8Array.from(parts)
  })

type Mutation =
  | { op: 'flip', at: number, bit: number }
  | { op: 'set', at: number, value: number }
  | { op: 'truncate', at: number }
  | { op: 'insert', at: number, bytes: Uint8Array }
  | { op: 'delete', at: number, length: number }

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0x00, 0x7f, 0x80, 0xff, 0x0a, 0x12) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) })
)

function mutate (original: Uint8Array, mutations: Mutation[]): Uint8Array {
  let data = Uint8Array.from(original)
  for (const m of mutations) {
    const at = data.byteLength === 0 ? 0 : m.at % data.byteLength
    if (m.op === 'flip' && data.byteLength > 0) data[at] ^= 1 << m.bit
    if (m.op === 'set' && data.byteLength > 0) data[at] = m.value
    if (m.op === 'truncate') data = data.subarray(0, at)
    if (m.op === 'insert') data = Uint8Array.from([...data.subarray(0, at), ...m.bytes, ...data.subarray(at)])
    if (m.op === 'delete') data = Uint8Array.from([...data.subarray(0, at), ...data.subarray(at + m.length)])
  }
  return data
}

const mutations = fc.array(mutation, { minLength: 1, maxLength: 4 })
const valid = { decodeInvokeFrame: invokeFrame(256), decodeCtlRequest: ctlRequest, decodeCtlResponse: ctlResponse }

describe('protocol/codec against hostile bytes', () => {
  for (const codec of codecs) {
    describe(codec.name, () => {
      it('only ever returns a valid message or throws BAD_REQUEST / TOO_LARGE for random bytes', () => {
        fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => { checkOutcome(codec, bytes) }), { numRuns: 500 })
      })

      it('only ever returns a valid message or throws BAD_REQUEST / TOO_LARGE for protobuf-shaped noise', () => {
        fc.assert(fc.property(fieldSoup, (bytes) => { checkOutcome(codec, bytes) }), { numRuns: 500 })
      })

      it('only ever returns a valid message or throws BAD_REQUEST / TOO_LARGE for mutated valid encodings', () => {
        const arbitrary = valid[codec.name as keyof typeof valid] as fc.Arbitrary<unknown>
        fc.assert(fc.property(arbitrary, mutations, fc.nat(), (message, ops, cut) => {
          const bytes = mutate(codec.encode(message), ops)
          checkOutcome(codec, bytes)
          const at = bytes.byteLength === 0 ? 0 : cut % bytes.byteLength
          checkOutcome(codec, new Uint8ArrayList(bytes.subarray(0, at), bytes.subarray(at)))
        }), { numRuns: 250 })
      })
    })
  }

  it('detects a decoder that hangs instead of freezing the test run', () => {
    assert.throws(() => withinTimeLimit(() => { for (;;) { /* spins until the limit stops it */ } }, 50), { code: 'ERR_SCRIPT_EXECUTION_TIMEOUT' })
  })
})
