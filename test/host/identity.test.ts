import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import fc from 'fast-check'
import { loadOrCreateIdentity, withKeptKeyObject } from '../../node/host/identity.js'
import type { PrivateKey } from '@libp2p/interface'

/** Signatures per second of `key` over 100-byte messages, for `ms`. */
async function rate (key: PrivateKey, ms = 300): Promise<number> {
  const message = new Uint8Array(100)
  const started = performance.now()
  let n = 0
  while (performance.now() - started < ms) {
    await key.sign(message)
    n++
  }
  return n / ((performance.now() - started) / 1000)
}

describe('the node identity: sign once, with a key made once', () => {
  it('signs exactly as libp2p does, and libp2p verifies what it signs (property)', async () => {
    const plain = await generateKeyPair('Ed25519')
    const kept = withKeptKeyObject(privateKeyFromProtobuf(privateKeyToProtobuf(plain)))
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), async (message) => {
      const ours = await kept.sign(message)
      assert.deepEqual(ours, new Uint8Array(await plain.sign(message)))
      assert.equal(await plain.publicKey.verify(message, ours), true)
    }), { numRuns: 200 })
  })

  it('loads the stored key with the kept key object, and keeps its peer id', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'praas-identity-'))
    try {
      const created = await loadOrCreateIdentity(dir)
      const loaded = await loadOrCreateIdentity(dir)
      assert.ok(created.equals(loaded))
      const message = new TextEncoder().encode('hello')
      assert.equal(await created.publicKey.verify(message, await loaded.sign(message)), true)
      const plain = privateKeyFromProtobuf(privateKeyToProtobuf(loaded))
      console.log(`      signatures per second: ${Math.round(await rate(loaded))} with the kept key object, ${Math.round(await rate(plain))} with libp2p's key import per signature`)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('leaves a key of another type alone', async () => {
    const other = await generateKeyPair('secp256k1')
    const sign = other.sign
    assert.equal(withKeptKeyObject(other).sign, sign)
  })
})
