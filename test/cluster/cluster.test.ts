import assert from 'node:assert/strict'
import { PraasError } from '../../protocol/errors.js'
import { mesh, meshNode, stopAll, until } from './mesh.js'
import type { MeshNode } from './mesh.js'

/** Stops a node without saying that it leaves (SWIM's leave), as if its process had been killed. */
async function crash (node: MeshNode): Promise<void> {
  node.services.swim.beforeStop = async () => {}
  await node.stop()
}

function agreedLeader (nodes: MeshNode[]): string | undefined {
  const leaders = new Set(nodes.map(n => n.services.election.leader))
  const [leader] = leaders
  return leaders.size === 1 && leader != null && nodes.some(n => n.peerId.toString() === leader) ? leader : undefined
}

describe('cluster', function () {
  this.timeout(60_000)

  describe('five nodes', () => {
    let nodes: MeshNode[]
    let live: MeshNode[]
    /** term -> the nodes that became leader in it */
    const claims = new Map<number, Set<string>>()

    before(async () => {
      // figures in the records every 500 ms (30 s in a node), so that every node sees the loads soon
      nodes = await mesh(5, { membership: { figuresIntervalMs: 500 } })
      live = [...nodes]
      for (const node of nodes) {
        node.services.election.addEventListener('leader:change', ({ detail }) => {
          if (detail.leader !== node.peerId.toString()) return
          const set = claims.get(detail.term) ?? new Set()
          set.add(detail.leader)
          claims.set(detail.term, set)
        })
      }
    })

    after(async () => {
      await stopAll(nodes)
    })

    it('sees every node in every membership, with the load it reports: the leader with each lease renewal, the others through SWIM records', async () => {
      nodes.forEach((node, i) => { node.services.membership.setLoad(() => 100 + i) })
      await until(() => nodes.every(n => n.services.membership.members().length === 4), 'full membership')
      await until(() => agreedLeader(nodes) != null, 'one agreed leader', 10_000)
      const leader = nodes.find(n => n.services.election.isLeader())!
      await until(() => leader.services.membership.members().every(m => m.load >= 100), 'loads with the lease renewals', 5_000)
      await until(() => nodes.every(n => n.services.membership.members().every(m => m.load >= 100)), 'loads in the records', 10_000)
      for (const [i, node] of nodes.entries()) {
        for (const other of nodes.filter(n => n !== node)) {
          const member = node.services.membership.get(other.peerId.toString())
          assert.ok(member != null)
          assert.equal(member.load, 100 + nodes.indexOf(other), `node ${i} sees the load of ${nodes.indexOf(other)}`)
          assert.equal(member.status, 'alive')
          assert.ok(member.addrs.length > 0 && member.memory > 0)
          assert.ok(member.addrs.every(a => a.toString().endsWith(`/p2p/${other.peerId.toString()}`)))
        }
      }
    })

    it('elects exactly one leader, which every node follows', async () => {
      await until(() => agreedLeader(nodes) != null, 'one agreed leader', 10_000)
      assert.equal(nodes.filter(n => n.services.election.isLeader()).length, 1)
      assert.equal(new Set(nodes.map(n => n.services.election.term)).size, 1, 'one term')
    })

    it('forwards an allocation asked of a follower to the leader, with growing epochs', async () => {
      const follower = nodes.find(n => !n.services.election.isLeader())!
      const term = follower.services.election.term
      const first = await follower.services.allocator.allocate({ pid: 'a-1', app: 'counter' })
      const second = await follower.services.allocator.allocate({ pid: 'a-2', app: 'counter' })
      assert.equal(first.epoch.term, term)
      assert.ok(second.epoch.counter > first.epoch.counter)
      assert.ok(nodes.some(n => n.peerId.toString() === first.node))
      assert.ok(first.addrs.every(a => a.toString().endsWith(`/p2p/${first.node}`)))
      assert.throws(() => follower.services.allocator.nextEpoch('x'), (err: unknown) => err instanceof PraasError && err.code === 'UNAVAILABLE')
    })

    it('places on the requested node, and refuses a node that is not in the cluster', async () => {
      const follower = nodes.find(n => !n.services.election.isLeader())!
      const target = nodes[3].peerId.toString()
      assert.equal((await follower.services.allocator.allocate({ pid: 'b-1', node: target })).node, target)
      await assert.rejects(follower.services.allocator.allocate({ pid: 'b-2', node: '12D3KooWNotAMemberNotAMemberNotAMemberNotAMember' }),
        (err: unknown) => err instanceof PraasError && err.code === 'NOT_FOUND')
    })

    it('spreads new processes by load (power of two choices)', async () => {
      const hosted = new Map(nodes.map(n => [n.peerId.toString(), 0]))
      nodes.forEach(node => { node.services.membership.setLoad(() => hosted.get(node.peerId.toString())!) })
      const leader = nodes.find(n => n.services.election.isLeader())!
      await until(() => leader.services.membership.members().every(m => m.load === 0), 'lease renewals with the new loads', 5_000)
      for (let i = 0; i < 200; i++) {
        const placement = await leader.services.allocator.allocate({ pid: `spread-${i}` })
        hosted.set(placement.node, hosted.get(placement.node)! + 1)
        if (i % 20 === 0) await new Promise(resolve => setTimeout(resolve, 100))
      }
      const counts = [...hosted.values()]
      assert.ok(Math.min(...counts) >= 30 && Math.max(...counts) <= 50, `placements per node: ${counts.join(', ')}`)
    })

    it('elects a new leader with a higher term within 3 s when the leader dies', async () => {
      const leaderId = agreedLeader(live)!
      const leader = live.find(n => n.peerId.toString() === leaderId)!
      const term = leader.services.election.term
      live = live.filter(n => n !== leader)
      const started = Date.now()
      await crash(leader)
      await until(() => agreedLeader(live) != null && live[0].services.election.term > term, 'a new leader', 10_000)
      const elapsed = Date.now() - started
      console.log(`      fail-over after a crash: ${elapsed} ms`)
      assert.ok(elapsed < 3_000, `fail-over took ${elapsed} ms`)
      const placement = await live[0].services.allocator.allocate({ pid: 'after-crash' })
      assert.ok(placement.epoch.term > term, 'epochs of the new term are higher')
      await until(() => live.every(n => n.services.membership.get(leaderId) == null), 'the dead leader leaves the membership', 5_000)
    })

    it('elects again within 3 s when the next leader leaves gracefully', async () => {
      const leaderId = agreedLeader(live)!
      const leader = live.find(n => n.peerId.toString() === leaderId)!
      const term = leader.services.election.term
      live = live.filter(n => n !== leader)
      const started = Date.now()
      await leader.stop()
      await until(() => agreedLeader(live) != null && live[0].services.election.term > term, 'a new leader', 10_000)
      const elapsed = Date.now() - started
      console.log(`      fail-over after a graceful stop: ${elapsed} ms`)
      assert.ok(elapsed < 3_000, `fail-over took ${elapsed} ms`)
    })

    it('never had two leaders in one term', () => {
      assert.ok(claims.size >= 3, `terms with a leader: ${[...claims.keys()].join(', ')}`)
      for (const [term, leaders] of claims) assert.equal(leaders.size, 1, `term ${term}: ${[...leaders].join(', ')}`)
    })
  })

  it('a node alone elects itself and allocates', async () => {
    const node = await meshNode()
    try {
      await until(() => node.services.election.isLeader(), 'leadership', 6_000)
      const placement = await node.services.allocator.allocate({ pid: 'solo' })
      assert.equal(placement.node, node.peerId.toString())
      assert.deepEqual({ term: placement.epoch.term, counter: placement.epoch.counter }, { term: node.services.election.term, counter: 1 })
      assert.ok(placement.epoch.grant != null && placement.epoch.grant.byteLength > 0, 'the epoch comes with a grant')
    } finally {
      await node.stop()
    }
  })
})
