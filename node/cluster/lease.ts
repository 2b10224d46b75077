import { peerIdFromString } from '@libp2p/peer-id'
import { TypedEventEmitter } from 'main-event'
import { InvokeChannels } from '../../protocol/channels.js'
import { withTimeout } from '../../protocol/cancellation.js'
import type { Cancellation } from '../../protocol/cancellation.js'
import { PraasError } from '../../protocol/errors.js'
import { serveInvokeStream } from '../../protocol/invoke.js'
import { LeaseAnswer, LeaseRequest } from '../../protocol/pb/cluster.js'
import { LEASE_MARGIN_MS, LEASE_MS, LEASE_PROTOCOL, LEASE_RENEW_MS, MAX_CLUSTER_MESSAGE_BYTES, PERIODIC_SLACK_MS } from './constants.js'
import { systemClock } from './swim/clock.js'
import { LeaseBook, leaseEnd } from './lease-book.js'
import type { ClusterComponents } from './components.js'
import type { LeaderElection } from './election.js'
import type { Membership } from './membership.js'
import type { Roster } from './roster.js'
import type { Timer } from './swim/types.js'
import type { Logger, Startable } from '@libp2p/interface'

/** Calls that may wait for a lease at once (`whenValid`); more are refused at once. */
const MAX_LEASE_WAITERS = 4_096
/** A renewal the leader refused (it has not heard a majority in its term yet) is tried again this soon. */
const RETRY_REFUSED_MS = 200

export interface LeasesComponents extends ClusterComponents {
  roster: Roster
  membership: Membership
  election: LeaderElection
}

export interface LeasesInit {
  /** How long a lease runs from the renewal's request. Default LEASE_MS. */
  leaseMs?: number
  /** How often a member renews. Default LEASE_RENEW_MS. */
  renewMs?: number
  /** Taken off on the member's side, added on the leader's. Default LEASE_MARGIN_MS. */
  marginMs?: number
  /** The clock (ms, monotonic). Default performance.now. */
  now?(): number
}

export interface LeasesEvents {
  /** This node's lease ran out: it must stop serving its processes. */
  lapse: CustomEvent<void>
  /** This node holds a lease again after one ran out. */
  regain: CustomEvent<void>
}

/**
 * Leases (issue 18): a member serves its processes only while it holds a lease, which it renews
 * with the leader every second; the leader places a new activation of a process that runs
 * nowhere it can see (a restore) only once every unreachable member's lease has run out. So an
 * activation cut off from the majority has stopped answering, reads included, before another
 * one answers.
 *
 * Only durations on each node's own monotonic clock are compared, never two clocks' readings: a
 * member counts its lease from the moment it *asked* for the renewal, the leader from the moment
 * it *granted* it, which is later; each side takes a margin for clock rates and late timers.
 *
 * The leader's own lease is what a majority of the members (itself included) has confirmed: it
 * runs from the time it last received the renewals of a majority, and a member's lease never
 * outlasts the leader's. A leader cut off in a minority therefore stops granting, and its own
 * and its followers' leases run out, within a lease of the cut. A new leader cannot know what its
 * predecessor granted, so it places restores only a lease after its election.
 */
export class Leases extends TypedEventEmitter<LeasesEvents> implements Startable {
  private readonly log: Logger
  private readonly self: string
  private readonly leaseMs: number
  private readonly renewMs: number
  private readonly marginMs: number
  private readonly now: () => number
  private readonly channels: InvokeChannels
  /** Until when (own clock) this node may serve. */
  private until = -Infinity
  private held = false
  private lapsedOnce = false
  private timer?: Timer
  private watch?: ReturnType<typeof setTimeout>
  private started = false
  /** Leader side: renewals and grants (lease-book.ts). */
  private readonly book: LeaseBook
  private leaderTerm = -1

