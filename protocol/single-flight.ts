/**
 * Runs at most one `work` per key at a time: callers that ask for a key already in flight share
 * its promise (a burst of first calls to one pid makes one lookup, one dial, one deploy).
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>()

  async run (key: string, work: () => Promise<T>): Promise<T> {
    let pending = this.inFlight.get(key)
    if (pending == null) {
      pending = work()
      this.inFlight.set(key, pending)
      pending.finally(() => this.inFlight.delete(key)).catch(() => {})
    }
    return await pending
  }
}
