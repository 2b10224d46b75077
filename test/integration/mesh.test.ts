import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { Client } from '../../sdk/index.js'
import { eventually, startCluster, stopCluster } from '../helpers/cluster.js'
import { fixture } from '../helpers/paths.js'
import type { TestNode } from '../helpers/cluster.js'

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

describe('a mesh of five node processes without a broker', function () {
  this.timeout(180_000)
  let nodes: TestNode[]
  let client: Client
  /** One process on each node, created before anything is killed. */
  let pids: string[]

  before(async function () {
    nodes = await startCluster(5)
    client = await Client.connect({ bootstrap: [nodes[1].addrs[0]], token: nodes[1].token })
    await client.deploy('kit', await readFile(fixture('testkit')))
    pids = []
    for (const node of nodes) {
      // the leader's view of the membership may lag the nodes' own by a heartbeat
      await eventually(async () => { pids.push(await client.create('kit', { node: node.peerId })); return true }, 15_000, `placing on ${node.peerId}`)
    }
  })

  after(async function () {
    await client?.close()
    if (nodes != null) await stopCluster(nodes)
  })

  it('agrees on one leader, and every node reports it', async function () {
    const statuses = await Promise.all(nodes.map(async node => {
      const c = await Client.connect({ bootstrap: [node.addrs[0]], token: node.token })
      try { return await c.status() } finally { await c.close() }
    }))
    const leaders = new Set(statuses.map(s => `${s.leader}@${s.term}`))
    assert.equal(leaders.size, 1, [...leaders].join(', '))
    assert.ok(nodes.some(n => n.peerId === statuses[0].leader))
    for (const status of statuses) assert.equal(status.nodes.length, 5)
  })

  it('takes back a follower that was paused past the election timeout, without a new term (pre-vote)', async function () {
    const status = async (node: TestNode): Promise<{ leader: string | null, term: number }> => {
      const c = await Client.connect({ bootstrap: [node.addrs[0]], token: node.token })
      try { return await c.status() } finally { await c.close() }
    }
    const before = await status(nodes[0])
    const follower = nodes.find(n => n.peerId !== before.leader && n !== nodes[1])!
    process.kill(follower.pid, 'SIGSTOP')
    await new Promise(resolve => setTimeout(resolve, 2500))
    process.kill(follower.pid, 'SIGCONT')
    // it missed the leader's heartbeats and may stand; the others still hear the leader
    await new Promise(resolve => setTimeout(resolve, 3000))
    await eventually(async () => {
      const views = await Promise.all(nodes.map(status))
      return views.every(v => v.leader === before.leader && v.term === before.term)
    }, 10_000, 'every node following the same leader in the same term')
  })

  it('spreads processes created through one node over the others', async function () {
    const created: string[] = []
    for (let i = 0; i < 20; i++) created.push(await client.create('kit'))
    const hosts = new Map<string, number>()
    for (const p of (await client.list()).filter(p => created.includes(p.pid))) hosts.set(p.node, (hosts.get(p.node) ?? 0) + 1)
    assert.ok(hosts.size >= 4, `20 processes landed on ${hosts.size} nodes: ${JSON.stringify([...hosts.values()])}`)
  })

  it('lets a client that knows one node reach a process on every node, straight at its host', async function () {
    const fresh = await Client.connect({ bootstrap: [nodes[3].addrs[0]], token: nodes[3].token })
    try {
      for (const [i, pid] of pids.entries()) {
        assert.equal(text(await fresh.invoke(pid, 'whoami')), JSON.stringify({ pid, app: 'kit' }), `process on node ${i}`)
      }
    } finally {
      await fresh.close()
    }
  })

  it('keeps serving processes hosted elsewhere after the bootstrap node is SIGKILLed, and finds new ones in the DHT', async function () {
    const fresh = await Client.connect({ bootstrap: [nodes[0].addrs[0]], token: nodes[0].token })
    try {
      // This client has looked up the process on node 2 only; the one on node 4 it must find after the kill.
      assert.equal(text(await fresh.invoke(pids[2], 'incr')), '1')
      await nodes[0].kill('SIGKILL')
      assert.equal(text(await fresh.invoke(pids[2], 'incr')), '2')
      assert.equal(text(await fresh.invoke(pids[4], 'whoami')), JSON.stringify({ pid: pids[4], app: 'kit' }))
    } finally {
      await fresh.close()
    }
  })

  it('elects a new leader after the leader is SIGKILLed, and creates processes again', async function () {
    const alive = nodes.filter(n => n.child.exitCode == null && n.child.signalCode == null)
    const observer = await Client.connect({ bootstrap: alive.map(n => n.addrs[0]), token: alive[0].token })
    try {
      // The bootstrap node killed before may have been the leader: wait for a live one.
      let before = await observer.status()
      await eventually(async () => {
        before = await observer.status()
        return alive.some(n => n.peerId === before.leader)
      }, 15_000, 'a live leader')
      const leader = alive.find(n => n.peerId === before.leader)!
      const killedAt = Date.now()
      await leader.kill('SIGKILL')
      const survivors = alive.filter(n => n !== leader)
      const after = await Client.connect({ bootstrap: survivors.map(n => n.addrs[0]), token: survivors[0].token })
      try {
        let elected = ''
        await eventually(async () => {
          const status = await after.status()
          elected = status.leader ?? ''
          return elected !== '' && elected !== leader.peerId && status.term > before.term
        }, 15_000, 'a new leader')
        process.stderr.write(`      (new leader after ${Date.now() - killedAt} ms)\n`)
        const pid = await after.create('kit')
        assert.equal(text(await after.invoke(pid, 'incr')), '1')
      } finally {
        await after.close()
      }
    } finally {
      await observer.close()
    }
  })
})
