import { TypedEventEmitter } from 'main-event'
import { PraasError } from '../../../protocol/errors.js'
import { Awareness } from './awareness.js'
import { BroadcastQueue, encodedSize } from './broadcasts.js'
import { Kind, SwimMessage, decodeSwimMessage } from './codec.js'
import { pushPullIntervalMs, resolveConfig, retransmitLimit } from './config.js'
import { MAX_MESSAGE_BYTES, MAX_UPDATES } from './constants.js'
import { MemberTable } from './members.js'
import { Prober } from './prober.js'
import type { SwimUpdate } from './codec.js'
import type { SwimConfig, SwimInit } from './config.js'
import type { Clock, MemberStatus, MemberView, SwimComponents, SwimEvents, Timer } from './types.js'
import type { Logger, Startable } from '@libp2p/interface'

export interface SwimStats {
  messagesSent: number
  messagesReceived: number
  bytesSent: number
  bytesReceived: number
  /** Messages received that failed to decode or came from outside the roster. */
  rejected: number
  /** Updates waiting to be piggybacked. */
  queued: number
}

const NO_LOG: Logger = Object.assign(() => {}, { enabled: false, error: () => {}, trace: () => {}, newScope: () => NO_LOG }) as unknown as Logger

/**
 * SWIM failure detection with Lifeguard, and dissemination of a small record per member, in the
 * manner of HashiCorp memberlist, over an explicit roster: it says which members are reachable
 * now (alive / suspect / dead), never who is a member.
 *
 * Each period a node probes one member (shuffled round robin over the roster, Prober), and
 * piggybacks queued updates (BroadcastQueue) on every message; queued updates also go to a few
 * random members every gossip interval; a full state exchange with one random member runs now
 * and then (push-pull) for convergence. A failed probe makes its target suspect; a suspicion
 * becomes a death when its Lifeguard timeout runs out (Suspicion) unless the member refutes it
 * with a higher incarnation. Dead and never-heard members get a direct ping now and then, so
 * that a healed partition or a restarted node comes back. The rest lives in MemberTable.
 */
export class Swim extends TypedEventEmitter<SwimEvents> implements Startable {
  readonly config: SwimConfig
  readonly awareness: Awareness
  private readonly log: Logger
  private readonly self: string
  private readonly clock: Clock
  private readonly broadcasts = new BroadcastQueue()
  private readonly table: MemberTable
  private readonly prober: Prober
  private readonly timers = new Set<Timer>()
  private readonly counters: Omit<SwimStats, 'queued'> = { messagesSent: 0, messagesReceived: 0, bytesSent: 0, bytesReceived: 0, rejected: 0 }
  private started = false
  private pendingRecord?: Uint8Array<ArrayBuffer>
  private recordTimer?: Timer

  constructor (private readonly components: SwimComponents, init: SwimInit = {}) {
    super()
    this.config = resolveConfig(init)
    this.self = components.self
    this.clock = components.clock
    this.log = components.logger?.forComponent('praas:swim') ?? NO_LOG
    this.awareness = new Awareness(this.config.awarenessMax)
    this.table = new MemberTable({
      self: this.self,
      clock: this.clock,
      random: components.random,
      roster: components.roster,
      config: this.config,
      broadcast: (update) => {
        this.broadcasts.enqueue(update)
        this.armGossip()
      },
      forget: (id) => { this.broadcasts.forget(id) },
      refuted: () => { this.awareness.apply(1) },
      emit: (type, detail) => { this.safeDispatchEvent(type, { detail } as any) }
    })
    const config = this.config
    this.prober = new Prober({
      clock: this.clock,
      awareness: this.awareness,
      probeTimeoutMs: config.probeTimeoutMs,
      probeIntervalMs: config.probeIntervalMs,
      indirectChecks: config.indirectChecks,
      nackFraction: config.nackFraction,
      maxRelays: config.maxRelays,
      send: (to, message) => { this.send(to, message) },
      randomMembers: (count, exclude) => this.table.randomReachable(count, exclude),
      probeFailed: (target) => { this.table.suspect(target, this.self) }
    })
    components.transport.listen((from, data) => { this.receive(from, data) })
  }

  readonly [Symbol.toStringTag] = 'praas:swim'

  isStarted (): boolean {
    return this.started
  }

  start (): void {
    if (this.started) return
    this.started = true
    const config = this.config
    const random = this.components.random
    this.table.announce()
    this.armGossip()
    this.join()
    // these two need no precise period: each may come a quarter period late, with a probe's wake-up (clock.ts)
    this.every(config.reconnectIntervalMs * random(), () => config.reconnectIntervalMs, () => { this.reconnect() })
    // a random phase, so that the cluster's full syncs do not come in waves
    this.every(this.pushPullPeriod() * random(), () => this.pushPullPeriod(), () => {
      const [partner] = this.table.randomReachable(1, new Set())
      if (partner != null) this.pushState(partner, true)
    })
    this.probeNext()
  }

