import assert from 'node:assert/strict'
import { BroadcastQueue } from '../../node/cluster/swim/broadcasts.js'
import { SwimStatus, retransmitLimit, pushPullIntervalMs } from '../../node/cluster/swim/index.js'
import { Suspicion, remainingMs, suspicionMinMs } from '../../node/cluster/swim/suspicion.js'
import { Scheduler } from '../../bench/sim/scheduler.js'
import type { SwimUpdate } from '../../node/cluster/swim/index.js'

const update = (member: string, u: Partial<SwimUpdate> = {}): SwimUpdate =>
  ({ member, incarnation: 1, status: SwimStatus.ALIVE, from: '', recordVersion: 0, record: new Uint8Array(0), ...u })

describe('swim parts', () => {
  describe('BroadcastQueue', () => {
    it('sends each update `limit` times, the least sent first, within the byte budget', () => {
      const queue = new BroadcastQueue()
      queue.enqueue(update('a'))
      assert.deepEqual(queue.take(4096, 3).map(u => u.member), ['a'])
      queue.enqueue(update('b'))
      assert.deepEqual(queue.take(4096, 3).map(u => u.member), ['b', 'a'])
      // room for one: the fresher (b: sent once) goes before a (twice)
      assert.deepEqual(queue.take(20, 3).map(u => u.member), ['b'])
      assert.deepEqual(queue.take(4096, 3).map(u => u.member), ['a', 'b'])
      assert.equal(queue.size, 0)
    })

    it('replaces what is queued about a member, keeping its record when the newer carries none', () => {
      const queue = new BroadcastQueue()
      queue.enqueue(update('a', { recordVersion: 4, record: new Uint8Array([9]) }))
      queue.enqueue(update('a', { incarnation: 2, status: SwimStatus.SUSPECT, from: 'b' }))
      assert.equal(queue.size, 1)
      const [sent] = queue.take(4096, 5)
      assert.equal(sent.incarnation, 2)
      assert.equal(sent.status, SwimStatus.SUSPECT)
      assert.equal(sent.recordVersion, 4)
      queue.forget('a')
      assert.equal(queue.size, 0)
    })
  })

  describe('Suspicion (Lifeguard)', () => {
    it('starts at the longest timeout and shrinks to the shortest with k confirmations', () => {
      assert.equal(remainingMs(0, 3, 0, 1000, 6000), 6000)
      assert.equal(remainingMs(3, 3, 0, 1000, 6000), 1000)
      const one = remainingMs(1, 3, 0, 1000, 6000)
      assert.ok(one < 6000 && one > 1000)
      assert.equal(remainingMs(1, 3, 500, 1000, 6000), one - 500)
    })

    it('fires after the confirmed timeout, counting each confirmer once and not the accuser', () => {
      const scheduler = new Scheduler()
      const clock = scheduler.clockFor(() => true)
      let firedAt: number | undefined
      const suspicion = new Suspicion('accuser', 1, 1000, 6000, clock, () => { firedAt = scheduler.now() })
      scheduler.run(200)
      assert.equal(suspicion.confirm('accuser'), false)
      assert.equal(suspicion.confirm('other'), true)
      assert.equal(suspicion.confirm('other'), false)
      scheduler.run(10_000)
      assert.equal(firedAt, 1000)
    })

    it('scales with log10 of the cluster size', () => {
      assert.equal(suspicionMinMs(3, 5, 300), 900)
      assert.equal(suspicionMinMs(3, 1000, 300), 2700)
    })
  })

  it('retransmits and syncs less often as the cluster grows, logarithmically', () => {
    assert.equal(retransmitLimit(4, 16), 8)
    assert.equal(retransmitLimit(4, 1000), 16)
    assert.equal(pushPullIntervalMs(30_000, 32), 30_000)
    assert.equal(pushPullIntervalMs(30_000, 1000), 180_000)
  })
})
