import assert from 'node:assert/strict'
import vm from 'node:vm'
import { fullCollector, trimWhenIdle } from '../../node/host/idle-trim.js'

const MiB = 1024 * 1024
const tick = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

describe('host/idle-trim: an idle node gives back its young generation', function () {
  it('collects only when the node was idle over the interval and its young generation is large', async function () {
    const seen = { utilization: 0.5, young: 32 * MiB, collected: 0 }
    const stop = trimWhenIdle({ intervalMs: 20, utilization: () => seen.utilization, young: () => seen.young, collect: () => { seen.collected++; seen.young = 1 * MiB } })
    try {
      await tick(70)
      assert.equal(seen.collected, 0, 'a busy node is left alone')
      seen.utilization = 0.01
      await tick(70)
      assert.equal(seen.collected, 1, 'an idle node with a large young generation collects once')
      await tick(70)
      assert.equal(seen.collected, 1, 'and not again while its young generation stays small')
      seen.young = 8 * MiB
      await tick(70)
      assert.equal(seen.collected, 1, 'nor when it grows back while the node stays idle')
      seen.utilization = 0.5
      await tick(50)
      seen.utilization = 0.01
      await tick(70)
      assert.equal(seen.collected, 2, 'but once more after the next busy spell')
    } finally {
      stop()
    }
  })

  it('takes V8\'s full collection without leaving `gc` to contexts made afterwards', function () {
    const collect = fullCollector()
    collect()
    assert.equal(vm.runInNewContext('typeof gc'), 'undefined')
    assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined')
  })
})
