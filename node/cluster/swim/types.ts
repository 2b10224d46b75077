import type { ComponentLogger } from '@libp2p/interface'

/**
 * What the SWIM core is given instead of reaching for the network, the clock or Math.random,
 * so that the same code runs over libp2p (node/cluster/swim/libp2p.ts) and in simulated time
 * (bench/sim/).
 */

/** A timer set by a Clock; cancelling one that fired, or twice, does nothing. */
export interface Timer {
  cancel(): void
}

export interface Clock {
  /** Milliseconds on a monotonic scale (only differences matter). */
  now(): number
  /**
   * Runs `fn` once after `ms` milliseconds, unless cancelled first; given `slackMs`, it may run up
   * to that much later, with another timer (clock.ts). `fn` may get how late the wake-up that
   * ran it came after its own time (the event loop's delay), where the clock knows it.
   */
  setTimer(ms: number, fn: (lateMs?: number) => void, slackMs?: number): Timer
}

/**
 * Best-effort datagrams between members, as UDP is for memberlist: a send may be lost, late or
 * refused (queue full, peer unreachable), and never throws or waits. `from` of a delivery is the
 * authenticated sender (the remote peer of the connection it came on), never a field of the message.
 */
export interface Datagrams {
  send(to: string, data: Uint8Array): void
  /** Where the bytes sent to this node go; one handler, set once. */
  listen(handler: (from: string, data: Uint8Array) => void): void
}

/**
 * The cluster's member set: the ids of the nodes that joined with a token and were not removed.
 * Return the same Set object while the roster is unchanged (the core rebuilds its probe order
 * when the object changes). Failure detection only says which of them are reachable.
 */
export type Roster = () => ReadonlySet<string>

/** Uniform in [0, 1). */
export type Random = () => number

export interface SwimComponents {
  /** This node's id (its peer id string). */
  self: string
  transport: Datagrams
  clock: Clock
  random: Random
  roster: Roster
  /**
   * Members to ask first when joining (push-pull while no member has been heard yet), e.g. the
   * peers this node is connected to; without them, random roster members are tried.
   */
  seeds?(): string[]
  logger?: ComponentLogger
}

export type MemberStatus = 'alive' | 'suspect' | 'dead'

/** A member as this node sees it. */
export interface MemberView {
  id: string
  status: MemberStatus
  incarnation: number
  /** The record the member set about itself (empty if none heard), and its version (0: none). */
  record: Uint8Array
  recordVersion: number
  /** DEAD because the member said it was leaving (not because it stopped answering). */
  left: boolean
  /** Clock time of the last change of status. */
  since: number
}

export interface StatusChange {
  id: string
  status: MemberStatus
  previous: MemberStatus
  incarnation: number
  left: boolean
}

export interface RecordChange {
  id: string
  record: Uint8Array
  version: number
}

export interface SwimEvents {
  /** A member's reachability changed (never fired for this node itself). */
  'member:status': CustomEvent<StatusChange>
  /** A newer record of a member arrived. */
  'member:record': CustomEvent<RecordChange>
}
