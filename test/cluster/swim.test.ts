import assert from 'node:assert/strict'
import { SimCluster } from '../../bench/sim/cluster.js'
import { falsePositives } from '../../bench/sim/scenarios.js'
import { SWIM_PROTOCOL, SwimMessage, SwimStatus } from '../../node/cluster/swim/index.js'
import type { SimNode } from '../../bench/sim/cluster.js'
import type { StatusChange } from '../../node/cluster/swim/index.js'

// The SWIM core in simulated time (bench/sim/): N copies of the real code on one simulated
// clock and network, fixed seeds, so every run makes the same choices. Limits below are
// simulated milliseconds, not wall-clock time.

function started (size: number, seed: number, init: Partial<ConstructorParameters<typeof SimCluster>[0]> = {}): SimCluster {
  const cluster = new SimCluster({ size, seed, ...init })
  cluster.start(1_000)
  const took = cluster.runUntil(() => cluster.converged(), 60_000, 100)
  assert.ok(took != null, 'the cluster converges after its start')
  return cluster
}

/** Records every status change that each node reports about `target`. */
function watch (nodes: SimNode[], target: string): StatusChange[] {
  const seen: StatusChange[] = []
  for (const node of nodes) {
    node.swim.addEventListener('member:status', (evt) => { if (evt.detail.id === target) seen.push(evt.detail) })
  }
  return seen
}

/** A gossip message as `from` would send it, straight onto the simulated network. */
function inject (cluster: SimCluster, from: string, to: string, updates: Array<Partial<SwimMessage['updates'][number]>>): void {
  const data = SwimMessage.encode({ kind: SwimMessage.Kind.GOSSIP, updates: updates as SwimMessage['updates'] })
  cluster.network.transport(from, SWIM_PROTOCOL).send(to, data)
}

