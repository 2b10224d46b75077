import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Key } from 'interface-datastore'
import { CompactDatastore } from '../../node/host/datastore.js'

describe('host/datastore: values kept in buffers of their own', () => {
  it('stores a view into a larger buffer as a copy of exactly its bytes, and a whole buffer as it is', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 512 }), fc.nat(64), fc.nat(64), async (bytes, before, after) => {
      const store = new CompactDatastore()
      const slab = new Uint8Array(before + bytes.byteLength + after)
      slab.set(bytes, before)
      const view = slab.subarray(before, before + bytes.byteLength)
      await store.put(new Key('/view'), view)
      const kept = await store.get(new Key('/view'))
      assert.deepEqual(kept, bytes)
      assert.equal(kept.buffer.byteLength, bytes.byteLength, 'the slab is not kept alive')
      const whole = new Uint8Array(bytes)
      await store.put(new Key('/whole'), whole)
      assert.equal(await store.get(new Key('/whole')), whole)
    }), { numRuns: 50 })
  })
})
