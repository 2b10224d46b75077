import type { MemberStatus } from './types.js'

/**
 * What one node holds about one member, and the rule that merges what it hears. The state is a
 * pair of registers, each keeping its greatest value ever heard, so that applying a set of
 * updates in any order, any number of times, ends in the same state (property-tested):
 *
 * - reachability: ordered by incarnation, then status (alive < suspect < dead), then `left` (a
 *   member that said it leaves over one that stopped answering). Only the member raises its
 *   incarnation, to refute a suspicion or a death it hears of, so a member that is back after a
 *   partition or a restart outranks what was said of its old incarnation. (memberlist's rules
 *   differ in one place: a dead member there ignores a suspicion of a higher incarnation, which
 *   makes the result depend on the order of arrival.)
 * - record: the bytes the member set about itself, ordered by version, then by length and bytes (so
 *   two nodes holding different records of one version agree on one of them).
 */
export interface MemberState {
  incarnation: number
  status: MemberStatus
  left: boolean
  recordVersion: number
  record: Uint8Array<ArrayBuffer>
}

const RANK: Record<MemberStatus, number> = { alive: 0, suspect: 1, dead: 2 }

/** Compares the reachability parts: > 0 when `a` outranks `b`. */
export function compareLiveness (a: Pick<MemberState, 'incarnation' | 'status' | 'left'>, b: Pick<MemberState, 'incarnation' | 'status' | 'left'>): number {
  if (a.incarnation !== b.incarnation) return a.incarnation - b.incarnation
  if (a.status !== b.status) return RANK[a.status] - RANK[b.status]
  return Number(a.left) - Number(b.left)
}

/** Compares two records: > 0 when `a` outranks `b`. */
export function compareRecords (aVersion: number, a: Uint8Array, bVersion: number, b: Uint8Array): number {
  if (aVersion !== bVersion) return aVersion - bVersion
  if (a === b) return 0
  if (a.byteLength !== b.byteLength) return a.byteLength - b.byteLength
  // the same record heard again is the common case: a plain loop, no Buffer views
  for (let i = 0; i < a.byteLength; i++) {
    if (a[i] !== b[i]) return a[i] - b[i]
  }
  return 0
}

export interface Merged {
  state: MemberState
  /** The reachability part changed. */
  liveness: boolean
  /** The record part changed. */
  record: boolean
}

/** Merges `update` into `current` (undefined: nothing heard of the member yet). */
export function merge (current: MemberState | undefined, update: MemberState): Merged {
  if (current == null) {
    return { state: { ...update }, liveness: true, record: update.recordVersion > 0 }
  }
  const liveness = compareLiveness(update, current) > 0
  const record = compareRecords(update.recordVersion, update.record, current.recordVersion, current.record) > 0
  if (!liveness && !record) return { state: current, liveness, record }
  return {
    state: {
      incarnation: liveness ? update.incarnation : current.incarnation,
      status: liveness ? update.status : current.status,
      left: liveness ? update.left : current.left,
      recordVersion: record ? update.recordVersion : current.recordVersion,
      record: record ? update.record : current.record
    },
    liveness,
    record
  }
}
