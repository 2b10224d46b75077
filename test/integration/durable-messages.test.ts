import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { Client } from '../../sdk/index.js'
import { dumpOnFailure, placeOnEvery, startCluster, stopCluster } from '../helpers/cluster.js'
import { fixture } from '../helpers/paths.js'
import { codeOf, text } from '../helpers/assertions.js'
import type { TestNode } from '../helpers/cluster.js'

const json = (value: unknown): string => JSON.stringify(value)

async function hostOf (client: Client, pid: string): Promise<string | undefined> {
  return (await client.list()).find(p => p.pid === pid)?.node
}

/**
 * Messages are durable like state writes (SPEC: with --replicas 2, a message survives the death of
 * any one node once its send resolved): node OS processes on loopback, hosts killed with SIGKILL.
 */
describe('durable messages on node processes', function () {
  this.timeout(120_000)
  let nodes: TestNode[]
  let client: Client

  before(async function () {
    nodes = await startCluster(5, ['--function-timeout', '20000'])
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

  const recvOne = async (pid: string, key: string, timeoutMs = 5000): Promise<string> =>
    JSON.parse(text(await client.invoke(pid, 'recvOne', json({ from: '*', key, timeoutMs })))).text

  it('keeps every acknowledged message, from a client and from a process on another node, when the receiver\'s host is killed', async function () {
    const victim = nodes[1]
    const receiver = await client.create('kit', { node: victim.peerId })
    const sender = await client.create('kit', { node: nodes[3].peerId })
    for (let i = 0; i < 10; i++) await client.send(receiver, 'from-client', `c${i}`)
    // ctx.send resolves once the message is on the receiver's replicas too
    assert.equal(text(await client.invoke(sender, 'sendMany', json({ to: receiver, key: 'from-process', count: 10 }))), '10')
    await victim.kill('SIGKILL')
    const fromClient = JSON.parse(text(await client.invoke(receiver, 'recvMany', json({ from: '*', key: 'from-client', count: 10, timeoutMs: 5000 }))))
    assert.deepEqual(fromClient.map((m: { text: string }) => m.text), Array.from({ length: 10 }, (_, i) => `c${i}`))
    assert.ok(fromClient.every((m: { from: string }) => m.from === client.peerId))
    const fromProcess = JSON.parse(text(await client.invoke(receiver, 'recvMany', json({ from: sender, key: 'from-process', count: 10, timeoutMs: 5000 }))))
    assert.deepEqual(fromProcess.map((m: { text: string }) => m.text), Array.from({ length: 10 }, (_, i) => String(i)))
    assert.notEqual(await hostOf(client, receiver), victim.peerId)
    // gone for good, as an operator says: with two copies, a restore needs the answers of all members but one
    await client.removeNode(victim.peerId)
  })

  it('neither loses a message nor delivers a taken one again, across a swap, a restore, a migration and a kill', async function () {
    const pid = await client.create('kit', { node: nodes[2].peerId })
    // taken by a recv that waits for it (handed over), and by one that finds it queued
    const waiting = recvOne(pid, 'k')
    await new Promise(resolve => setTimeout(resolve, 300))
    await client.send(pid, 'k', 'a')
    assert.equal(await waiting, 'a')
    for (const m of ['b', 'c', 'd', 'e']) await client.send(pid, 'k', m)
    assert.equal(await recvOne(pid, 'k'), 'b')
    await client.swap(pid)
    // brought back by the call, on whichever node the allocator chose
    assert.equal(await recvOne(pid, 'k'), 'c')
    const restoredOn = await hostOf(client, pid)
    const target = nodes.slice(2).find(n => n.peerId !== restoredOn)!
    await client.migrate(pid, target.peerId)
    assert.equal(await hostOf(client, pid), target.peerId)
    await client.send(pid, 'k', 'f')
    await target.kill('SIGKILL')
    assert.equal(await recvOne(pid, 'k'), 'd')
    assert.equal(await recvOne(pid, 'k'), 'e')
    assert.equal(await recvOne(pid, 'k'), 'f')
    assert.equal(await codeOf(client.invoke(pid, 'recvOne', json({ from: '*', key: 'k', timeoutMs: 300 }))), 'TIMEOUT')
    assert.notEqual(await hostOf(client, pid), target.peerId)
  })
})
