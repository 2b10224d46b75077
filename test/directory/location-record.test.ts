import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import fc from 'fast-check'
import {
  compareLocations, locationKey, selectLocationRecord, signLocation, validateLocationRecord, verifyLocation
} from '../../node/directory/index.js'
import { locationValidator } from '../../protocol/location.js'
import { Ed25519PrivateKey } from '../../protocol/ed25519.js'
import { PraasError } from '../../protocol/errors.js'
import { signGrant } from '../../protocol/grant.js'
import type { LocationInit } from '../../node/directory/index.js'
import type { PeerId, PrivateKey } from '@libp2p/interface'

const signers: Array<{ key: PrivateKey, peerId: PeerId }> = []

const pid = fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }).filter(s => s.length <= 128)
const addr = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(65535)).map(([a, b, port]) => multiaddr(`/ip4/10.${a}.${b}.1/tcp/${port}`))
const epochPart = fc.nat({ max: 2 ** 40 })
const locationInit: fc.Arbitrary<LocationInit> = fc.record({
  pid,
  addrs: fc.array(addr, { maxLength: 4 }),
  epoch: fc.record({ term: epochPart, counter: epochPart }),
  seq: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  status: fc.constantFrom('active' as const, 'swapped' as const, 'deleted' as const),
  app: fc.stringMatching(/^[A-Za-z0-9_.-]{0,40}$/)
})
const signer = fc.nat(2).map(i => signers[i])

/** Signs a record with the epoch granted by the signer itself (as a leader hosting its own process would). */
async function sign (init: LocationInit, key: PrivateKey, peerId: PeerId): Promise<Uint8Array> {
  const grant = signGrant({ pid: init.pid, node: peerId, term: init.epoch.term, counter: init.epoch.counter }, peerId, new Ed25519PrivateKey(new Uint8Array(key.raw.subarray(0, 32))))
  return await signLocation({ ...init, epoch: { ...init.epoch, grant } }, key, peerId)
}

async function rejects (promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (err: unknown) => err instanceof PraasError && err.code === 'BAD_REQUEST')
}

describe('location record', () => {
  before(async () => {
    for (let i = 0; i < 3; i++) {
      const key = await generateKeyPair('Ed25519')
      signers.push({ key, peerId: peerIdFromPrivateKey(key) })
    }
  })

  it('verifies every record its node signed, and reads back what was signed', async () => {
    await fc.assert(fc.asyncProperty(locationInit, signer, async (init, { key, peerId }) => {
      const value = await sign(init, key, peerId)
      const location = await verifyLocation(value, init.pid)
      assert.equal(location.pid, init.pid)
      assert.equal(location.node, peerId.toString())
      assert.deepEqual({ term: location.epoch.term, counter: location.epoch.counter }, { ...init.epoch })
      assert.equal(location.seq, init.seq)
      assert.equal(location.status, init.status)
      assert.equal(location.app, init.app)
      assert.deepEqual(location.addrs.map(a => a.toString()), init.addrs.map(a => `${a.toString()}/p2p/${peerId.toString()}`))
      await validateLocationRecord(locationKey(init.pid), value)
    }), { numRuns: 200 })
  })

  it('fails verification after any change to the stored bytes', async () => {
    const mutation = fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) })
    await fc.assert(fc.asyncProperty(locationInit, signer, mutation, async (init, { key, peerId }, { at, xor }) => {
      const value = await sign(init, key, peerId)
      const mutated = value.slice()
      mutated[at % mutated.length] ^= xor
      await rejects(verifyLocation(mutated, init.pid))
    }), { numRuns: 500 })
  })

  it('verifies a value once, and still refuses every change to it once the original is known (verify once)', async () => {
    const mutation = fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) })
    await fc.assert(fc.asyncProperty(locationInit, signer, mutation, async (init, { key, peerId }, { at, xor }) => {
      const value = await sign(init, key, peerId)
      const first = await verifyLocation(value, init.pid)
      // the same bytes again (another peer's copy): the same location
      assert.deepEqual(await verifyLocation(value.slice(), init.pid), first)
      const mutated = value.slice()
      mutated[at % mutated.length] ^= xor
      await rejects(verifyLocation(mutated, init.pid))
      // the signature kept, the record changed: the bytes differ, so the checks run again
      const forged = value.slice()
      forged[Math.min(at % Math.max(1, forged.length - 70), forged.length - 70)] ^= xor
      await rejects(verifyLocation(forged, init.pid))
    }), { numRuns: 300 })
  })

  it('fails verification when cut short or extended', async () => {
    await fc.assert(fc.asyncProperty(locationInit, signer, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 }), async (init, { key, peerId }, cut, tail) => {
      const value = await sign(init, key, peerId)
      await rejects(verifyLocation(value.subarray(0, cut % value.length), init.pid))
      await rejects(verifyLocation(Uint8Array.from([...value, ...tail]), init.pid))
    }), { numRuns: 200 })
  })

  it('rejects a record signed by another key than the node it names', async () => {
    await fc.assert(fc.asyncProperty(locationInit, fc.nat(2), fc.integer({ min: 1, max: 2 }), async (init, i, shift) => {
      const named = signers[i].peerId
      const other = signers[(i + shift) % 3].key
      await rejects(verifyLocation(await sign(init, other, named), init.pid))
    }), { numRuns: 100 })
  })

  it('rejects a record stored under another pid', async () => {
    await fc.assert(fc.asyncProperty(locationInit, pid, signer, async (init, otherPid, { key, peerId }) => {
      fc.pre(otherPid !== init.pid)
      const value = await sign(init, key, peerId)
      await rejects(validateLocationRecord(locationKey(otherPid), value))
    }), { numRuns: 100 })
  })

  it('selects the record with the highest epoch, then the highest seq', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(locationInit, signer), { minLength: 1, maxLength: 6 }), async (entries) => {
      const values = await Promise.all(entries.map(async ([init, { key, peerId }]) => await sign({ ...init, pid: 'same' }, key, peerId)))
      const chosen = selectLocationRecord(locationKey('same'), values)
      const locations = await Promise.all(values.map(async v => await verifyLocation(v)))
      for (const other of locations) assert.ok(compareLocations(locations[chosen], other) >= 0)
      // every peer picks the same record whatever order it got them in
      const reversed = [...values].reverse()
      assert.deepEqual(reversed[selectLocationRecord(locationKey('same'), reversed)], values[chosen])
    }), { numRuns: 100 })
  })

  it('ranks undecodable values below any valid record', async () => {
    const { key, peerId } = signers[0]
    const valid = await sign({ pid: 'p', addrs: [], epoch: { term: 0, counter: 0 }, seq: 0 }, key, peerId)
    assert.equal(selectLocationRecord(locationKey('p'), [new Uint8Array([1, 2, 3]), valid]), 1)
  })

  it('refuses a record older than one the peer has already seen', async () => {
    const { key, peerId } = signers[0]
    const validate = locationValidator()
    const at = async (term: number, counter: number, seq: number): Promise<Uint8Array> =>
      await sign({ pid: 'guarded', addrs: [], epoch: { term, counter }, seq }, key, peerId)
    const k = locationKey('guarded')
    await validate(k, await at(1, 1, 5))
    await validate(k, await at(1, 1, 5)) // the same again is fine
    await validate(k, await at(1, 2, 1)) // a newer epoch, lower seq: newer
    await rejects(validate(k, await at(1, 2, 0)))
    await rejects(validate(k, await at(1, 1, 99)))
    await validate(k, await at(2, 0, 0))
  })
})