  constructor (private readonly components: LeasesComponents, init: LeasesInit = {}) {
    super()
    this.log = components.logger.forComponent('praas:lease')
    this.self = components.peerId.toString()
    this.leaseMs = init.leaseMs ?? LEASE_MS
    this.renewMs = init.renewMs ?? LEASE_RENEW_MS
    this.marginMs = init.marginMs ?? LEASE_MARGIN_MS
    this.now = init.now ?? (() => performance.now())
    this.channels = new InvokeChannels(async (target, protocol, options) => await components.connectionManager.openStream(target, protocol, options), LEASE_PROTOCOL)
    this.book = new LeaseBook(this.self, { leaseMs: this.leaseMs, marginMs: this.marginMs })
  }

  readonly [Symbol.toStringTag] = 'praas:lease'

  isStarted (): boolean {
    return this.started
  }

  async start (): Promise<void> {
    this.started = true
    await this.components.registrar.handle(LEASE_PROTOCOL, (stream, connection) => {
      const from = connection.remotePeer.toString()
      serveInvokeStream(stream, async (call) => {
        if (call.payload.byteLength > MAX_CLUSTER_MESSAGE_BYTES) throw new PraasError('TOO_LARGE', 'lease request too large')
        let request: LeaseRequest
        try {
          request = LeaseRequest.decode(call.payload)
        } catch (err) {
          throw new PraasError('BAD_REQUEST', `malformed lease request: ${(err as Error).message}`)
        }
        if (call.fn === 'release') {
          this.release(from)
          return new Uint8Array(0)
        }
        return LeaseAnswer.encode(this.grant(from, request))
      })
    }, { maxInboundStreams: 16 })
    this.components.election.addEventListener('leader:change', this.onLeaderChange)
    this.schedule(0)
  }

  async stop (): Promise<void> {
    this.started = false
    this.timer?.cancel()
    clearTimeout(this.watch)
    this.wakeWaiters()
    this.components.election.removeEventListener('leader:change', this.onLeaderChange)
    this.channels.closeAll()
    await this.components.registrar.unhandle(LEASE_PROTOCOL).catch(() => {})
  }

  /** Whether this node may serve its processes now. */
  valid (): boolean {
    this.observe()
    return this.held
  }

  /**
   * Throws UNAVAILABLE unless this node holds a lease; returns the lease's generation, which a
   * call checks again before it answers (`checkSince`): a lease that ran out meanwhile, even if
   * renewed since, fails the call.
   */
  check (): number {
    if (!this.valid()) throw new PraasError('UNAVAILABLE', 'this node holds no lease: it cannot reach a leader with a majority of the members')
    return this.generation
  }

  /** Whether this node has held its lease without a break since `check` returned `generation`. */
  heldSince (generation: number): boolean {
    return this.valid() && this.generation === generation
  }

  /** Throws UNAVAILABLE unless this node has held its lease without a break since `check` returned `generation`. */
  checkSince (generation: number): void {
    if (this.check() !== generation) throw new PraasError('UNAVAILABLE', 'this node\'s lease ran out during the call')
  }

  /** Counts the lapses: a call that spans one must not answer. */
  private generation = 0

  /** Notices a lapse whether or not a timer fired (a node paused past its lease wakes with timers late). */
  private observe (): void {
    if (this.held && this.now() >= this.until) {
      this.held = false
      this.lapsedOnce = true
      this.generation++
      this.log('lease lapsed: this node stops serving its processes until it renews')
      this.safeDispatchEvent('lapse')
    }
  }

