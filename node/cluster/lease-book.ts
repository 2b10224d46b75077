/**
 * The leader's side of leases as plain arithmetic on its own clock (lease.ts runs it): when
 * each member last renewed, the longest lease granted to each, and from these the leader's own
 * lease and how long a restore must wait. Pure, so that its one promise can be property-tested
 * (test/cluster/lease-book.test.ts): a restore never waits less than any lease a member holds.
 */
export interface LeaseTimes {
  leaseMs: number
  marginMs: number
}

export class LeaseBook {
  /** When this node became leader (own clock), -Infinity while it never did. */
  private electedAt = -Infinity
  private readonly received = new Map<string, number>()
  private readonly granted = new Map<string, number>()

  constructor (private readonly self: string, private readonly times: LeaseTimes) {}

  /** This node was elected at `now`: what it knew of leases belongs to a past term. */
  elected (now: number): void {
    this.electedAt = now
    this.received.clear()
    this.granted.clear()
  }

  /** Until when (own clock) the leader's own lease runs: from when a majority of `members`, itself included, had renewed. */
  ownUntil (members: string[], now: number): number {
    const needed = Math.floor(members.length / 2) + 1
    const times = members.map(m => (m === this.self ? now : this.received.get(m) ?? -Infinity)).sort((a, b) => b - a)
    return (times[needed - 1] ?? -Infinity) + this.times.leaseMs - this.times.marginMs
  }

  /**
   * A renewal from `from` at `now`: the lease it may count from its ask (ms), never beyond the
   * leader's own; 0 refuses.
   */
  grant (from: string, members: string[], now: number): number {
    this.received.set(from, now)
    const validForMs = Math.floor(Math.min(this.times.leaseMs, this.ownUntil(members, now) - now))
    if (validForMs <= 0) return 0
    // a member keeps the longest lease it was ever granted: a later, shorter grant shortens nothing
    this.granted.set(from, Math.max(this.granted.get(from) ?? -Infinity, now + validForMs + this.times.marginMs))
    return validForMs
  }

  /** `from` gave its lease up (a clean stop): it serves nothing from `now`. */
  release (from: string, now: number): void {
    this.received.delete(from)
    this.granted.set(from, now)
  }

  /**
   * How long (ms from `now`) until a process may be activated anew while the members in
   * `unreachable` might still serve it: the longest lease this leader granted each, and any
   * lease a previous leader granted (unknown here: a lease after this election).
   */
  restoreWaitMs (unreachable: string[], now: number): number {
    let safeAt = -Infinity
    for (const node of unreachable) {
      if (node === this.self) continue
      safeAt = Math.max(safeAt, this.granted.get(node) ?? -Infinity, this.electedAt + this.times.leaseMs + this.times.marginMs)
    }
    return Math.max(0, safeAt - now)
  }

  /** The members whose renewals arrived within the last lease (the leader counts itself). */
  renewing (members: string[], now: number): string[] {
    const since = now - this.times.leaseMs
    return members.filter(m => m === this.self || (this.received.get(m) ?? -Infinity) >= since)
  }
}

/** A member's side: until when (own clock) a lease granted for `validForMs` runs, counted from the ask. */
export function leaseEnd (askedAt: number, validForMs: number, times: LeaseTimes): number {
  return askedAt + Math.min(times.leaseMs, validForMs) - times.marginMs
}
