import type { Clock, Timer } from './types.js'

/**
 * Lifeguard's local-health-aware suspicion (memberlist's suspicion.go): a suspicion starts with
 * its longest timeout and shrinks, on a log scale, with each independent confirmation (another
 * member that suspects the same incarnation), down to the shortest after `k` of them. A member
 * that is really dead is probed and suspected by many quickly, so it is declared dead soon; a
 * suspicion raised by one slow or cut-off node alone waits long enough for the member to hear
 * of it and refute it.
 */
export class Suspicion {
  private readonly confirmations = new Set<string>()
  private readonly start: number
  private timer: Timer

  constructor (
    from: string,
    private readonly k: number,
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly clock: Clock,
    private readonly onTimeout: () => void
  ) {
    // the member that raised it is no confirmation of itself
    this.confirmations.add(from)
    this.start = clock.now()
    this.timer = clock.setTimer(k < 1 ? minMs : maxMs, onTimeout)
  }

  /** Counts a confirmation from `from`; true if it was a new one (worth passing on). */
  confirm (from: string): boolean {
    const n = this.confirmations.size - 1
    if (n >= this.k || this.confirmations.has(from)) return false
    this.confirmations.add(from)
    this.timer.cancel()
    const remaining = remainingMs(n + 1, this.k, this.clock.now() - this.start, this.minMs, this.maxMs)
    this.timer = this.clock.setTimer(Math.max(0, remaining), this.onTimeout)
    return true
  }

  cancel (): void {
    this.timer.cancel()
  }
}

/** memberlist's remainingSuspicionTime: from max down to min as log(n + 1) / log(k + 1), less the time gone by. */
export function remainingMs (n: number, k: number, elapsedMs: number, minMs: number, maxMs: number): number {
  const fraction = Math.log(n + 1) / Math.log(k + 1)
  const timeout = Math.max(minMs, Math.floor(maxMs - fraction * (maxMs - minMs)))
  return timeout - elapsedMs
}

/** The shortest suspicion timeout for a cluster of `n`: mult × max(1, log10 n) probe intervals. */
export function suspicionMinMs (mult: number, n: number, probeIntervalMs: number): number {
  return mult * Math.max(1, Math.log10(Math.max(1, n))) * probeIntervalMs
}
