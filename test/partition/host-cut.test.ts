import assert from 'node:assert/strict'
import { APP, PartitionCluster, skipWithoutNetns, sleep, TAKEOVER_BOUND_MS, within } from './scenario.js'

/** The majority side's client starts calling this long after the cut (the issue: from the fifth second of twenty). */
const MAJORITY_CALLS_AFTER_MS = 3000
/** Increments the majority side must have acknowledged before the network heals. */
const MAJORITY_ACKS = 20
/** Calls on after the heal, through the majority side. */
const AFTER_HEAL_MS = 3000

describe('partition: a host cut off from everyone, with clients on both sides', function () {
  this.timeout(180_000)
  let cluster: PartitionCluster | undefined

  before(async function () {
    await skipWithoutNetns(this)
    cluster = await PartitionCluster.start(['a', 'b', 'c'])
  })

  after(async function () {
    await cluster?.stop(this.currentTest?.state === 'failed')
  })

  it('answers through one activation at a time, and keeps every acknowledged increment', async function () {
    const c = cluster!
    const pid = await c.client('a').request<string>({ op: 'create', app: APP, node: c.node('a').peerId })
    for (let i = 1; i <= 10; i++) assert.equal(await c.incr('a', pid), i)

    // a's link is cut: the client beside a keeps calling a; from a few seconds on, the client beside b calls too
    await c.net.isolate('a')
    await c.client('a').startLoop('cut', pid, ['n'])
    await sleep(MAJORITY_CALLS_AFTER_MS)
    await c.client('b').startLoop('cut', pid, ['n'])
    const served = await within(TAKEOVER_BOUND_MS, () => c.acked('b', 'cut') >= MAJORITY_ACKS)
    await c.client('a').stopLoop('cut')

    await c.net.heal()
    await sleep(AFTER_HEAL_MS)
    await c.client('b').stopLoop('cut')
    await c.verdict(pid, ['n'], served ? [] : [`the majority side (b, c) acknowledged ${c.acked('b', 'cut')} increments in ${TAKEOVER_BOUND_MS} ms after a was cut off`])
  })
})
