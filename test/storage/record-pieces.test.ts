import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ReplicaRecord } from '../../protocol/pb/storage.js'
import { recordPieces } from '../../node/storage/record-pieces.js'
import { frame } from '../../node/storage/replica-log.js'

const join = (pieces: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(pieces))

/** Values around the size from which a value is a piece of its own (16 KiB), absent ones too (a delete). */
const value = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.integer({ min: 16 * 1024 - 2, max: 40 * 1024 }).map(n => Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff)),
  fc.constant(undefined)
)

const record: fc.Arbitrary<ReplicaRecord> = fc.record({
  kind: fc.constantFrom(ReplicaRecord.Kind.APPLY, ReplicaRecord.Kind.INSTALL),
  pid: fc.string({ minLength: 1, maxLength: 20 }),
  app: fc.string({ maxLength: 20 }),
  appHash: fc.string({ maxLength: 64 }),
  term: fc.nat(),
  counter: fc.nat(),
  seq: fc.maxSafeNat(),
  ops: fc.array(fc.record({ key: fc.string({ unit: 'binary', maxLength: 30 }), value }, { requiredKeys: ['key'] }), { maxLength: 6 }),
  messages: fc.array(fc.record({ key: fc.string({ maxLength: 8 }), from: fc.string({ maxLength: 8 }), data: fc.uint8Array({ maxLength: 16 }) }), { maxLength: 2 })
}) as fc.Arbitrary<ReplicaRecord>

describe('replica log records as pieces', function () {
  it('make bytes that decode to the same record as ReplicaRecord.encode, and frame to the same length and crc32', function () {
    fc.assert(fc.property(record, (r) => {
      const pieces = recordPieces(r)
      const decoded = ReplicaRecord.decode(join(pieces))
      const expected = ReplicaRecord.decode(ReplicaRecord.encode(r))
      const plain = (x: ReplicaRecord): unknown => ({ ...x, ops: x.ops.map(op => ({ key: op.key, value: op.value == null ? undefined : [...op.value] })), messages: x.messages.map(m => ({ ...m, data: [...m.data] })) })
      assert.deepEqual(plain(decoded), plain(expected))
      const [head] = frame(pieces)
      assert.deepEqual([...head], [...frame(join(pieces))[0]])
    }), { numRuns: 200 })
  })

  it('leaves every value of 16 KiB or more uncopied, as a piece of its own', function () {
    const big = new Uint8Array(64 * 1024).fill(7)
    const pieces = recordPieces({ kind: ReplicaRecord.Kind.INSTALL, pid: 'p', app: 'a', appHash: '', term: 1, counter: 1, seq: 3, ops: [{ key: 'small', value: Uint8Array.of(1, 2) }, { key: 'big', value: big as Uint8Array<ArrayBuffer> }], messages: [], taken: [] })
    assert.ok(pieces.includes(big))
    assert.equal(pieces.reduce((n, p) => n + p.byteLength, 0), ReplicaRecord.encode({ kind: ReplicaRecord.Kind.INSTALL, pid: 'p', app: 'a', appHash: '', term: 1, counter: 1, seq: 3, ops: [{ key: 'small', value: Uint8Array.of(1, 2) }, { key: 'big', value: big as Uint8Array<ArrayBuffer> }], messages: [], taken: [] }).byteLength)
  })
})
