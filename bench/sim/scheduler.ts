import type { Clock, Timer } from '../../node/cluster/swim/index.js'

interface Event {
  at: number
  seq: number
  fn: () => void
  cancelled: boolean
}

/**
 * Simulated time: a queue of events ordered by time (then by the order they were set), run one
 * after another; time jumps from one event to the next. Every simulated node and the network
 * share one scheduler, and each node gets its own Clock view of it (clockFor), whose timers stop
 * firing when the node dies.
 */
export class Scheduler {
  private heap: Event[] = []
  private seq = 0
  private time = 0

  now (): number {
    return this.time
  }

  /** Runs `fn` at now + ms. */
  at (ms: number, fn: () => void): Timer {
    const event: Event = { at: this.time + Math.max(0, ms), seq: this.seq++, fn, cancelled: false }
    this.push(event)
    return { cancel: () => { event.cancelled = true } }
  }

  /** Runs events until simulated time `until` (or the queue empties). */
  runUntil (until: number): void {
    while (this.heap.length > 0 && this.heap[0].at <= until) {
      const event = this.pop()
      this.time = event.at
      if (!event.cancelled) event.fn()
    }
    this.time = Math.max(this.time, until)
  }

  /** Runs for `ms` of simulated time. */
  run (ms: number): void {
    this.runUntil(this.time + ms)
  }

  /** A clock for one node: its timers do nothing once `alive()` is false. */
  clockFor (alive: () => boolean): Clock {
    return {
      now: () => this.time,
      setTimer: (ms, fn) => this.at(ms, () => { if (alive()) fn() })
    }
  }

  get pending (): number {
    return this.heap.length
  }

  private before (a: Event, b: Event): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq)
  }

  private push (event: Event): void {
    const heap = this.heap
    heap.push(event)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.before(heap[i], heap[parent])) break
      ;[heap[i], heap[parent]] = [heap[parent], heap[i]]
      i = parent
    }
  }

  private pop (): Event {
    const heap = this.heap
    const top = heap[0]
    const last = heap.pop()!
    if (heap.length > 0) {
      heap[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < heap.length && this.before(heap[l], heap[m])) m = l
        if (r < heap.length && this.before(heap[r], heap[m])) m = r
        if (m === i) break
        ;[heap[i], heap[m]] = [heap[m], heap[i]]
        i = m
      }
    }
    return top
  }
}
