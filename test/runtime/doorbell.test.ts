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
  const flag = (): Int32Array => new Int32Array(new SharedArrayBuffer(4))

  it('lets at most `max` threads poll at once, and frees a slot on release', function () {
    const slots = new PollerSlots(undefined, 2)
    const [a, b, c] = [flag(), flag(), flag()]
    assert.ok(slots.tryAcquire(a))
    assert.ok(slots.tryAcquire(b))
    assert.equal(slots.tryAcquire(c), false)
    assert.equal(c[0], 0)
    slots.release(a)
    assert.ok(slots.tryAcquire(c))
  })

  it('gives a slot back once, whoever releases it (the worker, or its controller after the worker died)', function () {
    const slots = new PollerSlots(undefined, 1)
    const shared = new PollerSlots(slots.buffer, 1)
    const holder = flag()
    assert.ok(slots.tryAcquire(holder))
    // the worker was terminated while it held the slot: its controller releases by its flag...
    shared.release(holder)
    // ...and a second release (the worker's own finally, had it run) takes nothing more
    slots.release(holder)
    const other = flag()
    assert.ok(shared.tryAcquire(other))
    assert.equal(shared.tryAcquire(flag()), false, 'a double release made room for two')
  })
})