describe('swim (simulated time)', function () {
  this.timeout(120_000)

  it('sees every member alive once started, each with the record it set', () => {
    const cluster = started(24, 1)
    for (const node of cluster.nodes) {
      for (const other of cluster.nodes) {
        const view = node.swim.member(other.id)
        assert.equal(view?.status, 'alive')
        assert.ok(view.recordVersion > 0 && view.record.byteLength > 0, 'record heard')
      }
    }
  })

  it('detects a dead node everywhere, through suspicion', () => {
    const cluster = started(32, 2)
    const victim = cluster.nodes[5]
    const observers = cluster.nodes.filter(n => n !== victim)
    const seen = watch(observers, victim.id)
    cluster.kill(victim)
    const took = cluster.runUntil(() => observers.every(n => n.swim.status(victim.id) === 'dead'), 30_000, 10)
    assert.ok(took != null, 'every live node marks it dead')
    assert.ok(seen.some(c => c.status === 'suspect'), 'suspected before declared dead')
    assert.ok(seen.every(c => !c.left), 'a crash is not a leave')
    assert.ok(observers.every(n => n.swim.status(n.id) === 'alive' && cluster.nodes.every(o => o === victim || n.swim.status(o.id) === 'alive')), 'nobody else is marked down')
  })

  it('declares no live node dead over 10 minutes at 1% loss with the default config', () => {
    const cluster = started(32, 3)
    const result = falsePositives(cluster, 0.01, 600_000)
    assert.equal(result.deaths, 0)
    assert.ok(cluster.converged(), 'everyone still sees everyone alive')
  })

  it('keeps a member alive through indirect probes when one link to it is cut', () => {
    const cluster = started(16, 4)
    const [a, b] = cluster.nodes.slice(3, 5)
    const seen = watch([a], b.id)
    cluster.network.cut(a.id, b.id)
    cluster.run(60_000)
    assert.equal(a.swim.status(b.id), 'alive')
    assert.ok(!seen.some(c => c.status !== 'alive'), 'never suspected: helpers relayed its acks')
    assert.ok(cluster.converged())
  })

  it('keeps a slow node from suspecting healthy members (Lifeguard: local health multiplier)', () => {
    const suspicionsBySlowNode = (awarenessMax: number): number => {
      const cluster = started(32, 11, { swim: { awarenessMax } })
      const slow = cluster.nodes[5]
      let count = 0
      for (const node of cluster.nodes) {
        node.swim.addEventListener('member:status', (evt) => { if (evt.detail.status === 'suspect' && evt.detail.id !== slow.id) count++ })
      }
      // everything it sends and receives waits 200 ms more: a starved event loop, as on a loaded machine
      cluster.network.setSlow(slow.id, 200)
      cluster.run(60_000)
      return count
    }
    const withMultiplier = suspicionsBySlowNode(8)
    const without = suspicionsBySlowNode(1)
    assert.ok(without > 500, `without it, the slow node accuses the healthy (${without} suspicions heard)`)
    assert.ok(withMultiplier * 20 < without, `with it: ${withMultiplier} against ${without}`)
  })

  it('marks the other side of a partition dead, and recovers after the heal', () => {
    const cluster = started(20, 5)
    const left = cluster.nodes.slice(0, 12)
    const right = cluster.nodes.slice(12)
    cluster.network.partition([left.map(n => n.id), right.map(n => n.id)])
    const split = (): boolean => left.every(a => right.every(b => a.swim.status(b.id) === 'dead' && b.swim.status(a.id) === 'dead')) &&
      left.every(a => left.every(b => a.swim.status(b.id) === 'alive')) && right.every(a => right.every(b => a.swim.status(b.id) === 'alive'))
    assert.ok(cluster.runUntil(split, 60_000, 100) != null, 'each side sees the other dead and itself alive')
    cluster.network.heal()
    assert.ok(cluster.runUntil(() => cluster.converged(), 60_000, 100) != null, 'everyone alive again after the heal')
  })

  it('has a suspected live member refute with a higher incarnation', () => {
    const cluster = started(16, 6)
    const [accuser, witness, suspect] = cluster.nodes.slice(1, 4)
    const before = suspect.swim.incarnation
    const seen = watch(cluster.nodes, suspect.id)
    inject(cluster, accuser.id, witness.id, [{ member: suspect.id, incarnation: before, status: SwimStatus.SUSPECT, from: accuser.id }])
    cluster.run(20_000)
    assert.ok(seen.some(c => c.status === 'suspect'), 'the suspicion spread')
    assert.ok(!seen.some(c => c.status === 'dead'), 'nobody declared it dead')
    assert.equal(suspect.swim.incarnation, before + 1)
    for (const node of cluster.nodes) {
      assert.equal(node.swim.member(suspect.id)?.status, 'alive')
      assert.equal(node.swim.member(suspect.id)?.incarnation, before + 1)
    }
  })

  it('ignores messages from outside the roster, and updates about non-members', () => {
    const cluster = started(8, 7)
    const outsider = 'not-a-member'
    cluster.network.add(outsider)
    const [node, other] = cluster.nodes
    const rejected = node.swim.stats().rejected
    inject(cluster, outsider, node.id, [{ member: other.id, incarnation: 1e6, status: SwimStatus.DEAD, from: outsider }])
    inject(cluster, other.id, node.id, [{ member: 'someone-else', incarnation: 1, status: SwimStatus.ALIVE }])
    cluster.run(5_000)
    assert.equal(node.swim.stats().rejected, rejected + 1)
    assert.equal(node.swim.status(other.id), 'alive')
    assert.equal(node.swim.member('someone-else'), undefined)
  })

  it('forgets a member removed from the roster, and stops probing it', () => {
    const cluster = started(12, 12)
    const removed = cluster.nodes[3]
    const smaller = new Set([...cluster.roster].filter(id => id !== removed.id))
    const others = cluster.nodes.filter(n => n !== removed)
    cluster.setRoster(smaller)
    assert.equal(others[0].swim.member(removed.id), undefined)
    cluster.run(100) // what was in flight lands
    const received = cluster.network.traffic(removed.id, SWIM_PROTOCOL).messagesReceived
    cluster.run(10_000)
    assert.equal(cluster.network.traffic(removed.id, SWIM_PROTOCOL).messagesReceived, received, 'nothing sent to it any more')
    assert.ok(others.every(n => n.swim.members().length === 11 && n.swim.status(removed.id) === 'dead'))
    assert.ok(others.every(a => others.every(b => a.swim.status(b.id) === 'alive')))
  })

  it('spreads a changed record to every node, the newest of quick changes winning', () => {
    const cluster = started(32, 8)
    const node = cluster.nodes[9]
    node.swim.setRecord(new Uint8Array([1]))
    cluster.run(5)
    // within the record interval: merged into the next broadcast, not sent on its own
    node.swim.setRecord(new Uint8Array([2, 2]))
    const holds = (n: SimNode): boolean => Buffer.from(n.swim.member(node.id)?.record ?? []).equals(Buffer.from([2, 2]))
    assert.ok(cluster.runUntil(() => cluster.nodes.every(holds), 30_000, 10) != null)
    const version = node.swim.member(node.id)!.recordVersion
    cluster.run(10_000)
    assert.ok(cluster.nodes.every(n => holds(n) && n.swim.member(node.id)?.recordVersion === version), 'nothing older came back')
  })

  it('marks a node that leaves dead at once, as having left', () => {
    const cluster = started(16, 9)
    const leaver = cluster.nodes[4]
    const others = cluster.nodes.filter(n => n !== leaver)
    const seen = watch(others, leaver.id)
    leaver.swim.leave()
    cluster.run(50)
    cluster.kill(leaver)
    assert.ok(cluster.runUntil(() => others.every(n => n.swim.member(leaver.id)?.left === true), 5_000, 10) != null)
    assert.ok(seen.every(c => c.status === 'dead' && c.left), 'no suspicion first')
  })

  it('takes a restarted node back, with an incarnation above its old one', () => {
    const cluster = started(16, 10)
    const node = cluster.nodes[7]
    cluster.kill(node)
    assert.ok(cluster.runUntil(() => cluster.converged(), 30_000, 50) != null, 'dead everywhere')
    const deadAt = cluster.nodes[0].swim.member(node.id)!.incarnation
    cluster.restart(node)
    assert.ok(cluster.runUntil(() => cluster.converged(), 30_000, 50) != null, 'alive everywhere')
    assert.ok(cluster.nodes[0].swim.member(node.id)!.incarnation > deadAt)
  })
})
