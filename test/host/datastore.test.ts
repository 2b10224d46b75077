import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { Key } from 'interface-datastore'
import { CompactDatastore, DHT_RECORDS, nodeDatastore } from '../../node/host/datastore.js'

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

describe('host/datastore: the DHT records in files', () => {
  it('keeps DHT records in files of the records folder and the rest in memory, and starts empty', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'praas-records-'))
    try {
      const records = join(dir, 'records')
      const store = await nodeDatastore(records)
      const record = DHT_RECORDS.child(new Key('AFKREIG'))
      const peer = new Key('/peers/12D3KooW')
      await store.put(record, Uint8Array.of(1, 2, 3))
      await store.put(peer, Uint8Array.of(4))
      assert.deepEqual([...await store.get(record)], [1, 2, 3])
      assert.deepEqual(await readdir(records, { recursive: true }), ['praas-dht', join('praas-dht', 'record'), join('praas-dht', 'record', 'AFKREIG.data')], 'one file per record, nothing else on disk')
      assert.equal(await store.has(peer), true)
      await store.delete(record)
      assert.equal(await store.has(record), false)
      await store.put(record, Uint8Array.of(9))
      const next = await nodeDatastore(records)
      assert.equal(await next.has(record), false, 'a record of an earlier run is not served')
      assert.deepEqual(await readdir(records), [])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
