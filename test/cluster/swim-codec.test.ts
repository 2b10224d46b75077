import assert from 'node:assert/strict'
import fc from 'fast-check'
import { PraasError } from '../../protocol/errors.js'
import { SwimMessage, SwimStatus, decodeNodeRecord, decodeSwimMessage, encodeNodeRecord } from '../../node/cluster/swim/index.js'
import type { SwimUpdate } from '../../node/cluster/swim/index.js'

const id = fc.string({ minLength: 1, maxLength: 60 })

const swimUpdate: fc.Arbitrary<SwimUpdate> = fc.record({
  member: id,
  incarnation: fc.maxSafeNat(),
  status: fc.constantFrom(SwimStatus.ALIVE, SwimStatus.SUSPECT, SwimStatus.DEAD),
  from: fc.oneof(fc.constant(''), id),
  recordVersion: fc.maxSafeNat(),
  record: fc.uint8Array({ maxLength: 64 }).map(b => new Uint8Array(b))
}).map(u => ({ ...u, record: u.recordVersion === 0 ? new Uint8Array(0) : u.record }))

const swimMessage: fc.Arbitrary<SwimMessage> = fc.record({
  kind: fc.constantFrom(SwimMessage.Kind.PING, SwimMessage.Kind.PING_REQ, SwimMessage.Kind.ACK, SwimMessage.Kind.NACK, SwimMessage.Kind.GOSSIP, SwimMessage.Kind.PUSH),
  seq: fc.nat({ max: 0xffffffff }),
  target: id,
  updates: fc.array(swimUpdate, { maxLength: 8 }),
  reply: fc.boolean()
})

/** A protobuf varint (for integers protons will not encode). */
function varint (value: bigint): number[] {
  const out: number[] = []
  while (value >= 0x80n) {
    out.push(Number(value & 0x7fn) | 0x80)
    value >>= 7n
  }
  return [...out, Number(value)]
}

/** GOSSIP with one update whose uint64 field `field` is `value` (member 'a'). */
function gossipWithUint64 (field: number, value: bigint): Uint8Array {
  const update = [0x0a, 0x01, 0x61, field << 3, ...varint(value)]
  return new Uint8Array([0x08, 0x04, 0x22, update.length, ...update])
}

function rejects (data: Uint8Array, code: string): void {
  assert.throws(() => decodeSwimMessage(data), (err: unknown) => err instanceof PraasError && err.code === code)
}

describe('swim codec', () => {
  it('decodes what it encodes (property)', () => {
    fc.assert(fc.property(swimMessage, (message) => {
      // fc.record builds objects without a prototype: compare plain copies
      assert.deepEqual(decodeSwimMessage(SwimMessage.encode(message)), { ...message, updates: message.updates.map(u => ({ ...u })) })
    }), { numRuns: 300 })
  })

  it('throws a PraasError on any garbage, never anything else (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      try {
        decodeSwimMessage(bytes)
      } catch (err) {
        assert.ok(err instanceof PraasError && (err.code === 'BAD_REQUEST' || err.code === 'TOO_LARGE'), String(err))
      }
    }), { numRuns: 1000 })
  })

  it('refuses oversized messages, missing targets, long ids, unsafe integers and records without a version', () => {
    rejects(new Uint8Array(64 * 1024 + 1), 'TOO_LARGE')
    rejects(SwimMessage.encode({ kind: SwimMessage.Kind.PING, seq: 1, target: '' }), 'BAD_REQUEST')
    rejects(SwimMessage.encode({ kind: SwimMessage.Kind.PING, seq: 1, target: 'x'.repeat(129) }), 'BAD_REQUEST')
    const base = { member: 'a', incarnation: 1, status: SwimStatus.ALIVE, from: '', recordVersion: 0, record: new Uint8Array(0) }
    const gossip = (u: Partial<SwimUpdate>): Uint8Array => SwimMessage.encode({ kind: SwimMessage.Kind.GOSSIP, updates: [{ ...base, ...u }] })
    rejects(gossip({ member: '' }), 'BAD_REQUEST')
    assert.equal(decodeSwimMessage(gossipWithUint64(2, 2n ** 53n - 1n)).updates[0].incarnation, Number.MAX_SAFE_INTEGER)
    rejects(gossipWithUint64(2, 2n ** 53n), 'BAD_REQUEST')
    rejects(gossipWithUint64(2, 2n ** 64n - 1n), 'BAD_REQUEST')
    rejects(gossipWithUint64(5, 2n ** 60n), 'BAD_REQUEST')
    rejects(gossip({ record: new Uint8Array(3) }), 'BAD_REQUEST')
    rejects(gossip({ recordVersion: 1, record: new Uint8Array(1025) }), 'BAD_REQUEST')
    rejects(SwimMessage.encode({ kind: SwimMessage.Kind.GOSSIP, updates: Array.from({ length: 1025 }, () => base) }), 'BAD_REQUEST')
    assert.equal(decodeSwimMessage(gossip({ recordVersion: 1, record: new Uint8Array(1024) })).updates.length, 1)
  })

  it('checks node records', () => {
    const record = { addrs: [new Uint8Array([4, 127, 0, 0, 1])], load: 3, eventLoopDelayUs: 10, term: 2, leader: 'x', rosterVersion: 5 }
    assert.deepEqual(decodeNodeRecord(encodeNodeRecord(record)), record)
    assert.throws(() => decodeNodeRecord(encodeNodeRecord({ addrs: Array.from({ length: 17 }, () => new Uint8Array(1)) })), PraasError)
    assert.throws(() => decodeNodeRecord(encodeNodeRecord({ addrs: [new Uint8Array(257)] })), PraasError)
    assert.throws(() => decodeNodeRecord(new Uint8Array([0x20, ...varint(2n ** 60n)])), PraasError)
    assert.throws(() => decodeNodeRecord(new Uint8Array([0xff, 0xff])), PraasError)
  })
})
