/** Processes whose reads a worker may cache at once, per node; the rest read through the node. */
const DEFAULT_SLOTS = 64 * 1024

/** Which counter a process writes to: `slot` < 0 when none was free (its reads are not cached). */
export interface StateSlot {
  slot: number
  /** Unique per process record on this node: a worker drops what it cached for an earlier owner of the slot. */
  inc: number
}

export const NO_SLOT: StateSlot = { slot: -1, inc: 0 }

/**
 * One write counter per hosted process, in memory shared with the node's workers. The node
 * bumps a process's counter on each write it applies; a worker caches what it reads of that
 * process's state and serves reads from the cache while the counter stays where it was when it
 * read (worker.ts). A read through the node costs two thread hand-offs (about 100 us here); a
 * cached one, a copy. Counters are never reset: a slot's next owner starts from where the last
 * one left it, and its inc differs.
 */
export class StateVersions {
  readonly buffer: SharedArrayBuffer
  private readonly counters: Int32Array
  private readonly free: number[] = []
  private next = 0
  private nextInc = 1

  constructor (readonly slots = DEFAULT_SLOTS) {
    this.buffer = new SharedArrayBuffer(slots * Int32Array.BYTES_PER_ELEMENT)
    this.counters = new Int32Array(this.buffer)
  }

  take (): StateSlot {
    const slot = this.free.pop() ?? (this.next < this.slots ? this.next++ : -1)
    return slot < 0 ? NO_SLOT : { slot, inc: this.nextInc++ }
  }

  release (state: StateSlot): void {
    if (state.slot >= 0) this.free.push(state.slot)
  }

  /** A write was applied: what workers cached of this process is stale. */
  bump (state: StateSlot): void {
    if (state.slot >= 0) Atomics.add(this.counters, state.slot, 1)
  }
}
