import assert from 'node:assert/strict'
import { APP, PartitionCluster, SETTLE_MS, skipWithoutNetns, sleep } from './scenario.js'

/** Creations tried on each side once the split is noticed, one after another. */
const CREATES_PER_SIDE = 3

describe('partition: four nodes split two and two', function () {
  this.timeout(180_000)
  let cluster: PartitionCluster | undefined

  before(async function () {
    await skipWithoutNetns(this)
    cluster = await PartitionCluster.start(['a', 'b', 'c', 'd'])
  })

  after(async function () {
    await cluster?.stop(this.currentTest?.state === 'failed')
  })

  it('places nothing on either side, and keeps every acknowledged increment of a process on one side', async function () {
    const c = cluster!
    const pid = await c.client('a').request<string>({ op: 'create', app: APP, node: c.node('a').peerId })
    for (let i = 1; i <= 10; i++) assert.equal(await c.incr('a', pid), i)

    const cutAt = Date.now()
    await c.net.partition([['a', 'b'], ['c', 'd']])
    await c.client('a').startLoop('split', pid, ['n'])
    await c.client('c').startLoop('split', pid, ['n'])
    await sleep(Math.max(0, cutAt + SETTLE_MS - Date.now()))
    // no side holds a majority of the four members: neither may place anything
    const placed: string[] = []
    await Promise.all(['a', 'c'].map(async side => {
      for (let i = 0; i < CREATES_PER_SIDE; i++) {
        const pid = await c.tryCreate(side)
        if (pid != null) placed.push(`the side of ${side} placed a process: ${pid}`)
      }
    }))
    await c.client('a').stopLoop('split')
    await c.client('c').stopLoop('split')

    await c.net.heal()
    await c.verdict(pid, ['n'], placed)
  })
})
