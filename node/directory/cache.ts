import type { Location } from '../../protocol/location.js'

interface Entry {
  location: Location
  expires: number
}

/**
 * pid -> location, bounded (least recently used out first) and with a time to live, so that a
 * process that moved without anyone telling this node is found again within the TTL.
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
    this.entries.delete(location.pid)
    this.entries.set(location.pid, { location, expires: Date.now() + this.ttlMs })
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value
      if (oldest == null) break
      this.entries.delete(oldest)
    }
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
