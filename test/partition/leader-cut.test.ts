import assert from 'node:assert/strict'
import { APP, PartitionCluster, SETTLE_MS, skipWithoutNetns, sleep, TAKEOVER_BOUND_MS, within } from './scenario.js'

const MAJORITY_ACKS = 20
const AFTER_HEAL_MS = 3000

describe('partition: the leader cut off, hosting a process', function () {
  this.timeout(180_000)
  let cluster: PartitionCluster | undefined

  before(async function () {
    await skipWithoutNetns(this)
    cluster = await PartitionCluster.start(['a', 'b', 'c'])
  })

  after(async function () {
    await cluster?.stop(this.currentTest?.state === 'failed')
  })

  it('places nothing on the leader\'s side, elects and serves on the other, and keeps every acknowledged increment', async function () {
    const c = cluster!
    const leader = await c.waitForMesh()
    const other = c.net.names.find(h => h !== leader)!
    const pid = await c.client(leader).request<string>({ op: 'create', app: APP, node: c.node(leader).peerId })
    for (let i = 1; i <= 10; i++) assert.equal(await c.incr(leader, pid), i)

    const cutAt = Date.now()
    await c.net.isolate(leader)
    await c.client(leader).startLoop('cut', pid, ['n'])
    await c.client(other).startLoop('cut', pid, ['n'])
    const problems: string[] = []
    if (!await within(TAKEOVER_BOUND_MS, () => c.acked(other, 'cut') >= MAJORITY_ACKS)) {
      problems.push(`the majority side acknowledged ${c.acked(other, 'cut')} increments in ${TAKEOVER_BOUND_MS} ms after the leader was cut off`)
    }
    // once the cut is noticed: the majority side places a new process, the old leader alone places nothing
    await sleep(Math.max(0, cutAt + SETTLE_MS - Date.now()))
    const minority = await c.tryCreate(leader)
    if (minority != null) problems.push(`the cut-off leader placed a process alone: ${minority}`)
    let majority = ''
    if (!await within(TAKEOVER_BOUND_MS, async () => { majority = await c.client(other).request<string>({ op: 'create', app: APP }, 10_000); return true })) {
      problems.push('the majority side could not place a process')
    }
    await c.client(leader).stopLoop('cut')

    await c.net.heal()
    await sleep(AFTER_HEAL_MS)
    await c.client(other).stopLoop('cut')
    if (majority !== '' && !await within(15_000, async () => (await c.client(leader).request<Array<{ pid: string }>>({ op: 'list' })).some(p => p.pid === majority))) {
      problems.push(`after the heal, the old leader's node does not list ${majority}, created on the majority side`)
    }
    await c.verdict(pid, ['n'], problems)
  })
})
