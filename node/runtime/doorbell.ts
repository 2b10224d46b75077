import { availableParallelism } from 'node:os'
import { receiveMessageOnPort } from 'node:worker_threads'
import type { MessagePort } from 'node:worker_threads'

/** How many polls between two looks at the clock while spinning. */
const POLLS_PER_CLOCK = 64

/**
 * How many of a node's threads may poll at once (shared memory, one per node): at most all cores
 * but one, which stays for the node's main thread. Two workers of one node that polled for each
 * other's messages on two cores left the main thread, which carries those messages, no core: a
 * one-way message took 134 us with both polling against 63 us with one. On one core there is
 * none to spare: nothing polls (the controller does not either, see function-worker.ts), since a
 * poller there holds the only core until the kernel takes it away, while the thread it waits
 * for needs it.
 */
export class PollerSlots {
  /** One entry per slot: the thread id of its holder, 0 when free. */
  private readonly slots: Int32Array
  private held = -1

  /**
   * `id`: the thread id of the thread that polls through this instance (`threadId` of
   * node:worker_threads, never 0 in a worker); the controller's own instance only releases.
   */
  constructor (buffer?: SharedArrayBuffer, readonly max = availableParallelism() - 1, private readonly id = 0) {
    this.buffer = buffer ?? new SharedArrayBuffer(4 * max)
    this.slots = new Int32Array(this.buffer, 0, max)
  }

  readonly buffer: SharedArrayBuffer

  /**
   * Takes a free slot, writing this thread's id into it in one atomic step: a thread terminated
   * at any moment (it runs no `finally`) holds a slot under its id or none, and its controller
   * gives back what it held (`releaseHeldBy`).
   */
  tryAcquire (): boolean {
    if (this.id === 0) throw new Error('only a thread with an id polls')
    for (let i = 0; i < this.max; i++) {
      if (Atomics.compareExchange(this.slots, i, 0, this.id) === 0) {
        this.held = i
        return true
      }
    }
    return false
  }

  release (): void {
    if (this.held < 0) return
    Atomics.compareExchange(this.slots, this.held, this.id, 0)
    this.held = -1
  }

  /** Gives back every slot that thread `id` holds (it is gone). */
  releaseHeldBy (id: number): void {
    for (let i = 0; i < this.max; i++) Atomics.compareExchange(this.slots, i, id, 0)
  }
}

/**
 * A counter in shared memory beside a message port, which the sender bumps after every post to
 * the port. A hot receiver busy-polls it instead of sleeping in its event loop, and takes the
 * messages off its port itself the moment it moves: a worker waiting for its next call or for a
 * ctx call's answer (worker.ts), the controller waiting for a short call's result
 * (function-worker.ts).
 *
 * Why poll: on the 2-core VM this was measured on, waking a sleeping thread costs 40-60 us
 * whatever the mechanism (postMessage through libuv, or Atomics.notify on a futex: the same
 * within noise), and a sequential call wakes the worker once. A polling worker sees the call
 * within a microsecond, and the controller's post wakes nobody. The price is a core kept busy
 * while it polls, hence the guards of its users (short waits only, sequential callers only,
 * PollerSlots) and `--worker-hot-spin 0` to turn it off.
 */
export class Doorbell {
  private readonly count: Int32Array
  /** The count when the receiver last took its messages: a ring since then is news. */
  private seen = 0

  constructor (readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.count = new Int32Array(buffer)
  }

  /** Controller side, after a post. */
  ring (): void {
    Atomics.add(this.count, 0, 1)
  }

  /**
   * Receiver side: polls until the bell rings (at once if it rang since the last spin) or `ms`
   * pass, then hands every message waiting on `port` to `onMessage`, synchronously, and says how
   * many there were. A ring may find none: the event loop delivered them first.
   */
  spin (port: MessagePort, ms: number, onMessage: (message: unknown) => void): number {
    const until = performance.now() + ms
    for (let polls = 1; Atomics.load(this.count, 0) === this.seen; polls++) {
      if (polls % POLLS_PER_CLOCK === 0 && performance.now() >= until) break
    }
    this.seen = Atomics.load(this.count, 0)
    let delivered = 0
    for (let received = receiveMessageOnPort(port); received !== undefined; received = receiveMessageOnPort(port)) {
      onMessage(received.message)
      delivered++
    }
    return delivered
  }
}
