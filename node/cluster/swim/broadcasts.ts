import { SwimUpdate } from '../../../protocol/pb/swim.js'

interface Queued {
  update: SwimUpdate
  /** Encoded size inside a message (tag and length prefix included). */
  bytes: number
  transmits: number
}

/** Smallest update worth looking for once a message is nearly full. */
const MIN_UPDATE_BYTES = 16
/** Entries passed over as too big for what is left of a message before the search stops. */
const MAX_MISFITS = 8

/**
 * Updates waiting to be piggybacked, memberlist's TransmitLimitedQueue: each goes out a limited
 * number of times (λ·log N: enough for an epidemic to reach every node with high probability),
 * the least sent first. One entry per member: a newer update about a member replaces the queued
 * one (keeping its record if the newer carries none), so the queue holds at most one entry per
 * roster member.
 */
export class BroadcastQueue {
  /** Entries by transmit count; a Set keeps insertion order, oldest first. */
  private readonly buckets: Array<Set<Queued>> = []
  private readonly byMember = new Map<string, Queued>()

  get size (): number {
    return this.byMember.size
  }

  /** Queues `update` to be sent, replacing what was queued about the same member. */
  enqueue (update: SwimUpdate): void {
    const old = this.byMember.get(update.member)
    if (old != null) {
      this.bucket(old.transmits).delete(old)
      if (update.recordVersion === 0 && old.update.recordVersion > 0) {
        update = { ...update, recordVersion: old.update.recordVersion, record: old.update.record }
      }
    }
    const entry: Queued = { update, bytes: encodedSize(update), transmits: 0 }
    this.byMember.set(update.member, entry)
    this.bucket(0).add(entry)
  }

  /** Drops what is queued about a member (it left the roster). */
  forget (member: string): void {
    const old = this.byMember.get(member)
    if (old == null) return
    this.bucket(old.transmits).delete(old)
    this.byMember.delete(member)
  }

  /** The queued update about `member`, if any (without counting a transmission). */
  peek (member: string): SwimUpdate | undefined {
    return this.byMember.get(member)?.update
  }

  /**
   * Updates for one message, least sent first, within `budget` bytes; each counts as sent once,
   * and one sent `limit` times leaves the queue.
   */
  take (budget: number, limit: number): SwimUpdate[] {
    const picked: Queued[] = []
    let misfits = 0
    const full = (): boolean => budget < MIN_UPDATE_BYTES || misfits >= MAX_MISFITS
    for (const bucket of this.buckets) {
      if (bucket == null) continue
      for (const entry of bucket) {
        if (full()) break
        if (entry.bytes > budget) {
          misfits++
          continue
        }
        picked.push(entry)
        budget -= entry.bytes
      }
      if (full()) break
    }
    for (const entry of picked) {
      this.bucket(entry.transmits).delete(entry)
      entry.transmits++
      if (entry.transmits >= limit) {
        this.byMember.delete(entry.update.member)
      } else {
        this.bucket(entry.transmits).add(entry)
      }
    }
    return picked.map(e => e.update)
  }

  clear (): void {
    this.buckets.length = 0
    this.byMember.clear()
  }

  private bucket (transmits: number): Set<Queued> {
    let bucket = this.buckets[transmits]
    if (bucket == null) {
      bucket = new Set()
      this.buckets[transmits] = bucket
    }
    return bucket
  }
}

/** The bytes `update` takes as a repeated field of SwimMessage: tag, length prefix, body. */
export function encodedSize (update: SwimUpdate): number {
  const body = SwimUpdate.encode(update).byteLength
  return 1 + varintLength(body) + body
}

function varintLength (n: number): number {
  let length = 1
  while (n >= 0x80) {
    n = Math.floor(n / 0x80)
    length++
  }
  return length
}
