import assert from 'node:assert/strict'
import { chooseReplicas } from '../../node/durability/replica-set.js'
import { APP, PartitionCluster, SETTLE_MS, skipWithoutNetns, sleep, TAKEOVER_BOUND_MS, within } from './scenario.js'

const HOSTS = ['a', 'b', 'c', 'd', 'e']
/** Increments the host's side must acknowledge, once the split has settled, before the network heals. */
const ACKS_AFTER_SETTLE = 20
const AFTER_HEAL_MS = 3000

describe('partition: a host on the majority side whose replica is cut off', function () {
  this.timeout(240_000)
  let cluster: PartitionCluster | undefined

  before(async function () {
    await skipWithoutNetns(this)
    cluster = await PartitionCluster.start(HOSTS)
  })

  after(async function () {
    await cluster?.stop(this.currentTest?.state === 'failed')
  })

  it('goes on serving with a replica on its side, and keeps every acknowledged increment', async function () {
    const c = cluster!
    const host = c.node('a')
    const pid = await c.client('a').request<string>({ op: 'create', app: APP, node: host.peerId })
    for (let i = 1; i <= 10; i++) assert.equal(await c.incr('a', pid), i)
    // the host's one replica (--replicas 2), as every node computes it, and the node a reseat
    // tries next go to the minority side: with two of five members silent, no restore may run
    // (a restore waits while R or more members are silent), so the process is served only if its
    // host goes on, with a replica it finds on its own side
    const [replica, next] = chooseReplicas(pid, host.peerId, c.nodes.filter(n => n !== host).map(n => n.peerId), 2)
    const minority = [c.hostOf(replica), c.hostOf(next)]
    await c.client('a').startLoop('rc', pid, ['n'])
    await c.net.partition([minority])
    await sleep(SETTLE_MS)
    const settled = c.acked('a', 'rc')
    const served = await within(TAKEOVER_BOUND_MS, () => c.acked('a', 'rc') >= settled + ACKS_AFTER_SETTLE)
    await c.net.heal()
    await sleep(AFTER_HEAL_MS)
    await c.client('a').stopLoop('rc')
    await c.verdict(pid, ['n'], served
      ? []
      : [`the host's side (${HOSTS.filter(h => !minority.includes(h)).join('')}) acknowledged ${c.acked('a', 'rc') - settled} increments in ${TAKEOVER_BOUND_MS} ms after its replica's node ${c.hostOf(replica)} was cut off with ${minority.join(', ')}`])
  })
})
