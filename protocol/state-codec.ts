import { checkCount } from './codec.js'
import { PraasError } from './errors.js'
import { MAX_BATCHES_PER_CALL, MAX_HOLDERS, MAX_KEY_LENGTH, MAX_NAME_LENGTH, MAX_PID_LENGTH } from './limits.js'
import { ReplicateRequest, ReplicateResponse, StateRequest, WriteBatch } from './pb/state.js'
import { checkForwarded } from './results.js'

export { ReplicateRequest, ReplicateResponse, StateRequest, WriteBatch }
export type { Forward, MailMessage, WriteOp } from './pb/state.js'

/** Writes in one batch, at most (a batch is one commit of one process); as many messages put, and as many taken. */
const MAX_OPS_PER_BATCH = 1_000_000
/** What a batch may hold, per repeated field. */
const BATCH_LIMITS = { ops: MAX_OPS_PER_BATCH, puts: MAX_OPS_PER_BATCH, takes: MAX_OPS_PER_BATCH }
/** A manifest lists a few thousand chunk hashes at most (see node/storage). */
const MAX_MANIFEST_BYTES = 1024 * 1024
/** Chunks one state call may carry inline (a small image's). */
export const MAX_INLINE_CHUNKS = 4

function bad (message: string): PraasError {
  return new PraasError('BAD_REQUEST', message)
}

function decodeWith<T> (what: string, decode: () => T): T {
  try {
    return decode()
  } catch (err) {
    throw bad(`malformed ${what}: ${(err as Error).message}`)
  }
}

function checkBatch (batch: WriteBatch): void {
  if (batch.pid.length === 0 || batch.pid.length > MAX_PID_LENGTH) throw bad('a write batch names a pid of 1 to 128 characters')
  if (batch.app.length > MAX_NAME_LENGTH) throw bad('app name too long')
  if (batch.appHash.length > 64) throw bad('app hash too long')
  for (const op of batch.ops) if (op.key.length > MAX_KEY_LENGTH) throw bad('state key too long')
  for (const m of batch.puts) {
    checkCount(m.id, 'message id')
    if (m.key.length === 0 || m.key.length > MAX_KEY_LENGTH) throw bad('a message key is 1 to 1024 characters')
    if (m.from.length === 0 || m.from.length > MAX_PID_LENGTH) throw bad('a message names its sender')
  }
  for (const id of batch.takes) checkCount(id, 'message id')
  checkCount(batch.term, 'term')
  checkCount(batch.counter, 'counter')
  checkCount(batch.seq, 'batch number')
}

export function decodeReplicateRequest (bytes: Uint8Array): ReplicateRequest {
  const request = decodeWith('replicate request', () => ReplicateRequest.decode(bytes, {
    limits: { batches: MAX_BATCHES_PER_CALL, batches$: BATCH_LIMITS, forwards: MAX_BATCHES_PER_CALL }
  }))
  for (const batch of request.batches) checkBatch(batch)
  for (const forward of request.forwards) {
    if (forward.batch >= request.batches.length) throw bad('a forward of a batch the call does not carry')
    checkForwarded('a forward', forward.client, forward)
  }
  return request
}

/** A probe's answer: which activation and batch of a pid a node holds (a batch without ops). */
export function decodeWriteBatch (bytes: Uint8Array): WriteBatch {
  const batch = decodeWith('write batch', () => WriteBatch.decode(bytes, { limits: BATCH_LIMITS }))
  checkBatch(batch)
  return batch
}

export function decodeReplicateResponse (bytes: Uint8Array, expected: number): ReplicateResponse {
  const response = decodeWith('replicate response', () => ReplicateResponse.decode(bytes, { limits: { results: MAX_BATCHES_PER_CALL } }))
  if (response.results.length !== expected) throw bad(`replicate response has ${response.results.length} results for ${expected} batches`)
  return response
}

export function decodeStateRequest (bytes: Uint8Array): StateRequest {
  const request = decodeWith('state request', () => StateRequest.decode(bytes, { limits: { holders: MAX_HOLDERS, chunks: MAX_INLINE_CHUNKS } }))
  if (request.manifest.byteLength > MAX_MANIFEST_BYTES) throw new PraasError('TOO_LARGE', 'image manifest too large')
  if (request.source.length > 256) throw bad('source node id too long')
  for (const holder of request.holders) if (holder.length > 256) throw bad('holder node id too long')
  for (const [value, what] of [[request.term, 'term'], [request.counter, 'counter'], [request.fromTerm, 'term'], [request.fromCounter, 'counter'], [request.seq, 'batch number']] as const) checkCount(value, what)
  return request
}
