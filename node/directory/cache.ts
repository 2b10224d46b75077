import type { Location } from '../../protocol/location.js'

interface Entry {
  location: Location
  expires: number
}

/**
 * pid -> location, bounded (least recently used out first) and with a time to live, so that a
 * process that moved without anyone telling this node is found again within the TTL. Expired
 * entries go on `sweep` (and as new ones come), not only when looked up: the locations of
 * processes nobody calls any more (swapped, say) do not stay in memory.
 */
export class LocationCache {
  private readonly entries = new Map<string, Entry>()

  constructor (private readonly maxEntries: number, private readonly ttlMs: number) {}

  get (pid: string): Location | undefined {
    const entry = this.entries.get(pid)
    if (entry == null) return undefined
    if (entry.expires <= Date.now()) {
      this.entries.delete(pid)
      return undefined
    }
    // refresh its place in the LRU order
    this.entries.delete(pid)
    this.entries.set(pid, entry)
    return entry.location
  }

  set (location: Location): void {
    this.sweep(2)
    this.entries.delete(location.pid)
    this.entries.set(location.pid, { location, expires: Date.now() + this.ttlMs })
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value
      if (oldest == null) break
      this.entries.delete(oldest)
    }
  }

  /**
   * Drops expired entries from the least recently used end, up to `max` (all by default: the
   * cache holds at most `maxEntries`, a few milliseconds of work). Entries expire in about
   * the order they were set (one TTL for all); one refreshed by a lookup moves to the other end
   * and waits for its turn there.
   */
  sweep (max = Infinity): number {
    const now = Date.now()
    let dropped = 0
    for (const [pid, entry] of this.entries) {
      if (dropped >= max || entry.expires > now) break
      this.entries.delete(pid)
      dropped++
    }
    return dropped
  }

  delete (pid: string): void {
    this.entries.delete(pid)
  }

  clear (): void {
    this.entries.clear()
  }

  get size (): number {
    return this.entries.size
  }
}
