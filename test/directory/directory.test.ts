import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { locationKey, signLocation } from '../../node/directory/index.js'
import { Ed25519PrivateKey } from '../../protocol/ed25519.js'
import { signGrant } from '../../protocol/grant.js'
import { granted, keyOf, mesh, meshNode, stopAll, until } from '../cluster/mesh.js'
import type { ActivationEpoch } from '../../protocol/location.js'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import type { LocationInit } from '../../node/directory/index.js'
import type { MeshNode } from '../cluster/mesh.js'
import type { SingleKadDHT } from '@libp2p/kad-dht'

/** Puts a raw value into the DHT from `node`, as any peer (honest or not) can. */
async function rawPut (node: MeshNode, pid: string, value: Uint8Array): Promise<void> {
  await node.contentRouting.put(locationKey(pid), value, { signal: AbortSignal.timeout(10_000) })
}

/** The first defined answer of `probe`, asked every 50 ms for up to 10 s. */
async function eventually<T> (probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

function record (pid: string, overrides: Partial<LocationInit> = {}): LocationInit {
  return { pid, addrs: [multiaddr('/ip4/127.0.0.1/tcp/4001')], epoch: { term: 1, counter: 1 }, seq: 1, ...overrides }
}

function termAndCounter (location: { epoch: { term: number, counter: number } } | undefined): { term: number, counter: number } | undefined {
  return location == null ? undefined : { term: location.epoch.term, counter: location.epoch.counter }
}

/** An epoch granted by any key (a member's, or an outsider's). */
function grantBy (key: PrivateKey, pid: string, host: PeerId, term: number, counter: number): ActivationEpoch {
  return { term, counter, grant: signGrant({ pid, node: host, term, counter }, peerIdFromPrivateKey(key), new Ed25519PrivateKey(new Uint8Array(key.raw.subarray(0, 32)))) }
}

describe('directory', function () {
  this.timeout(60_000)
  let nodes: MeshNode[]

  before(async () => {
    nodes = await mesh(4)
    await until(() => nodes.every(n => (n.services.dht as SingleKadDHT).routingTable.size === 3), 'full DHT routing tables', 20_000)
  })

  after(async () => {
    await stopAll(nodes)
  })

  it('resolves a record published on one node from every other node', async () => {
    const [a, ...others] = nodes
    const published = await a.services.directory.publish('resolve-me', { epoch: granted(a, 'resolve-me', 3, 7), app: 'counter' })
    assert.equal(published.node, a.peerId.toString())
    for (const node of others) {
      const found = await node.services.directory.resolve('resolve-me', { signal: AbortSignal.timeout(10_000) })
      assert.ok(found != null, 'resolved')
      assert.equal(found.node, a.peerId.toString())
      assert.deepEqual(termAndCounter(found), { term: 3, counter: 7 })
      assert.equal(found.status, 'active')
      assert.equal(found.app, 'counter')
      assert.ok(found.addrs.length > 0 && found.addrs.every(addr => addr.toString().endsWith(`/p2p/${a.peerId.toString()}`)))
    }
  })

  it('owns a record published soon at once, and puts it in the DHT a moment later, the burst together', async () => {
    const [a, b] = nodes
    const pids = Array.from({ length: 6 }, (_, i) => `soon-${i}`)
    for (const pid of pids) a.services.directory.publishSoon(pid, { epoch: granted(a, pid, 4, 1), app: 'counter' })
    for (const pid of pids) assert.deepEqual(termAndCounter({ epoch: a.services.directory.owns(pid)! }), { term: 4, counter: 1 })
    // one of them superseded by a swap before its first put: the put carries the newest state
    await a.services.directory.markSwapped('soon-5')
    for (const pid of pids) {
      const found = await eventually(async () => await b.services.directory.resolve(pid, { fresh: true, signal: AbortSignal.timeout(10_000) }), `${pid} in the DHT`)
      assert.equal(found.node, a.peerId.toString())
      assert.deepEqual(termAndCounter(found), { term: 4, counter: 1 })
      assert.equal(found.status, pid === 'soon-5' ? 'swapped' : 'active')
    }
    // released before its put: nothing of it reaches the DHT
    a.services.directory.publishSoon('soon-gone', { epoch: granted(a, 'soon-gone', 4, 2) })
    a.services.directory.release('soon-gone')
    await new Promise(resolve => setTimeout(resolve, 500))
    assert.equal(await b.services.directory.resolve('soon-gone', { fresh: true, signal: AbortSignal.timeout(10_000) }), undefined)
  })

  it('answers a second resolve from its cache, and asks the DHT again after invalidate', async () => {
    const [a, b] = nodes
    await a.services.directory.publish('cached', { epoch: granted(a, 'cached', 1, 1) })
    const first = await b.services.directory.resolve('cached')
    const again = await b.services.directory.resolve('cached')
    assert.equal(again, first, 'the same object, from the cache')
    b.services.directory.invalidate('cached')
    const fresh = await b.services.directory.resolve('cached')
    assert.notEqual(fresh, first)
    assert.equal(fresh?.node, a.peerId.toString())
  })

  it('resolves undefined for a pid nobody published', async () => {
    assert.equal(await nodes[1].services.directory.resolve('nobody-has-this', { signal: AbortSignal.timeout(10_000) }), undefined)
  })

  it('ignores a record signed by another node than the one it names', async () => {
    const [a, b, c] = nodes
    await a.services.directory.publish('forged', { epoch: granted(a, 'forged', 1, 1) })
    // another key signs a record that claims a hosts the pid under a far newer epoch
    const other = await generateKeyPair('Ed25519')
    const forged = await signLocation(record('forged', { epoch: grantBy(other, 'forged', a.peerId, 99, 1) }), other, a.peerId)
    await rawPut(b, 'forged', forged)
    const found = await c.services.directory.resolve('forged', { fresh: true, signal: AbortSignal.timeout(10_000) })
    assert.deepEqual(termAndCounter(found), { term: 1, counter: 1 }, 'the genuine record')
  })

  it('ignores records of outsiders: signed by a peer that is not a member, or with an epoch no member granted', async () => {
    const [a, b, c] = nodes
    await a.services.directory.publish('claimed', { epoch: granted(a, 'claimed', 1, 1) })
    const outsider = await generateKeyPair('Ed25519')
    const outsiderId = peerIdFromPrivateKey(outsider)
    // an outsider's own record of the pid, with an epoch it granted itself
    const own = await signLocation(record('claimed', { epoch: grantBy(outsider, 'claimed', outsiderId, 2 ** 31, 1) }), outsider, outsiderId)
    // a member's record whose epoch an outsider granted (as a forged leader)
    const forgedGrant = await signLocation(record('claimed', { epoch: grantBy(outsider, 'claimed', b.peerId, 2 ** 31, 2) }), keyOf(b), b.peerId)
    await rawPut(b, 'claimed', own).catch(() => {})
    await rawPut(b, 'claimed', forgedGrant).catch(() => {})
    for (const node of [b, c]) {
      const found = await node.services.directory.resolve('claimed', { fresh: true, signal: AbortSignal.timeout(10_000) })
      assert.equal(found?.node, a.peerId.toString())
      assert.deepEqual(termAndCounter(found), { term: 1, counter: 1 })
    }
  })

  it('ignores a replayed record with an older sequence number', async () => {
    const [a, b, c] = nodes
    const key = keyOf(a)
    const signer = a.peerId
    const epoch = granted(a, 'replayed', 1, 1)
    const older = await signLocation(record('replayed', { seq: 10, epoch }), key, signer)
    const newer = await signLocation(record('replayed', { seq: 11, status: 'swapped', epoch }), key, signer)
    await rawPut(a, 'replayed', older)
    await rawPut(a, 'replayed', newer)
    await rawPut(b, 'replayed', older) // the replay
    for (const node of [b, c]) {
      const found = await node.services.directory.resolve('replayed', { fresh: true, signal: AbortSignal.timeout(10_000) })
      assert.equal(found?.seq, 11)
      assert.equal(found?.status, 'swapped')
    }
  })

  it('lets the newer epoch win, and tells the old host it was superseded', async () => {
    const [a, b, c] = nodes
    await a.services.directory.publish('moving', { epoch: granted(a, 'moving', 2, 5) })
    await b.services.directory.publish('moving', { epoch: granted(b, 'moving', 2, 6) })
    const found = await c.services.directory.resolve('moving', { fresh: true, signal: AbortSignal.timeout(10_000) })
    assert.equal(found?.node, b.peerId.toString())
    assert.deepEqual(termAndCounter(found), { term: 2, counter: 6 })

    const superseded = new Promise<string>(resolve => {
      a.services.directory.addEventListener('superseded', (evt) => { resolve(evt.detail.node) }, { once: true })
    })
    await a.services.directory.refreshAll()
    assert.equal(await superseded, b.peerId.toString())
    assert.equal(a.services.directory.owns('moving'), undefined, 'a no longer publishes it')
    // a's refresh did not put its old record back
    const after = await c.services.directory.resolve('moving', { fresh: true, signal: AbortSignal.timeout(10_000) })
    assert.equal(after?.node, b.peerId.toString())
  })

  it('publishes swapped and deleted states', async () => {
    const [a, b] = nodes
    await a.services.directory.publish('lifecycle', { epoch: granted(a, 'lifecycle', 1, 9), app: 'chat' })
    await a.services.directory.markSwapped('lifecycle')
    const swapped = await b.services.directory.resolve('lifecycle', { fresh: true, signal: AbortSignal.timeout(10_000) })
    assert.equal(swapped?.status, 'swapped')
    assert.equal(swapped?.app, 'chat')
    // swapped, the pid is not owned in memory: its record comes from its image
    await a.services.directory.unpublish('lifecycle', { swapped: { pid: 'lifecycle', epoch: granted(a, 'lifecycle', 1, 9), app: 'chat' } })
    assert.equal(await b.services.directory.resolve('lifecycle', { fresh: true, signal: AbortSignal.timeout(10_000) }), undefined)
    assert.equal(a.services.directory.owns('lifecycle'), undefined)
  })

  it('keeps nothing of a swapped pid in memory, refreshes its record from disk, and leaves it once superseded', async () => {
    const [a, b] = nodes
    const epoch = granted(a, 'on-disk', 1, 3)
    const first = await a.services.directory.publish('on-disk', { epoch, app: 'chat' })
    await a.services.directory.markSwapped('on-disk')
    assert.equal(a.services.directory.owns('on-disk'), undefined, 'no longer owned in memory')
    const onDisk = [{ pid: 'on-disk', epoch, app: 'chat' }]
    a.services.directory.swappedRecords = async function * () { yield * onDisk }
    try {
      assert.equal(await a.services.directory.refreshSwapped(), 1)
      const found = await b.services.directory.resolve('on-disk', { fresh: true, signal: AbortSignal.timeout(10_000) })
      assert.equal(found?.status, 'swapped')
      assert.equal(found?.node, a.peerId.toString())
      assert.equal(found?.app, 'chat')
      assert.ok(found.seq > first.seq, `seq ${found.seq} > ${first.seq}`)
      // brought back on b with a newer epoch: a's refresh leaves b's record alone
      await b.services.directory.publish('on-disk', { epoch: granted(b, 'on-disk', 2, 1), app: 'chat' })
      assert.equal(await a.services.directory.refreshSwapped(), 0)
      const now = await a.services.directory.resolve('on-disk', { fresh: true, signal: AbortSignal.timeout(10_000) })
      assert.equal(now?.node, b.peerId.toString())
      assert.equal(now?.status, 'active')
    } finally {
      a.services.directory.swappedRecords = undefined
    }
  })

  it('hands a record published while alone to the peers that join later', async () => {
    const keys = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519')])
    const members = keys.map(k => peerIdFromPrivateKey(k).toString())
    const lone = await meshNode({ privateKey: keys[0], members })
    const joiner = await meshNode({ privateKey: keys[1], members, bootstrap: lone.getMultiaddrs().map(a => a.toString()) })
    try {
      await lone.services.directory.publish('early', { epoch: granted(lone, 'early', 1, 1) })
      await until(() => (joiner.services.dht as SingleKadDHT).routingTable.size === 1 && (lone.services.dht as SingleKadDHT).routingTable.size === 1, 'two DHT peers', 10_000)
      await new Promise(resolve => setTimeout(resolve, 2_500))
      await lone.stop()
      const found = await joiner.services.directory.resolve('early', { fresh: true, signal: AbortSignal.timeout(10_000) })
      assert.equal(found?.node, lone.peerId.toString(), 'the joiner holds a copy')
    } finally {
      await stopAll([lone, joiner])
    }
  })

  it('keeps its refreshed records resolvable with a growing sequence number', async () => {
    const [a, b] = nodes
    const first = await a.services.directory.publish('refreshed', { epoch: granted(a, 'refreshed', 1, 2) })
    await a.services.directory.refreshAll()
    const found = await b.services.directory.resolve('refreshed', { fresh: true, signal: AbortSignal.timeout(10_000) })
    assert.equal(found?.node, a.peerId.toString())
    assert.ok(found.seq > first.seq, `seq ${found.seq} > ${first.seq}`)
  })
})
