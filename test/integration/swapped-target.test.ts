import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { Client } from '../../sdk/index.js'
import { dumpOnFailure, placeOnEvery, startCluster, stopCluster } from '../helpers/cluster.js'
import { fixture } from '../helpers/paths.js'
import { text } from '../helpers/assertions.js'
import type { TestNode } from '../helpers/cluster.js'

const json = (value: unknown): string => JSON.stringify(value)

/**
 * Issue 16 item 1: a process that sends to or invokes a swapped process brings it back; with two
 * nodes the target comes back where its replica is, which is the sender's own node.
 */
describe('ctx.send and ctx.invoke to a swapped process that comes back on the caller\'s node', function () {
  this.timeout(120_000)
  let nodes: TestNode[]
  let client: Client

  before(async function () {
    nodes = await startCluster(2)
    client = await Client.connect({ bootstrap: [nodes[0].addrs[0]], token: nodes[0].token })
    await client.deploy('kit', await readFile(fixture('testkit')))
    await placeOnEvery(client, nodes, 'kit')
  })

  afterEach(function () {
    dumpOnFailure(this, () => nodes)
  })

  after(async function () {
    await client?.close()
    if (nodes != null) await stopCluster(nodes)
  })

  /** A process on node 0, and a swapped one whose replica is on node 0 (created on node 1). */
  async function senderAndSwappedTarget (): Promise<{ sender: string, target: string }> {
    const sender = await client.create('kit', { node: nodes[0].peerId })
    const target = await client.create('kit', { node: nodes[1].peerId })
    await client.invoke(target, 'incr')
    await client.swap(target)
    assert.equal((await client.list()).find(p => p.pid === target)?.status, 'swapped')
    return { sender, target }
  }

  async function nodeOf (pid: string): Promise<string | undefined> {
    return (await client.list()).find(p => p.pid === pid && p.status === 'active')?.node
  }

  it('delivers a ctx.send, and the target comes back on the sender\'s node', async function () {
    const { sender, target } = await senderAndSwappedTarget()
    assert.equal(text(await client.invoke(sender, 'sendMany', json({ to: target, key: 'k', count: 3 }))), '3')
    assert.equal(await nodeOf(target), nodes[0].peerId, 'the restore runs where the replica is: the sender\'s node')
    const got = JSON.parse(text(await client.invoke(target, 'recvMany', json({ from: sender, key: 'k', count: 3, timeoutMs: 5000 })))) as Array<{ text: string }>
    assert.deepEqual(got.map(m => m.text), ['0', '1', '2'])
  })

  it('runs a ctx.invoke, with the target\'s state', async function () {
    const { sender, target } = await senderAndSwappedTarget()
    assert.equal(text(await client.invoke(sender, 'call', json({ pid: target, fn: 'incr' }))), '2')
    assert.equal(await nodeOf(target), nodes[0].peerId)
    assert.equal(text(await client.invoke(target, 'incr')), '3')
  })
})
