import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { Client } from '../../sdk/index.js'
import { startCluster, stopCluster } from '../helpers/cluster.js'
import { EXAMPLES, fixture } from '../helpers/paths.js'
import { join } from 'node:path'
import { codeOf, text } from '../helpers/assertions.js'
import type { TestNode } from '../helpers/cluster.js'

const json = (value: unknown): string => JSON.stringify(value)

describe('channels between processes on three node processes', function () {
  this.timeout(120_000)
  let nodes: TestNode[]
  let client: Client
  /** Creates a process of the test kit on node `n`. */
  let on: (n: number) => Promise<string>

  before(async function () {
    // A small mailbox limit on every node, so that a burst fills one.
    nodes = await startCluster(3, ['--mailbox-limit', String(256 * 1024)])
    client = await Client.connect({ bootstrap: [nodes[0].addrs[0]], token: nodes[0].token })
    await client.deploy('kit', await readFile(fixture('testkit')))
    on = async (n) => await client.create('kit', { node: nodes[n].peerId })
  })

  after(async function () {
    await client?.close()
    if (nodes != null) await stopCluster(nodes)
  })

  it('plays ping-pong for 1,000 rounds across nodes, every message in order', async function () {
    const a = await on(0)
    const b = await on(1)
    const ponger = client.invoke(b, 'ponger', json({ rounds: 1000 }))
    const result = JSON.parse(text(await client.invoke(a, 'pingpong', json({ peer: b, rounds: 1000 })))) as { rounds: number }
    assert.equal(result.rounds, 1000)
    assert.equal(text(await ponger), '1000')
  })

  it('plays ping-pong between two processes of one node', async function () {
    const a = await on(2)
    const b = await on(2)
    const ponger = client.invoke(b, 'ponger', json({ rounds: 200 }))
    const result = JSON.parse(text(await client.invoke(a, 'pingpong', json({ peer: b, rounds: 200 })))) as { rounds: number }
    assert.equal(result.rounds, 200)
    assert.equal(text(await ponger), '200')
  })

  it('queues a burst to one key and hands it over in order', async function () {
    const sender = await on(0)
    const receiver = await on(1)
    assert.equal(text(await client.invoke(sender, 'sendMany', json({ to: receiver, key: 'k', count: 300 }))), '300')
    const got = JSON.parse(text(await client.invoke(receiver, 'recvMany', json({ from: sender, key: 'k', count: 300, timeoutMs: 5000 })))) as Array<{ from: string, text: string }>
    assert.deepEqual(got.map(m => m.text), Array.from({ length: 300 }, (_, i) => String(i)))
    assert.ok(got.every(m => m.from === sender))
  })

  it('keeps the order of a burst of unawaited sends from one process', async function () {
    const sender = await on(1)
    const receiver = await on(0)
    assert.equal(text(await client.invoke(sender, 'burst', json({ to: receiver, key: 'b', count: 200 }))), '200')
    const got = JSON.parse(text(await client.invoke(receiver, 'recvMany', json({ from: '*', key: 'b', count: 200, timeoutMs: 5000 })))) as Array<{ text: string }>
    assert.deepEqual(got.map(m => m.text), Array.from({ length: 200 }, (_, i) => String(i)))
  })

  it('receives from any sender with "*", and only from the named one otherwise', async function () {
    const receiver = await on(2)
    const s1 = await on(0)
    const s2 = await on(1)
    await client.invoke(s1, 'sendMany', json({ to: receiver, key: 'mix', count: 1 }))
    await client.invoke(s2, 'sendMany', json({ to: receiver, key: 'mix', count: 1 }))
    const fromS2 = JSON.parse(text(await client.invoke(receiver, 'recvOne', json({ from: s2, key: 'mix', timeoutMs: 2000 })))) as { from: string }
    assert.equal(fromS2.from, s2)
    const any = JSON.parse(text(await client.invoke(receiver, 'recvOne', json({ from: '*', key: 'mix', timeoutMs: 2000 })))) as { from: string }
    assert.equal(any.from, s1)
  })

  it('fails a recv that nobody answers with TIMEOUT, and the process stays usable', async function () {
    const p = await on(1)
    assert.equal(await codeOf(client.invoke(p, 'recvOne', json({ from: '*', key: 'silence', timeoutMs: 200 }))), 'TIMEOUT')
    assert.equal(text(await client.invoke(p, 'echo', 'ok')), 'ok')
  })

  it('carries an 8 MiB message across nodes intact', async function () {
    this.timeout(60_000)
    // The 256 KiB test limit is too small for it: use a cluster node without a limit.
    const big = await startCluster(2)
    const c = await Client.connect({ bootstrap: [big[0].addrs[0]], token: big[0].token })
    try {
      await c.deploy('kit', await readFile(fixture('testkit')))
      const a = await c.create('kit', { node: big[0].peerId })
      const b = await c.create('kit', { node: big[1].peerId })
      const size = 8 * 1024 * 1024
      const receiving = c.invoke(b, 'recvDigest', json({ from: a, key: 'blob', timeoutMs: 30_000 }))
      await c.invoke(a, 'sendBlob', json({ to: b, key: 'blob', size }))
      const expected = new Uint8Array(size)
      for (let i = 0; i < size; i++) expected[i] = (i * 31 + 7) & 0xff
      assert.deepEqual(JSON.parse(text(await receiving)), { from: a, size, digest: createHash('sha256').update(expected).digest('hex') })
    } finally {
      await c.close()
      await stopCluster(big)
    }
  })

  it('makes a sender to a full mailbox wait, and loses nothing', async function () {
    const sender = await on(0)
    const receiver = await on(2)
    // 4,000 messages of ~1 KiB against a 256 KiB mailbox: the burst cannot fit at once.
    const count = 4000
    let sent = false
    const sending = client.invoke(sender, 'sendMany', json({ to: receiver, key: 'flood', count })).then(r => { sent = true; return r })
    await new Promise(resolve => setTimeout(resolve, 1500))
    assert.equal(sent, false, 'the sender was still waiting for room')
    const got = JSON.parse(text(await client.invoke(receiver, 'recvMany', json({ from: sender, key: 'flood', count, timeoutMs: 10_000 })))) as Array<{ text: string }>
    assert.equal(text(await sending), String(count))
    assert.deepEqual(got.map(m => m.text), Array.from({ length: count }, (_, i) => String(i)))
  })

  it('runs ctx.invoke on its own pid and on a remote one', async function () {
    const p = await on(1)
    assert.equal(text(await client.invoke(p, 'selfCall')), '1')
    assert.equal(text(await client.invoke(p, 'selfCall')), '2')
    const q = await on(2)
    assert.equal(text(await client.invoke(q, 'call', json({ pid: p, fn: 'incr' }))), '3')
  })

  it('runs the chat example between participants on different nodes', async function () {
    await client.deploy('chat', await readFile(join(EXAMPLES, 'chat', 'index.js')))
    const alice = await client.create('chat', { node: nodes[0].peerId })
    const bob = await client.create('chat', { node: nodes[1].peerId })
    const heard = client.invoke(bob, 'listen', '5000')
    await client.invoke(alice, 'say', json({ to: bob, text: 'hi bob' }))
    assert.deepEqual(JSON.parse(text(await heard)), { from: alice, text: 'hi bob' })
    await client.invoke(bob, 'say', json({ to: alice, text: 'hi alice' }))
    assert.deepEqual(JSON.parse(text(await client.invoke(alice, 'listen', '5000'))), { from: bob, text: 'hi alice' })
    assert.deepEqual(JSON.parse(text(await client.invoke(alice, 'history'))), [{ to: bob, text: 'hi bob' }, { from: bob, text: 'hi alice' }])
  })

  it('refuses UNAUTHORIZED a peer that sends as someone else or reads another\'s mailbox', async function () {
    const p = await on(1)
    const { createLibp2p } = await import('libp2p')
    const { tcp } = await import('@libp2p/tcp')
    const { noise } = await import('@chainsafe/libp2p-noise')
    const { multiaddr } = await import('@multiformats/multiaddr')
    const { AUTH_PROTOCOL, CHANNEL_PROTOCOL, InvokeChannel, praasYamux } = await import('../../protocol/index.js')
    const { presentToken } = await import('../../protocol/auth.js')
    const peer = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [praasYamux()] })
    try {
      const request = { pid: p, key: 'k', payload: new Uint8Array(0), timeoutMs: 100 }
      // without a token: nothing at all
      const stranger = new InvokeChannel(await peer.dialProtocol(multiaddr(nodes[1].addrs[0]), CHANNEL_PROTOCOL))
      assert.equal(await codeOf(stranger.call({ ...request, fn: 'recv', from: peer.peerId.toString() })), 'UNAUTHORIZED')
      // with a token (every right): still only as itself
      await presentToken(await peer.dialProtocol(multiaddr(nodes[1].addrs[0]), AUTH_PROTOCOL), nodes[0].token, { signal: AbortSignal.timeout(5000) })
      const channel = new InvokeChannel(await peer.dialProtocol(multiaddr(nodes[1].addrs[0]), CHANNEL_PROTOCOL))
      assert.equal(await codeOf(channel.call({ ...request, fn: 'send', from: client.peerId })), 'UNAUTHORIZED')
      assert.equal(await codeOf(channel.call({ ...request, fn: 'recv', from: client.peerId })), 'UNAUTHORIZED')
      assert.equal(await codeOf(channel.call({ ...request, fn: 'recv', from: peer.peerId.toString() })), 'TIMEOUT')
    } finally {
      await peer.stop()
    }
  })

  it('lets a client send to a process and receive what it sends back', async function () {
    const p = await on(2)
    await client.send(p, 'hello', 'from the client')
    const got = JSON.parse(text(await client.invoke(p, 'recvOne', json({ from: client.peerId, key: 'hello', timeoutMs: 2000 })))) as { from: string, text: string }
    assert.deepEqual(got, { from: client.peerId, text: 'from the client' })
    await client.invoke(p, 'sendMany', json({ to: client.peerId, key: 'reply', count: 3 }))
    for (let i = 0; i < 3; i++) {
      const m = await client.recv(p, 'reply', { timeoutMs: 2000 })
      assert.deepEqual({ from: m.from, text: text(m.data) }, { from: p, text: String(i) })
    }
    assert.equal(await codeOf(client.recv(p, 'reply', { timeoutMs: 200 })), 'TIMEOUT')
  })
})
