// A scale scenario, outside `npm test` (run it with `npm run test:scale`; .ci/run does): sixteen
// node processes on one machine, with membership over SWIM (docs/cluster.md).
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { Client } from '../../sdk/index.js'
import { dumpOnFailure, eventually, startCluster, stopCluster, waitForMesh } from '../helpers/cluster.js'
import { fixture } from '../helpers/paths.js'
import type { TestNode } from '../helpers/cluster.js'

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

describe('a mesh of sixteen node processes', function () {
  this.timeout(300_000)
  let nodes: TestNode[] = []
  /** One client per node, each bootstrapped at its node, to read every node's own view. */
  const views = new Map<string, Client>()

  afterEach(function () {
    dumpOnFailure(this, () => nodes)
  })

  after(async function () {
    await Promise.allSettled([...views.values()].map(async c => { await c.close() }))
    await stopCluster(nodes)
  })

  async function viewOf (node: TestNode): Promise<Client> {
    let client = views.get(node.peerId)
    if (client == null) {
      client = await Client.connect({ bootstrap: [node.addrs[0]], token: node.token })
      views.set(node.peerId, client)
    }
    return client
  }

  it('forms, elects one leader and serves invocations on every node', async function () {
    nodes = await startCluster(16, [], 120_000)
    const leader = await waitForMesh(nodes, 120_000)
    assert.ok(nodes.some(n => n.peerId === leader))
    const client = await viewOf(nodes[5])
    await client.deploy('kit', await readFile(fixture('testkit')))
    for (const node of nodes) {
      const pid = await client.create('kit', { node: node.peerId })
      assert.equal(text(await client.invoke(pid, 'incr')), '1')
    }
  })

  it('elects a new leader of a higher term when the leader is SIGKILLed, which every survivor follows', async function () {
    const admin = await viewOf(nodes[5])
    const before = await admin.status()
    const leader = nodes.find(n => n.peerId === before.leader)!
    const started = Date.now()
    await leader.kill('SIGKILL')
    nodes = nodes.filter(n => n !== leader)
    views.get(leader.peerId)?.close().catch(() => {})
    views.delete(leader.peerId)
    const watcher = nodes.find(n => n.peerId !== leader.peerId)!
    await eventually(async () => {
      const status = await (await viewOf(watcher)).status()
      return status.leader != null && status.leader !== leader.peerId && status.term > before.term
    }, 30_000, 'a new leader')
    console.log(`      a new leader after ${Date.now() - started} ms`)
    const elected = await waitForMesh(nodes, 60_000)
    assert.notEqual(elected, leader.peerId)
  })

  it('drops a SIGKILLed member from every node\'s view, and places nothing on it', async function () {
    const { leader } = await (await viewOf(nodes[0])).status()
    const victim = nodes.find(n => n.peerId !== leader)!
    const started = Date.now()
    await victim.kill('SIGKILL')
    nodes = nodes.filter(n => n !== victim)
    views.get(victim.peerId)?.close().catch(() => {})
    views.delete(victim.peerId)
    await Promise.all(nodes.map(async node => {
      await eventually(async () => !(await (await viewOf(node)).status()).nodes.some(n => n.peerId === victim.peerId), 30_000, `${node.peerId} dropping the dead member`)
    }))
    console.log(`      the dead member gone from all ${nodes.length} views after ${Date.now() - started} ms`)
    const client = await viewOf(nodes[0])
    const pids: string[] = []
    for (let i = 0; i < 30; i++) {
      const pid = await client.create('kit')
      assert.equal(text(await client.invoke(pid, 'incr')), '1')
      pids.push(pid)
    }
    const hosts = new Map((await client.list()).map(p => [p.pid, p.node]))
    assert.ok(pids.every(pid => hosts.get(pid) != null && hosts.get(pid) !== victim.peerId))
  })
})
