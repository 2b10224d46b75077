import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { Client } from '../../sdk/index.js'
import { presentToken } from '../../protocol/auth.js'
import { AUTH_PROTOCOL, RESULT_PROTOCOL } from '../../protocol/index.js'
import { dumpOnFailure, eventually, startCluster, stopCluster } from '../helpers/cluster.js'
import { hostilePeer, outcome } from '../helpers/hostile.js'
import { EXAMPLES } from '../helpers/paths.js'
import type { TestNode } from '../helpers/cluster.js'
import type { PeerId, Stream } from '@libp2p/interface'

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

/** `get` until the process answers (its host was just killed: the client relocates it), bounded. */
async function countAfterFailure (client: Client, pid: string): Promise<number> {
  let count = -1
  await eventually(async () => {
    try {
      count = Number(text(await client.invoke(pid, 'get', undefined, { timeoutMs: 10_000 })))
      return true
    } catch (err) {
      if ((err as { code?: string }).code !== 'UNAVAILABLE') throw err
      return false
    }
  }, 60_000, 'the process answers again')
  return count
}

// Results that replicas push to clients (protocol/results.ts): with --replicas 2 a sequential
// caller hears its call's result from the replica that holds its writes, one hop before the host.
describe('results pushed by replicas, on node processes', function () {
  this.timeout(120_000)
  let nodes: TestNode[]
  let client: Client

  beforeEach(async function () {
    nodes = await startCluster(3)
    client = await Client.connect({ bootstrap: [nodes[0].addrs[0]], token: nodes[0].token })
    await client.deploy('counter', await readFile(join(EXAMPLES, 'counter', 'index.js')))
  })

  afterEach(async function () {
    dumpOnFailure(this, () => nodes)
    await client?.close()
    if (nodes != null) await stopCluster(nodes)
  })

  it('settles sequential calls from the replica, and what it settled survives a SIGKILL of the host at once', async () => {
    const pid = await client.create('counter', { node: nodes[1].peerId })
    for (let i = 1; i <= 100; i++) assert.equal(text(await client.invoke(pid, 'incr')), String(i))
    // the first calls name the replica and open the stream to it; the rest are pushed
    assert.ok(client.pushedResults >= 50, `${client.pushedResults} of 100 calls settled by the replica`)
    // acknowledged by a push, maybe before the host heard the replica's answer: on the replica all the same
    await nodes[1].kill('SIGKILL')
    assert.equal(await countAfterFailure(client, pid), 100)
  })

  it('answers every call through the host when the replica dies (its stream closes), and loses nothing', async () => {
    const pid = await client.create('counter', { node: nodes[1].peerId })
    for (let i = 1; i <= 20; i++) await client.invoke(pid, 'incr')
    assert.ok(client.pushedResults > 0)
    // the replica is whichever of the other two nodes the host chose: kill both in turn would
    // leave one member, so kill the one that pushed (the client holds a result stream to it)
    const replicas = nodes.filter(n => n !== nodes[1] && (client as unknown as { resultStreams: Map<string, unknown> }).resultStreams.has(n.peerId))
    assert.equal(replicas.length, 1)
    await replicas[0].kill('SIGKILL')
    let acknowledged = 20
    for (let i = 0; i < 30; i++) {
      const answer = await outcome(client.invoke(pid, 'incr', undefined, { timeoutMs: 20_000 }))
      if (answer === 'OK') acknowledged++
      else assert.equal(answer, 'UNAVAILABLE')
    }
    assert.ok(acknowledged > 20, 'calls go on once the host chose another replica')
    assert.equal(await countAfterFailure(client, pid), acknowledged)
  })

  it('answers through the host while a result stream is broken, and opens it again', async () => {
    const pid = await client.create('counter', { node: nodes[1].peerId })
    for (let i = 1; i <= 20; i++) assert.equal(text(await client.invoke(pid, 'incr')), String(i))
    const streams = (client as unknown as { resultStreams: Map<string, unknown> }).resultStreams
    const replica = nodes.find(n => n !== nodes[1] && streams.has(n.peerId))
    assert.ok(replica != null, 'the client holds a result stream to the replica')
    // the client's connection to the replica goes, with its result stream: no push reaches it
    await (client as unknown as { peer: { hangUp(peer: PeerId): Promise<void> } }).peer.hangUp(peerIdFromString(replica.peerId))
    await eventually(async () => !streams.has(replica.peerId), 5_000, 'the result stream is gone')
    const before = client.pushedResults
    // every call is answered all the same (by the host), and within
    // a few seconds the host names the replica again and the client opens a new result stream
    let n = 20
    const deadline = Date.now() + 10_000
    while (client.pushedResults === before) {
      assert.ok(Date.now() < deadline, 'pushes reach the client again within 10 s')
      assert.equal(text(await client.invoke(pid, 'incr')), String(++n))
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    assert.ok(streams.has(replica.peerId))
    assert.equal(await countAfterFailure(client, pid), n)
  })

  it('pushes nothing to another client, and refuses a result stream without a token', async () => {
    const pid = await client.create('counter', { node: nodes[1].peerId })
    await client.invoke(pid, 'incr')
    // a second client, with a token of its own, listens on a result stream at every other node
    const { peer } = await hostilePeer()
    const frames = { count: 0 }
    const streams: Stream[] = []
    try {
      for (const node of [nodes[0], nodes[2]]) {
        const addr = multiaddr(node.addrs[0])
        await presentToken(await peer.dialProtocol(addr, AUTH_PROTOCOL), node.token, { signal: AbortSignal.timeout(5_000) })
        const stream = await peer.dialProtocol(addr, RESULT_PROTOCOL)
        stream.addEventListener('message', () => { frames.count++ })
        streams.push(stream)
      }
      const before = client.pushedResults
      for (let i = 0; i < 30; i++) await client.invoke(pid, 'incr')
      assert.ok(client.pushedResults - before >= 15, `${client.pushedResults - before} of the owner's 30 calls pushed to the owner`)
      assert.equal(frames.count, 0, 'the other client received none of them')
      assert.ok(streams.every(s => s.status === 'open'))
    } finally {
      await peer.stop()
    }
    // a peer that presented no token: its result stream is reset at once
    const { peer: stranger } = await hostilePeer()
    try {
      const stream = await stranger.dialProtocol(multiaddr(nodes[0].addrs[0]), RESULT_PROTOCOL)
      await eventually(async () => stream.status !== 'open', 5_000, 'the stream is reset')
      assert.notEqual(stream.status, 'open')
    } finally {
      await stranger.stop()
    }
  })
})
