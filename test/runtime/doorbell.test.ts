import assert from 'node:assert/strict'
import { MessageChannel } from 'node:worker_threads'
import { Doorbell, PollerSlots } from '../../node/runtime/doorbell.js'

describe('runtime: doorbell', function () {
  it('hands over every message posted before the ring, and counts them', function () {
    const { port1, port2 } = new MessageChannel()
    const bell = new Doorbell()
    port1.postMessage('a')
    port1.postMessage('b')
    bell.ring()
    const got: unknown[] = []
    const started = performance.now()
    // rung before the spin began: news at once, not a wait for the next ring
    assert.equal(bell.spin(port2, 5_000, m => got.push(m)), 2)
    assert.ok(performance.now() - started < 5_000, 'the spin waited out its time')
    assert.deepEqual(got, ['a', 'b'])
    port1.close()
  })

  it('gives up after its time when nobody rings, delivering nothing', function () {
    const { port1, port2 } = new MessageChannel()
    const bell = new Doorbell()
    const started = performance.now()
    assert.equal(bell.spin(port2, 20, () => assert.fail('no message was sent')), 0)
    assert.ok(performance.now() - started >= 20)
    port1.close()
  })

  it('takes a ring it has already answered as old news', function () {
    const { port1, port2 } = new MessageChannel()
    const bell = new Doorbell()
    port1.postMessage(1)
    bell.ring()
    assert.equal(bell.spin(port2, 1_000, () => {}), 1)
    // the same ring again: the spin waits out its time
    const started = performance.now()
    assert.equal(bell.spin(port2, 20, () => {}), 0)
    assert.ok(performance.now() - started >= 20)
    port1.close()
  })

  it('shares its count through the buffer, as a worker and its controller do', function () {
    const { port1, port2 } = new MessageChannel()
    const receiver = new Doorbell()
    const sender = new Doorbell(receiver.buffer)
    port1.postMessage('x')
    sender.ring()
    const got: unknown[] = []
    assert.equal(receiver.spin(port2, 5_000, m => got.push(m)), 1)
    assert.deepEqual(got, ['x'])
    port1.close()
  })
})

describe('runtime: polling slots', function () {
  it('lets at most `max` threads poll at once, and frees a slot on release', function () {
    const shared = new PollerSlots(undefined, 2)
    const [a, b, c] = [1, 2, 3].map(id => new PollerSlots(shared.buffer, 2, id))
    assert.ok(a.tryAcquire())
    assert.ok(b.tryAcquire())
    assert.equal(c.tryAcquire(), false)
    a.release()
    assert.ok(c.tryAcquire())
    // a release without a slot held gives back nothing
    a.release()
    assert.equal(new PollerSlots(shared.buffer, 2, 4).tryAcquire(), false)
  })

  it('gives back the slots of a thread that is gone, and only those', function () {
    const controller = new PollerSlots(undefined, 2)
    const dead = new PollerSlots(controller.buffer, 2, 7)
    const alive = new PollerSlots(controller.buffer, 2, 8)
    assert.ok(dead.tryAcquire())
    assert.ok(alive.tryAcquire())
    // thread 7 was terminated while it polled: its controller releases by its id
    controller.releaseHeldBy(7)
    const next = new PollerSlots(controller.buffer, 2, 9)
    assert.ok(next.tryAcquire())
    // thread 8 still holds its slot: no room for a third
    assert.equal(new PollerSlots(controller.buffer, 2, 10).tryAcquire(), false)
    alive.release()
    assert.ok(new PollerSlots(controller.buffer, 2, 10).tryAcquire())
  })

  it('lets nothing poll where there is no core to spare', function () {
    const none = new PollerSlots(undefined, 0)
    assert.equal(new PollerSlots(none.buffer, 0, 1).tryAcquire(), false)
  })

  it('refuses to let a thread without an id poll', function () {
    assert.throws(() => new PollerSlots(undefined, 1).tryAcquire())
  })
})
