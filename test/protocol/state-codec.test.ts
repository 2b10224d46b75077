import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  MAX_HOLDERS, MAX_INLINE_CHUNKS, MAX_KEY_LENGTH, MAX_PID_LENGTH, ReplicateRequest, ReplicateResponse, StateRequest, WriteBatch,
  decodeReplicateRequest, decodeReplicateResponse, decodeStateRequest, decodeWriteBatch, encodePushedResult, MAX_FORWARDED_RESULT_BYTES, MAX_REPLICAS_PUSHING, readPushedResults
} from '../../protocol/index.js'
import type { Forward, PushedResult } from '../../protocol/index.js'
import { text } from './arbitraries.js'
import { buf, throwsCode } from './helpers.js'

const UINT32_MAX = 0xffffffff

const writeBatch: fc.Arbitrary<WriteBatch> = fc.record({
  pid: text(MAX_PID_LENGTH).filter(s => s.length > 0),
  app: text(128),
  appHash: fc.stringMatching(/^[0-9a-f]{0,64}$/),
  term: fc.integer({ min: 0, max: UINT32_MAX }),
  counter: fc.integer({ min: 0, max: UINT32_MAX }),
  seq: fc.maxSafeNat(),
  ops: fc.array(fc.record({ key: text(MAX_KEY_LENGTH), value: fc.option(fc.uint8Array({ maxLength: 256 }), { nil: undefined }) }, { requiredKeys: ['key'] }), { maxLength: 8 }),
  active: fc.boolean(),
  inMemory: fc.boolean(),
  puts: fc.array(fc.record({
    id: fc.maxSafeNat(), key: text(MAX_KEY_LENGTH).filter(s => s.length > 0), from: text(MAX_PID_LENGTH).filter(s => s.length > 0), data: fc.uint8Array({ maxLength: 64 })
  }), { maxLength: 4 }),
  takes: fc.array(fc.maxSafeNat(), { maxLength: 4 })
})

/** Comparable form: bytes as Buffers, absent optional values dropped. */
function norm (batch: WriteBatch): unknown {
  return {
    ...batch,
    ops: batch.ops.map(op => op.value == null ? { key: op.key } : { key: op.key, value: buf(op.value) }),
    puts: batch.puts.map(m => ({ ...m, data: buf(m.data) }))
  }
}

describe('protocol/state-codec (/praas/state/1.0.0)', () => {
  it('decodes every replicate request to exactly what was encoded, deletes and empty values apart', () => {
    fc.assert(fc.property(fc.array(writeBatch, { maxLength: 6 }), (batches) => {
      const decoded = decodeReplicateRequest(ReplicateRequest.encode({ batches }))
      assert.deepStrictEqual(decoded.batches.map(norm), batches.map(norm))
    }))
  })

  it('decodes every replicate request\'s forwards as encoded, and refuses one of a batch the call lacks, of no copies, or too large', () => {
    const forward = (batches: number): fc.Arbitrary<Forward> => fc.record({
      batch: fc.nat(batches - 1),
      client: text(256),
      call: fc.integer({ min: 1, max: UINT32_MAX }),
      result: fc.uint8Array({ maxLength: MAX_FORWARDED_RESULT_BYTES }),
      copies: fc.integer({ min: 1, max: MAX_REPLICAS_PUSHING })
    })
    const request = fc.array(writeBatch, { minLength: 1, maxLength: 4 }).chain(batches => fc.record({ batches: fc.constant(batches), forwards: fc.array(forward(batches.length), { maxLength: 6 }) }))
    fc.assert(fc.property(request, ({ batches, forwards }) => {
      const decoded = decodeReplicateRequest(ReplicateRequest.encode({ batches, forwards }))
      assert.deepStrictEqual(decoded.forwards.map(f => ({ ...f, result: [...f.result] })), forwards.map(f => ({ ...f, result: [...f.result] })))
      const bad = { batch: 0, client: 'c', call: 1, result: new Uint8Array(1), copies: 1 }
      for (const wrong of [{ batch: batches.length }, { copies: 0 }, { copies: MAX_REPLICAS_PUSHING + 1 }, { call: 0 }, { result: new Uint8Array(MAX_FORWARDED_RESULT_BYTES + 1) }]) {
        throwsCode(() => decodeReplicateRequest(ReplicateRequest.encode({ batches, forwards: [...forwards, { ...bad, ...wrong }] })), 'BAD_REQUEST')
      }
    }), { numRuns: 50 })
  })

  it('keeps a batch number up to 2^53 exact', () => {
    fc.assert(fc.property(writeBatch, (batch) => {
      assert.equal(decodeWriteBatch(WriteBatch.encode(batch)).seq, batch.seq)
    }))
  })

  it('round-trips replicate responses, and refuses one with another number of results', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom(0, 1, 2), { maxLength: 50 }), (results) => {
      assert.deepStrictEqual(decodeReplicateResponse(ReplicateResponse.encode({ results }), results.length).results, results)
      throwsCode(() => decodeReplicateResponse(ReplicateResponse.encode({ results }), results.length + 1), 'BAD_REQUEST')
    }))
  })

  it('round-trips state requests with their holders and inline chunks', () => {
    const request = fc.record({
      manifest: fc.uint8Array({ maxLength: 512 }),
      source: text(256),
      holders: fc.array(text(256), { maxLength: MAX_HOLDERS }),
      term: fc.maxSafeNat(),
      counter: fc.maxSafeNat(),
      fromTerm: fc.maxSafeNat(),
      fromCounter: fc.maxSafeNat(),
      seq: fc.maxSafeNat(),
      chunks: fc.array(fc.uint8Array({ maxLength: 256 }), { maxLength: MAX_INLINE_CHUNKS }),
      fromReplica: fc.boolean(),
      grant: fc.uint8Array({ maxLength: 256 })
    })
    fc.assert(fc.property(request, (r) => {
      const decoded = decodeStateRequest(StateRequest.encode(r as StateRequest))
      assert.deepStrictEqual({ ...decoded, manifest: buf(decoded.manifest), chunks: decoded.chunks.map(buf), grant: buf(decoded.grant) }, { ...r, manifest: buf(r.manifest), chunks: r.chunks.map(buf), grant: buf(r.grant) })
    }))
  })

  it('refuses a state request with more than MAX_INLINE_CHUNKS inline chunks', () => {
    const chunks = Array.from({ length: MAX_INLINE_CHUNKS + 1 }, () => Uint8Array.of(1))
    throwsCode(() => decodeStateRequest(StateRequest.encode({ manifest: new Uint8Array(0), chunks })), 'BAD_REQUEST')
  })

  it('turns random and mutated bytes into a decoded message or BAD_REQUEST, never anything else', () => {
    const mutated = fc.tuple(fc.array(writeBatch, { minLength: 1, maxLength: 3 }), fc.nat(), fc.integer({ min: 0, max: 255 }))
      .map(([batches, at, value]) => {
        const bytes = ReplicateRequest.encode({ batches })
        bytes[at % bytes.byteLength] = value
        return bytes
      })
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 256 }), mutated), (bytes) => {
      for (const decode of [decodeReplicateRequest, decodeWriteBatch, decodeStateRequest, (b: Uint8Array) => decodeReplicateResponse(b, 0)]) {
        try {
          decode(bytes)
        } catch (err) {
          assert.equal((err as { code?: string }).code, 'BAD_REQUEST', String(err))
        }
      }
    }))
  })

  it('refuses a batch whose pid is empty or too long, whose key is too long, or whose message lacks a key or a sender', () => {
    const head = { pid: 'p', app: 'a', appHash: '', term: 1, counter: 1, seq: 1, ops: [], puts: [], takes: [] }
    const message = { id: 1, key: 'k', from: 'q', data: new Uint8Array(0) }
    const bad = [
      { ...head, pid: '' },
      { ...head, pid: 'x'.repeat(MAX_PID_LENGTH + 1) },
      { ...head, ops: [{ key: 'k'.repeat(MAX_KEY_LENGTH + 1) }] },
      { ...head, puts: [{ ...message, key: '' }] },
      { ...head, puts: [{ ...message, key: 'k'.repeat(MAX_KEY_LENGTH + 1) }] },
      { ...head, puts: [{ ...message, from: '' }] },
      { ...head, puts: [{ ...message, id: 1.5 }] },
      { ...head, takes: [-1] }
    ]
    for (const batch of bad) throwsCode(() => decodeReplicateRequest(ReplicateRequest.encode({ batches: [{ ...batch, active: false, inMemory: false }] })), 'BAD_REQUEST')
  })
})