  stop (): void {
    this.started = false
    for (const timer of this.timers) timer.cancel()
    this.timers.clear()
    this.recordTimer?.cancel()
    this.recordTimer = undefined
    this.gossipTimer?.cancel()
    this.gossipTimer = undefined
    this.gossipIdle = true
    this.prober.stop()
    this.extraProbes.clear()
    this.table.stop()
    this.broadcasts.clear()
  }

  /**
   * Says that this node leaves: a death of its own (`left`), sent at once to a few members and
   * then spread like any update, and never refuted. Stop the transport after a moment.
   */
  leave (): void {
    this.table.leave()
    for (const to of this.table.randomReachable(this.config.gossipNodes, new Set())) {
      this.send(to, { kind: Kind.GOSSIP })
    }
  }

  /** Reachability of a roster member (`alive` for this node; `dead` for one never heard). */
  status (id: string): MemberStatus {
    return this.table.status(id)
  }

  /** Every roster member heard of, and this node, as this node sees them. */
  members (): MemberView[] {
    return this.table.views()
  }

  member (id: string): MemberView | undefined {
    return this.table.view(id)
  }

  get incarnation (): number {
    return this.table.incarnation
  }

  /**
   * Sets the record this node disseminates about itself (its addresses, load, term...). Every
   * change reaches every node, so keep changes rare: they go out at most once per
   * recordIntervalMs, the newest of the changes made meanwhile. An `urgent` change (a new leader
   * saying so) goes out at once, and the interval starts again from it.
   */
  setRecord (record: Uint8Array, options: { urgent?: boolean } = {}): void {
    if (record.byteLength > this.config.maxRecordBytes) {
      throw new PraasError('TOO_LARGE', `record of ${record.byteLength} bytes exceeds ${this.config.maxRecordBytes}`)
    }
    this.pendingRecord = record.slice()
    if (options.urgent === true && this.started) {
      this.recordTimer?.cancel()
      this.recordTimer = undefined
    }
    if (this.recordTimer == null) this.publishRecord()
  }

  /**
   * Probes a reachable member now, outside the round robin (at most one such probe per member at
   * a time): the transport saw its connection close, which a crashed process causes at once, so
   * the crash is suspected within a probe period instead of when its turn comes.
   */
  probeNow (id: string): void {
    if (!this.started || id === this.self || this.table.status(id) !== 'alive' || this.extraProbes.has(id)) return
    if (this.extraProbes.size >= this.config.maxRelays) return
    this.extraProbes.add(id)
    this.prober.probe(id, () => { this.extraProbes.delete(id) })
  }

  /** Members probed now by probeNow. */
  private readonly extraProbes = new Set<string>()

  stats (): SwimStats {
    return { ...this.counters, queued: this.broadcasts.size }
  }

  /** Bytes from `from`, the authenticated sender; the transport calls this. */
  receive (from: string, data: Uint8Array): void {
    if (!this.started || from === this.self || !this.components.roster().has(from)) {
      this.counters.rejected++
      return
    }
    let message: SwimMessage
    try {
      message = decodeSwimMessage(data, { maxRecordBytes: this.config.maxRecordBytes })
    } catch (err) {
      this.counters.rejected++
      this.log.trace('dropped a message from %s: %s', from, (err as Error).message)
      return
    }
    this.counters.messagesReceived++
    this.counters.bytesReceived += data.byteLength
    // updates first, so that an answer already carries a refutation they caused
    for (const update of message.updates) this.table.apply(update)
    switch (message.kind) {
      case Kind.PING:
        if (message.target !== this.self) return
        this.send(from, { kind: Kind.ACK, seq: message.seq, target: this.self, reply: false }, message.reply ? [this.table.selfUpdate(true)] : [])
        return
      case Kind.PING_REQ:
        // only members are probed for others: a member cannot make this node dial just anyone
        if (message.target !== this.self && message.target !== from && this.components.roster().has(message.target)) this.prober.onPingReq(from, message)
        return
      case Kind.ACK:
        this.prober.onAck(from, message)
        return
      case Kind.NACK:
        this.prober.onNack(from, message)
        return
      case Kind.PUSH:
        this.table.joined = true
        if (message.reply) this.pushState(from, false)
        break
      default:
    }
  }

