import type { Clock, Random, Timer } from './types.js'

/** A timer counts as due this much before its time (Node's timers run on a loop time that can lag performance.now). */
const EARLY_MS = 2

interface Task {
  due: number
  latest: number
  fn: (lateMs: number) => void
}

/**
 * One Node timer for every timer of the cluster layer (SWIM's probes, the election, membership
 * samples, lease renewals, the directory's retries): each runs at its time or, given slack, up
 * to that much later, together with every other timer due by then. An idle node wakes about
 * three times a second for SWIM's probes, and the once-a-second work of the rest rides on those
 * wake-ups instead of waking it on its own (issue 19: each wake-up of an idle node costs about
 * 0.2-0.3 ms of CPU; docs/cluster.md, "Idle CPU").
 */
export class TimerCoalescer {
  private readonly tasks = new Set<Task>()
  private timer?: ReturnType<typeof setTimeout>
  /** When the Node timer is set to fire (performance.now), Infinity while none is. */
  private armedFor = Infinity

  constructor (private readonly now: () => number = () => performance.now()) {}

  /**
   * Runs `fn` once after `ms` milliseconds, or up to `slackMs` later when another timer wakes
   * the process then, unless cancelled first. `fn` gets how late (ms) the wake-up that ran it
   * came after its own time: the event loop's delay, whatever the slack.
   */
  schedule (ms: number, fn: (lateMs: number) => void, slackMs = 0): Timer {
    const due = this.now() + Math.max(0, ms)
    const task: Task = { due, latest: due + Math.max(0, slackMs), fn }
    this.tasks.add(task)
    if (task.latest < this.armedFor) this.arm(task.latest)
    return {
      cancel: () => {
        if (!this.tasks.delete(task)) return
        // the wake-up it needed is not needed any more (SWIM's probe timeouts, cancelled by each ACK)
        if (task.latest <= this.armedFor) this.rearm()
      }
    }
  }

  /** Timers waiting. */
  get size (): number {
    return this.tasks.size
  }

  /** How many times the Node timer fired: the wake-ups this coalescer caused. */
  wakeups = 0

  private arm (at: number): void {
    clearTimeout(this.timer)
    this.armedFor = at
    const timer = setTimeout(this.fire, Math.max(1, Math.ceil(at - this.now())))
    timer.unref?.()
    this.timer = timer
  }

  private rearm (): void {
    let earliest = Infinity
    for (const task of this.tasks) if (task.latest < earliest) earliest = task.latest
    if (earliest === this.armedFor) return
    if (earliest === Infinity) {
      clearTimeout(this.timer)
      this.timer = undefined
      this.armedFor = Infinity
      return
    }
    this.arm(earliest)
  }

  private readonly fire = (): void => {
    const target = this.armedFor
    this.wakeups++
    this.timer = undefined
    this.armedFor = Infinity
    const now = this.now()
    const lateMs = Math.max(0, now - target)
    const due: Task[] = []
    for (const task of this.tasks) if (task.due <= now + EARLY_MS) due.push(task)
    due.sort((a, b) => a.due - b.due)
    try {
      for (const task of due) {
        // one that an earlier one cancelled does not run, as with clearTimeout
        if (!this.tasks.delete(task)) continue
        try {
          task.fn(lateMs)
        } catch (err) {
          // as a throwing setTimeout callback does, without keeping the rest from running
          process.nextTick(() => { throw err })
        }
      }
    } finally {
      this.rearm()
    }
  }
}

const coalescer = new TimerCoalescer()

/**
 * The process's own clock: performance.now() and unref'd timers (a node's probes must not keep
 * a process alive that has nothing else to do), all on one TimerCoalescer.
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer (ms, fn, slackMs) {
    return coalescer.schedule(ms, fn, slackMs)
  }
}

export const systemRandom: Random = Math.random
