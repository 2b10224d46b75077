import * as varint from 'uint8-varint'
import type { Uint8ArrayList } from 'uint8arraylist'
import { PraasError } from './errors.js'
import {
  CHUNK_BYTES, MAX_APP_SOURCE_BYTES, MAX_HOLDERS, MAX_KEY_LENGTH, MAX_ERROR_MESSAGE_LENGTH, MAX_LIST_ENTRIES, MAX_NAME_LENGTH, MAX_PID_LENGTH, MAX_REPLICAS_PUSHING
} from './limits.js'
import { CtlRequest, CtlResponse, InvokeFrame, ProcessStatus } from './pb/messages.js'
import type { ErrorInfo, ProcessInfo } from './pb/messages.js'

/**
 * Prefixes an encoded message with its length (unsigned varint) in one buffer: each buffer
 * handed to a stream becomes its own yamux frame, Noise frame and socket write, so one buffer
 * per message is measurably faster than a prefix and a body, and the copy costs less.
 */
export function lengthPrefixed (encoded: Uint8Array): Uint8Array {
  const prefix = varint.encodingLength(encoded.byteLength)
  const out = new Uint8Array(prefix + encoded.byteLength)
  varint.encodeUint8Array(encoded.byteLength, out, 0)
  out.set(encoded, prefix)
  return out
}

function bad (message: string): PraasError {
  return new PraasError('BAD_REQUEST', message)
}

function checkString (value: string, max: number, what: string): void {
  if (value.length > max) throw bad(`${what} is longer than ${max} characters`)
}

/** Terms, counters and sequence numbers: uint64 on the wire, and a safe integer to be used here. */
export function checkCount (value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw bad(`${what} is not an integer from 0 to 2^53 - 1`)
}

function checkError (error: ErrorInfo | undefined): void {
  if (error != null) checkString(error.message, MAX_ERROR_MESSAGE_LENGTH, 'error message')
}

function decodeWith<T> (what: string, decode: () => T): T {
  try {
    return decode()
  } catch (err) {
    throw bad(`malformed ${what}: ${(err as Error).message}`)
  }
}

/** An invoke frame to encode: payload chunks may view any buffer, shared ones included. */
export type InvokeFrameInit = Omit<Partial<InvokeFrame>, 'chunk'> & { chunk?: Uint8Array }

export function encodeInvokeFrame (frame: InvokeFrameInit): Uint8Array {
  return InvokeFrame.encode(frame as Partial<InvokeFrame>)
}

/** Decodes and validates one invoke frame; anything malformed is a BAD_REQUEST PraasError. */
export function decodeInvokeFrame (bytes: Uint8Array | Uint8ArrayList): InvokeFrame {
  const frame = decodeWith('invoke frame', () => InvokeFrame.decode(bytes, { limits: { replicas: MAX_REPLICAS_PUSHING } }))
  if (frame.id === 0) throw bad('invoke frame without a request id')
  checkString(frame.pid, MAX_PID_LENGTH, 'pid')
  checkString(frame.fn, MAX_NAME_LENGTH, 'function name')
  checkString(frame.key, MAX_KEY_LENGTH, 'key')
  checkString(frame.from, 256, 'sender')
  if (frame.chunk.byteLength > CHUNK_BYTES) throw bad(`chunk of ${frame.chunk.byteLength} bytes exceeds ${CHUNK_BYTES}`)
  if (frame.chunk.byteLength > frame.size) throw bad('chunk is larger than the declared size')
  checkError(frame.error)
  for (const addr of frame.replicas) checkString(addr, 1024, 'replica address')
  return frame
}

export function encodeCtlRequest (request: Partial<CtlRequest>): Uint8Array {
  return CtlRequest.encode(request)
}

function checkProcess (info: ProcessInfo): void {
  checkString(info.pid, MAX_PID_LENGTH, 'pid')
  checkString(info.app, MAX_NAME_LENGTH, 'app name')
  checkString(info.node, 256, 'node id')
  if (info.addrs.length > 64) throw bad('too many addresses')
  for (const addr of info.addrs) checkString(addr, 1024, 'address')
}