  /**
   * Resolves once this node holds a lease, or after `ms`, or when `cancel` fires (a call whose
   * caller gave up): whether it holds one then. At most MAX_LEASE_WAITERS wait at once; more
   * get an answer at once.
   */
  async whenValid (ms: number, cancel?: Cancellation): Promise<boolean> {
    if (this.valid() || ms <= 0 || cancel?.aborted === true || this.waiters.size >= MAX_LEASE_WAITERS) return this.valid()
    // a node that stops, or gave its lease up, gets none: the caller hears so at once
    if (!this.started || this.relinquished) return false
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        stop?.()
        this.waiters.delete(done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      const stop = cancel?.listen(done)
      this.waiters.add(done)
    })
    return this.valid()
  }

  /** What waits in `whenValid`: each ends its wait. */
  private readonly waiters = new Set<() => void>()

  private wakeWaiters (): void {
    for (const done of [...this.waiters]) done()
  }

  private readonly onLeaderChange = (): void => {
    const { election } = this.components
    if (election.isLeader() && this.leaderTerm !== election.term) {
      this.leaderTerm = election.term
      this.book.elected(this.now())
    }
    // a new leader to renew with: now rather than at the next tick
    this.schedule(0)
  }

  private schedule (delayMs: number): void {
    this.timer?.cancel()
    if (!this.started || this.relinquished) return
    // the regular renewal rides on another timer's wake-up if one comes within PERIODIC_SLACK_MS
    // (swim/clock.ts); one after a failed renewal keeps to its time, as the lease runs out meanwhile
    this.timer = systemClock.setTimer(delayMs, () => {
      void this.renew().then((next) => { this.schedule(next) }, () => { this.schedule(this.renewMs) })
    }, delayMs >= this.renewMs && !this.lastFailed ? PERIODIC_SLACK_MS : 0)
  }

  /**
   * Renews this node's lease: with itself if it leads (what a majority confirmed), else with the
   * leader. Resolves with when to renew next: a leader just elected refuses until a majority has
   * renewed with it, so a refusal is retried soon, not a second later (leases from the old leader
   * run out meanwhile).
   */
  private async renew (): Promise<number> {
    const { election, roster } = this.components
    if (!roster.isMember(this.self)) return this.renewMs
    if (election.isLeader()) {
      this.extend(this.ownUntil())
      return this.renewMs
    }
    const leader = election.leader
    if (leader == null) return this.renewMs
    const asked = this.now()
    try {
      // a busy leader may answer late: a renewal may take half a lease (the lease still counts from the ask)
      // (timers cleared when done: AbortSignal.timeout's would wake the node once more per renewal)
      const limitMs = this.leaseMs / 2
      const channel = this.channels.current(leader) ??
        await withTimeout(limitMs, [], async (signal) => await this.channels.get(leader, this.targetOf(leader), { signal }))
      // the figures ride the renewal: the leader places by them, and nobody else needs them every second
      const me = this.components.membership.figures()
      const request: Partial<LeaseRequest> = {
        term: election.term,
        load: Math.min(me.load, 0xffffffff),
        eventLoopDelayUs: Math.min(Math.round(me.eventLoopDelayMs * 1000), 0xffffffff),
        memory: Math.round(me.memory)
      }
      const leftMs = Math.max(1, limitMs - (this.now() - asked))
      const answer = LeaseAnswer.decode(await channel.call({ pid: '', fn: 'renew', payload: LeaseRequest.encode(request), timeoutMs: 0 }, { timeoutMs: leftMs }))
      this.failures = 0
      this.lastFailed = false
      if (answer.granted && answer.term === election.term && election.leader === leader) {
        this.extend(leaseEnd(asked, answer.validForMs, { leaseMs: this.leaseMs, marginMs: this.marginMs }))
        return this.renewMs
      }
      return answer.term === election.term && election.leader === leader ? RETRY_REFUSED_MS : this.renewMs
    } catch (err) {
      this.log.trace('renewing with %s failed: %s', leader, (err as Error).message)
      // A connection across a cut that healed can stay open and silent for a long while (TCP
      // backs its retransmissions off): after a failed renewal the next one opens a new stream,
      // and after a second one a new connection.
      this.channels.drop(leader)
      this.lastFailed = true
      if (++this.failures >= 2) {
        this.failures = 0
        for (const connection of this.components.connectionManager.getConnections(peerIdFromString(leader))) {
          connection.abort(new PraasError('UNAVAILABLE', 'lease renewals over this connection time out'))
        }
      }
      return this.renewMs
    }
  }

  /** Renewals in a row that failed. */
  private failures = 0
  /** Whether the last renewal failed (no answer). */
  private lastFailed = false

  private targetOf (peer: string): ReturnType<typeof peerIdFromString> | ReturnType<Roster['addrsOf']> {
    const id = peerIdFromString(peer)
    if (this.components.connectionManager.getConnections(id).length > 0) return id
    const live = this.components.membership.get(peer)?.addrs ?? []
    return live.length > 0 ? live : this.components.roster.addrsOf(peer)
  }

  private extend (until: number): void {
    // a node that gave its lease up takes none that was on its way
    if (this.relinquished) return
    this.observe()
    if (until <= this.until || until <= this.now()) return
    this.until = until
    if (!this.held) {
      this.held = true
      this.wakeWaiters()
      if (this.lapsedOnce) {
        this.log('lease regained')
        this.safeDispatchEvent('regain')
      }
    }
    // notice the lapse when it comes, not at the next renewal
    clearTimeout(this.watch)
    this.watch = setTimeout(() => { this.observe() }, Math.max(0, this.until - this.now()) + 1)
  }

  /** Leader side: until when the leader's own lease runs (its clock), from what a majority confirmed. */
  private ownUntil (): number {
    return this.book.ownUntil(this.components.roster.members(), this.now())
  }

  /**
   * Gives this node's lease up (a clean stop, once its processes are swapped out): it serves
   * nothing from now on, and the leader need not wait for the lease to run out before it restores
   * those processes elsewhere.
   */
  private relinquished = false

  async relinquish (): Promise<void> {
    this.relinquished = true
    this.until = -Infinity
    this.held = false
    this.wakeWaiters()
    this.timer?.cancel()
    const { election } = this.components
    const leader = election.leader
    if (leader == null || leader === this.self) return
    try {
      const signal = AbortSignal.timeout(this.renewMs)
      const channel = this.channels.current(leader) ?? await this.channels.get(leader, this.targetOf(leader), { signal })
      await channel.call({ pid: '', fn: 'release', payload: LeaseRequest.encode({ term: election.term }), timeoutMs: 0 }, { signal, timeoutMs: this.renewMs })
    } catch (err) {
      this.log('giving the lease up to %s failed: %s', leader, (err as Error).message)
    }
  }

  /** Leader side: a member gave its lease up. */
  private release (from: string): void {
    if (this.components.roster.isMember(from)) this.book.release(from, this.now())
  }

  /** Leader side: a member asks for a renewal. */
  private grant (from: string, request: LeaseRequest): Partial<LeaseAnswer> {
    const { election, roster } = this.components
    const deny = { granted: false, term: election.term, validForMs: 0 }
    if (!election.isLeader() || request.term !== election.term || !roster.isMember(from)) return deny
    if (Number.isSafeInteger(request.memory)) {
      this.components.membership.report(from, { load: request.load, eventLoopDelayMs: request.eventLoopDelayUs / 1000, memory: request.memory })
    }
    const validForMs = this.book.grant(from, roster.members(), this.now())
    if (validForMs <= 0) return deny
    this.extend(this.ownUntil())
    return { granted: true, term: election.term, validForMs }
  }

  /**
   * Leader side: how long (ms from now) until a process may be activated anew elsewhere while
   * the nodes in `unreachable` might still serve it (LeaseBook.restoreWaitMs).
   */
  restoreWaitMs (unreachable: string[]): number {
    return this.book.restoreWaitMs(unreachable, this.now())
  }

  /** Leader side: the members whose renewals arrived within the last lease (the leader counts itself). */
  renewing (): string[] {
    return this.book.renewing(this.components.roster.members(), this.now())
  }
}