  private probeNext (): void {
    if (!this.started) return
    const target = this.table.nextProbeTarget()
    if (target == null) {
      this.after(this.config.probeIntervalMs, () => { this.probeNext() })
      return
    }
    this.prober.probe(target, () => { this.probeNext() })
  }

  /**
   * Queued updates go to a few random reachable members every gossip interval, and nothing runs
   * while none are queued (an idle node is not woken 5 times a second for nothing). The first
   * round after a quiet spell comes at a random point of an interval, as on memberlist's ticker.
   */
  private armGossip (): void {
    if (!this.started || this.gossipTimer != null || this.broadcasts.size === 0) return
    const delay = this.gossipIdle ? this.config.gossipIntervalMs * this.components.random() : this.config.gossipIntervalMs
    this.gossipTimer = this.clock.setTimer(delay, () => {
      this.gossipTimer = undefined
      if (!this.started) return
      this.gossip()
      this.gossipIdle = this.broadcasts.size === 0
      this.armGossip()
    })
  }

  private gossipTimer?: Timer
  private gossipIdle = true

  /** Queued updates to a few random reachable members. */
  private gossip (): void {
    if (this.broadcasts.size === 0) return
    for (const to of this.table.randomReachable(this.config.gossipNodes, new Set())) {
      this.send(to, { kind: Kind.GOSSIP })
      if (this.broadcasts.size === 0) break
    }
  }

  /** A direct ping to one random dead or never-heard member, asking for its own state back. */
  private reconnect (): void {
    const target = this.table.randomUnreachable()
    if (target != null) this.send(target, { kind: Kind.PING, seq: 0, target, reply: true })
  }

  /**
   * Until some member answers, a push-pull with a seed (a connected peer) or a random roster
   * member, again every probe period (cheap: a lone node's state is itself).
   */
  private join (): void {
    if (this.table.joined) return
    this.after(this.config.probeIntervalMs, () => { this.join() })
    const roster = this.components.roster()
    const seeds = (this.components.seeds?.() ?? []).filter(id => id !== this.self && roster.has(id))
    const to = seeds.length > 0 ? seeds[Math.floor(this.components.random() * seeds.length)] : this.table.randomOther()
    if (to != null) this.pushState(to, true)
  }

  private pushPullPeriod (): number {
    return pushPullIntervalMs(this.config.pushPullIntervalMs, this.table.clusterSize())
  }

  /** This node's whole state, in as many PUSH messages as it takes. */
  private pushState (to: string, reply: boolean): void {
    const all = this.table.stateUpdates()
    let part: SwimUpdate[] = []
    let bytes = 64
    let first = true
    const flush = (): void => {
      this.send(to, { kind: Kind.PUSH, reply: reply && first }, part, 0)
      first = false
      part = []
      bytes = 64
    }
    for (const update of all) {
      const size = encodedSize(update)
      if (part.length > 0 && (bytes + size > MAX_MESSAGE_BYTES || part.length >= MAX_UPDATES)) flush()
      part.push(update)
      bytes += size
    }
    if (part.length > 0) flush()
  }

  private publishRecord (): void {
    const record = this.pendingRecord
    this.pendingRecord = undefined
    if (record == null) {
      this.recordTimer = undefined
      return
    }
    this.table.setRecord(record)
    this.recordTimer = this.clock.setTimer(this.config.recordIntervalMs, () => { this.publishRecord() })
  }

  /**
   * Encodes and sends a message. Updates about the receiver that it should refute (we hold it
   * suspect or dead) go first, then `extra`, then queued updates within the piggyback budget.
   */
  private send (to: string, message: Partial<SwimMessage>, extra: SwimUpdate[] = [], budget = this.config.piggybackBytes): void {
    if (!this.started) return
    const updates = [...extra]
    const buddy = this.table.refutable(to)
    if (buddy != null) {
      updates.unshift(buddy)
      budget -= encodedSize(buddy)
    }
    if (budget > 0) updates.push(...this.broadcasts.take(budget, retransmitLimit(this.config.retransmitMult, this.table.clusterSize())))
    const data = SwimMessage.encode({ ...message, updates })
    this.counters.messagesSent++
    this.counters.bytesSent += data.byteLength
    this.components.transport.send(to, data)
  }

  /** Runs `fn` after `first` ms, then every `period()` ms (each up to a quarter period late), until stop. */
  private every (first: number, period: () => number, fn: () => void): void {
    this.after(first, () => {
      fn()
      if (this.started) this.every(period(), period, fn)
    }, period() / 4)
  }

  private after (ms: number, fn: () => void, slackMs = 0): void {
    const timer = this.clock.setTimer(ms, () => {
      this.timers.delete(timer)
      if (this.started) fn()
    }, slackMs)
    this.timers.add(timer)
  }
}