/** Decodes and validates a control request. */
export function decodeCtlRequest (bytes: Uint8Array | Uint8ArrayList): CtlRequest {
  const request = decodeWith('control request', () => CtlRequest.decode(bytes, { limits: { holders: MAX_HOLDERS } }))
  checkString(request.app, MAX_NAME_LENGTH, 'app name')
  checkString(request.suspect, 256, 'suspect node id')
  checkString(request.holder, 256, 'holder node id')
  for (const holder of request.holders) checkString(holder, 256, 'holder node id')
  checkString(request.pid, MAX_PID_LENGTH, 'pid')
  checkString(request.node, 256, 'node id')
  checkString(request.hash, 64, 'hash')
  checkCount(request.term, 'term')
  checkCount(request.counter, 'counter')
  checkCount(request.serial, 'deploy serial')
  checkString(request.owner, 256, 'owner')
  if (request.source.byteLength > MAX_APP_SOURCE_BYTES) throw new PraasError('TOO_LARGE', 'app source exceeds the limit')
  return request
}

export function encodeCtlResponse (response: Partial<CtlResponse>): Uint8Array {
  return CtlResponse.encode(response)
}

/** Decodes and validates a control response. */
export function decodeCtlResponse (bytes: Uint8Array | Uint8ArrayList): CtlResponse {
  const response = decodeWith('control response', () => CtlResponse.decode(bytes, {
    limits: { processes: MAX_LIST_ENTRIES, peers: 4096, apps: MAX_LIST_ENTRIES }
  }))
  checkError(response.error)
  for (const info of response.processes) checkProcess(info)
  for (const peer of response.peers) checkProcess({ pid: '-', app: '-', status: ProcessStatus.ACTIVE, node: peer.id, addrs: peer.addrs })
  for (const app of response.apps) {
    checkString(app.name, MAX_NAME_LENGTH, 'app name')
    checkString(app.hash, 64, 'hash')
    checkCount(app.serial, 'deploy serial')
    checkString(app.owner, 256, 'owner')
  }
  checkString(response.hash, 64, 'hash')
  checkString(response.leader, 256, 'leader')
  checkCount(response.term, 'term')
  if (response.source.byteLength > MAX_APP_SOURCE_BYTES) throw new PraasError('TOO_LARGE', 'app source exceeds the limit')
  return response
}

/** Bytes in, bytes out: strings are UTF-8, nothing else is accepted as a payload. */
export function toBytes (data: Uint8Array | string | undefined | null): Uint8Array {
  if (data == null) return new Uint8Array(0)
  if (typeof data === 'string') return new TextEncoder().encode(data)
  if (data instanceof Uint8Array) return data
  throw bad('payloads are Uint8Array or string')
}

/** A pid is any string of 1 to 128 characters. */
export function checkPid (pid: unknown): asserts pid is string {
  if (typeof pid !== 'string' || pid.length === 0 || pid.length > MAX_PID_LENGTH) {
    throw bad(`a pid is a string of 1 to ${MAX_PID_LENGTH} characters`)
  }
}

/**
 * App and function names: 1 to 128 characters of letters, digits, `_`, `$`, `-` and `.`, the
 * first a letter, a digit, `_` or `$` (so that no name is `.`, `..` or looks like an option).
 */
export function checkName (name: unknown, what: string): asserts name is string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_$][A-Za-z0-9_.$-]{0,127}$/.test(name)) {
    throw bad(`${what} must be 1 to ${MAX_NAME_LENGTH} characters of letters, digits, '_', '$', '-' or '.', starting with a letter, a digit, '_' or '$'`)
  }
}

/** State and mailbox keys: 1 to 1024 characters. */
export function checkKey (key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw bad(`a key is a string of 1 to ${MAX_KEY_LENGTH} characters`)
  }
}