describe('protocol/results (/praas/result/1.0.0)', () => {
  /** Feeds bytes to a result stream reader: the results it hands on, or the error it reset the stream with. */
  function read (chunks: Uint8Array[]): { results: PushedResult[], error?: { code?: string } } {
    const results: PushedResult[] = []
    let error: { code?: string } | undefined
    let listener: ((evt: { data: Uint8Array }) => void) | undefined
    readPushedResults({ addEventListener: (_type, l) => { listener = l }, abort: (err) => { error ??= err as { code?: string } } }, (pushed) => { results.push(pushed) })
    for (const data of chunks) if (error == null) listener!({ data })
    return { results, error }
  }

  const pushed: fc.Arbitrary<PushedResult> = fc.record({
    host: text(256),
    call: fc.integer({ min: 1, max: UINT32_MAX }),
    result: fc.uint8Array({ maxLength: MAX_FORWARDED_RESULT_BYTES }),
    copies: fc.integer({ min: 1, max: MAX_REPLICAS_PUSHING })
  })

  it('hands on every pushed result as encoded, however the stream cuts the bytes', () => {
    fc.assert(fc.property(fc.array(pushed, { maxLength: 5 }), fc.array(fc.nat(), { maxLength: 6 }), (all, cuts) => {
      const bytes = Buffer.concat(all.map(encodePushedResult))
      const at = [...new Set(cuts.map(c => c % (bytes.byteLength + 1)))].sort((a, b) => a - b)
      const chunks = [0, ...at].map((start, i) => bytes.subarray(start, [...at, bytes.byteLength][i]))
      const { results, error } = read(chunks)
      assert.equal(error, undefined)
      assert.deepStrictEqual(results.map(r => ({ ...r, result: [...r.result] })), all.map(r => ({ ...r, result: [...r.result] })))
    }), { numRuns: 50 })
  })

  it('resets the stream (BAD_REQUEST) on anything else: no call, no copies, too many, or bytes that do not decode', () => {
    for (const wrong of [{ call: 0 }, { copies: 0 }, { copies: MAX_REPLICAS_PUSHING + 1 }]) {
      const { results, error } = read([encodePushedResult({ host: 'h', call: 1, result: new Uint8Array(1), copies: 1, ...wrong })])
      assert.equal(results.length, 0)
      assert.equal(error?.code, 'BAD_REQUEST')
    }
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (bytes) => {
      const { error } = read([bytes])
      if (error != null) assert.equal(error.code, 'BAD_REQUEST')
    }))
  })
})
