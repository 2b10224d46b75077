import assert from 'node:assert/strict'
import { TimerCoalescer } from '../../node/cluster/swim/clock.js'

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

describe('cluster clock: one Node timer for the timers of the cluster layer', function () {
  it('runs a timer with slack on the wake-up of a timer due within its slack, never before its own time', async function () {
    const timers = new TimerCoalescer()
    const start = performance.now()
    const order: string[] = []
    let slackRanAt = 0
    timers.schedule(60, () => {
      slackRanAt = performance.now() - start
      order.push('slack')
      setImmediate(() => { order.push('next wake-up') })
    }, 400)
    timers.schedule(200, () => { order.push('precise') })
    await sleep(400)
    assert.deepEqual(order, ['slack', 'precise', 'next wake-up'])
    assert.ok(slackRanAt >= 60, `ran ${slackRanAt} ms after it was set for 60`)
    assert.equal(timers.wakeups, 1)
  })

  it('runs a timer with slack alone by the end of its slack, and gives it how late the wake-up came', async function () {
    const timers = new TimerCoalescer()
    const start = performance.now()
    const late: number[] = []
    let ranAt = 0
    timers.schedule(20, (lateMs) => { ranAt = performance.now() - start; late.push(lateMs) }, 50)
    await sleep(300)
    assert.equal(late.length, 1)
    assert.ok(late[0] >= 0)
    assert.ok(ranAt >= 20)
    assert.equal(timers.wakeups, 1)
  })

  it('wakes for no timer that was cancelled, and runs the others in the order they are due', async function () {
    const timers = new TimerCoalescer()
    const ran: string[] = []
    const early = timers.schedule(10, () => { ran.push('cancelled') })
    timers.schedule(80, () => { ran.push('c') }, 0)
    timers.schedule(40, () => { ran.push('b') }, 200)
    timers.schedule(30, () => { ran.push('a') }, 200)
    early.cancel()
    early.cancel()
    await sleep(200)
    assert.deepEqual(ran, ['a', 'b', 'c'])
    assert.equal(timers.wakeups, 1, 'one wake-up: the cancelled timer caused none, and the two with slack rode on the third')
    assert.equal(timers.size, 0)
  })

  it('does not run a timer that one run before it in the same wake-up cancelled, as clearTimeout would', async function () {
    const timers = new TimerCoalescer()
    const ran: string[] = []
    let second: { cancel(): void } | undefined
    timers.schedule(20, () => { ran.push('first'); second?.cancel() }, 100)
    second = timers.schedule(30, () => { ran.push('second') }, 100)
    timers.schedule(60, () => { ran.push('third') })
    await sleep(200)
    assert.deepEqual(ran, ['first', 'third'])
    assert.equal(timers.wakeups, 1)
  })

  it('runs the same timers as plain setTimeout would, whatever the order they are set and cancelled in', async function () {
    const timers = new TimerCoalescer()
    const ran: number[] = []
    const expected: number[] = []
    const handles = []
    for (let i = 0; i < 40; i++) {
      const ms = (i * 37) % 90
      handles.push(timers.schedule(ms, () => { ran.push(i) }, (i * 13) % 30))
    }
    for (let i = 0; i < 40; i += 3) handles[i].cancel()
    for (let i = 0; i < 40; i++) if (i % 3 !== 0) expected.push(i)
    await sleep(250)
    assert.deepEqual([...ran].sort((a, b) => a - b), expected)
    assert.ok(timers.wakeups < expected.length, `${timers.wakeups} wake-ups for ${expected.length} timers`)
  })
})
