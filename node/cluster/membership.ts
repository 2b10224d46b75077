import { TopicValidatorResult } from '@libp2p/gossipsub'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { TypedEventEmitter } from 'main-event'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Heartbeat } from '../../protocol/pb/cluster.js'
import {
  HEARTBEAT_INTERVAL_MS, HEARTBEAT_TOPIC, MAX_CLUSTER_MESSAGE_BYTES, MAX_MEMBER_DIALS, MAX_MEMBERS, MEMBER_EXPIRY_BEATS
} from './constants.js'
import { newer } from './roster.js'
import type { ClusterComponents } from './components.js'
import type { Roster } from './roster.js'
import type { Message } from '@libp2p/gossipsub'
import type { Logger, PeerId, Startable } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { IntervalHistogram } from 'node:perf_hooks'

/** A live node of the cluster as its last heartbeat described it. */
export interface Member {
  peerId: string
  /** Its multiaddrs, each ending in /p2p/<peerId>. */
  addrs: Multiaddr[]
  /** Active processes. */
  load: number
  /** Mean event-loop delay over its last heartbeat interval, in ms. */
  eventLoopDelayMs: number
  /** Resident set size in bytes. */
  memory: number
  /** Its election term, and the leader it follows ('' if none). */
  term: number
  leader: string
  /** When this node last heard it (Date.now()). */
  lastSeen: number
}

export interface MembershipInit {
  /** How often this node publishes its heartbeat. Default 1 s. */
  heartbeatIntervalMs?: number
  /** Missed heartbeats after which a member is gone. Default 3. */
  expiryBeats?: number
  /** Connect to members heard of through the topic but not connected (a full mesh). Default true. */
  dialMembers?: boolean
  /** The node's active processes; settable later with `setLoad`. Default 0. */
  load?(): number
}

export interface MembershipEvents {
  'member:join': CustomEvent<Member>
  'member:leave': CustomEvent<Member>
  heartbeat: CustomEvent<Member>
  /** This node published its own heartbeat (with these figures). */
  published: CustomEvent<Member>
}

const MAX_HEARTBEAT_ADDRS = 16
/** The first wait before a member not heard is dialled again, doubling up to the second. */
const RECONNECT_BACKOFF_MS = 1_000
const MAX_RECONNECT_BACKOFF_MS = 16_000
/** How long a member may stay connected but not heard before its connections are closed. */
const STALE_CONNECTION_MS = 8_000

/**
 * Who is in the cluster and how loaded each node is: every node publishes a heartbeat on a
 * gossipsub topic every second; a member not heard for three heartbeats is gone. Gossipsub
 * signs each message, and a heartbeat must be signed by the peer it describes.
 */
export class Membership extends TypedEventEmitter<MembershipEvents> implements Startable {
  private readonly log: Logger
  private readonly live = new Map<string, Member>()
  private readonly dialing = new Set<string>()
  /** Members not heard: when this node may dial each again (`reconnect`). */
  private readonly backoff = new Map<string, { next: number, waitMs: number }>()
  /** Members not heard while connected: since when (`reconnect` closes such connections past a while). */
  private readonly silentSince = new Map<string, number>()
  /** The addresses each member gave in its last heartbeat (bounded by the roster's size). */
  private readonly lastAddrs = new Map<string, Multiaddr[]>()
  private readonly baseIntervalMs: number
  private readonly expiryMs: number
  private readonly dialMembers: boolean
  private intervalMs: number
  private load: () => number
  private electionState: () => { term: number, leader: string } = () => ({ term: 0, leader: '' })
  private timer?: ReturnType<typeof setTimeout>
  private delay?: IntervalHistogram
  private lastDelayMs = 0
  private started = false

  constructor (private readonly components: ClusterComponents & { roster: Roster }, init: MembershipInit = {}) {
    super()
    this.log = components.logger.forComponent('praas:membership')
    this.baseIntervalMs = init.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS
    this.intervalMs = this.baseIntervalMs
    this.expiryMs = this.baseIntervalMs * (init.expiryBeats ?? MEMBER_EXPIRY_BEATS)
    this.dialMembers = init.dialMembers ?? true
    this.load = init.load ?? (() => 0)
  }

  readonly [Symbol.toStringTag] = 'praas:membership'

  isStarted (): boolean {
    return this.started
  }

  start (): void {
    this.started = true
    this.delay = monitorEventLoopDelay({ resolution: 10 })
    this.delay.enable()
  }

  afterStart (): void {
    const { pubsub } = this.components
    pubsub.topicValidators.set(HEARTBEAT_TOPIC, (_peer, message) => this.parse(message) == null ? TopicValidatorResult.Reject : TopicValidatorResult.Accept)
    pubsub.addEventListener('message', this.onMessage)
    pubsub.subscribe(HEARTBEAT_TOPIC)
    this.schedule(0)
  }

  /** Tells the others that this node leaves, while pubsub still runs. */
  async beforeStop (): Promise<void> {
    clearTimeout(this.timer)
    this.started = false
    await this.publish(true)
  }

  stop (): void {
    this.started = false
    clearTimeout(this.timer)
    this.delay?.disable()
    const { pubsub } = this.components
    pubsub.removeEventListener('message', this.onMessage)
    try {
      pubsub.topicValidators.delete(HEARTBEAT_TOPIC)
      pubsub.unsubscribe(HEARTBEAT_TOPIC)
    } catch {}
    this.live.clear()
  }

  /** Where this node's load figure comes from (the runtime's active process count). */
  setLoad (load: () => number): void {
    this.load = load
  }

  /** @internal The election's state, carried in every heartbeat. */
  setElectionState (state: () => { term: number, leader: string }): void {
    this.electionState = state
  }

  /** @internal The leader beats faster; pass undefined to return to the normal interval. */
  setInterval (ms?: number): void {
    const next = ms ?? this.baseIntervalMs
    if (next === this.intervalMs) return
    this.intervalMs = next
    if (this.started) this.schedule(0)
  }

  /** The other live members (not this node). */
  members (): Member[] {
    this.expire()
    return [...this.live.values()].filter(m => this.components.roster.isMember(m.peerId))
  }

  get (peerId: string): Member | undefined {
    this.expire()
    return this.components.roster.isMember(peerId) ? this.live.get(peerId) : undefined
  }

  /** This node, as its next heartbeat will describe it. */
  self (): Member {
    const { term, leader } = this.electionState()
    return {
      peerId: this.components.peerId.toString(),
      addrs: this.components.addressManager.getAddresses(),
      load: this.load(),
      eventLoopDelayMs: this.lastDelayMs,
      memory: process.memoryUsage.rss(),
      term,
      leader,
      lastSeen: Date.now()
    }
  }

  private schedule (delayMs: number): void {
    clearTimeout(this.timer)
    if (!this.started) return
    this.timer = setTimeout(() => {
      this.reconnect()
      void this.publish(false).finally(() => { this.schedule(this.intervalMs) })
    }, delayMs)
  }

  /** Publishes a heartbeat now (the election calls this when its state changes). */
  async publish (leaving = false): Promise<void> {
    this.expire()
    if (this.delay != null) {
      this.lastDelayMs = Number.isNaN(this.delay.mean) ? 0 : this.delay.mean / 1e6
      this.delay.reset()
    }
    const me = this.self()
    // only members speak on the topic (the gossipsub protocols are members-only too)
    if (!this.components.roster.isMember(me.peerId)) return
    const config = this.components.roster.config
    const beat: Heartbeat = {
      rosterTerm: config?.term ?? 0,
      rosterVersion: config?.version ?? 0,
      peerId: me.peerId,
      addrs: me.addrs.slice(0, MAX_HEARTBEAT_ADDRS).map(a => a.decapsulateCode(421).bytes),
      load: Math.min(me.load, 0xffffffff),
      eventLoopDelayUs: Math.min(Math.round(me.eventLoopDelayMs * 1000), 0xffffffff),
      memory: me.memory,
      term: me.term,
      leader: me.leader,
      leaving
    }
    this.safeDispatchEvent('published', { detail: me })
    try {
      await this.components.pubsub.publish(HEARTBEAT_TOPIC, Heartbeat.encode(beat))
    } catch (err) {
      this.log.trace('heartbeat not sent: %s', (err as Error).message)
    }
  }

  /** Decodes and checks a heartbeat message; undefined if it is not a valid one. */
  private parse (message: Message): { beat: Heartbeat, from: PeerId } | undefined {
    if (message.topic !== HEARTBEAT_TOPIC || message.type !== 'signed') return undefined
    if (message.data.byteLength > MAX_CLUSTER_MESSAGE_BYTES) return undefined
    try {
      const beat = Heartbeat.decode(message.data, { limits: { addrs: MAX_HEARTBEAT_ADDRS } })
      if (beat.peerId !== message.from.toString() || !Number.isSafeInteger(beat.term)) return undefined
      // a heartbeat counts only from a member of the cluster (gossipsub forwards what others signed)
      if (!this.components.roster.isMember(beat.peerId)) return undefined
      if (!Number.isSafeInteger(beat.rosterTerm) || !Number.isSafeInteger(beat.rosterVersion)) return undefined
      return { beat, from: message.from }
    } catch {
      return undefined
    }
  }

  private readonly onMessage = (evt: CustomEvent<Message>): void => {
    const parsed = this.parse(evt.detail)
    if (parsed == null) return
    const { beat, from } = parsed
    const id = beat.peerId
    if (id === this.components.peerId.toString()) return
    const config = this.components.roster.config
    if (config != null && newer({ term: beat.rosterTerm, version: beat.rosterVersion }, config)) void this.components.roster.pullFrom(id)
    const known = this.live.get(id)
    if (beat.leaving) {
      if (known != null) this.remove(known)
      return
    }
    if (known == null && this.live.size >= MAX_MEMBERS) return
    let addrs: Multiaddr[]
    try {
      addrs = beat.addrs.map(bytes => multiaddr(bytes).encapsulate(`/p2p/${id}`))
    } catch {
      return
    }
    const member: Member = {
      peerId: id,
      addrs,
      load: beat.load,
      eventLoopDelayMs: beat.eventLoopDelayUs / 1000,
      memory: beat.memory,
      term: beat.term,
      leader: beat.leader,
      lastSeen: Date.now()
    }
    this.live.set(id, member)
    this.lastAddrs.set(id, addrs)
    if (known == null) {
      this.log('member %s joined', id)
      this.safeDispatchEvent('member:join', { detail: member })
      this.connect(from, addrs)
    }
    this.safeDispatchEvent('heartbeat', { detail: member })
  }

  /** Connects to a member heard through others, so that the mesh does not hang on one node. */
  private connect (peerId: PeerId, addrs: Multiaddr[]): void {
    const id = peerId.toString()
    if (!this.dialMembers || addrs.length === 0 || this.dialing.has(id) || this.dialing.size >= MAX_MEMBER_DIALS) return
    if (this.components.connectionManager.getConnections(peerId).length > 0) return
    this.dialing.add(id)
    void this.components.connectionManager.openConnection(addrs, { signal: AbortSignal.timeout(5_000) })
      .catch((err: Error) => { this.log('could not connect to member %s: %s', id, err.message) })
      .finally(() => this.dialing.delete(id))
  }

  /**
   * Dials the members of the cluster this node neither hears nor is connected to, at the addresses
   * they last gave (else those they joined with), each at most once per backoff (1 s, doubling to
   * 16 s): after a network cut heals, no gossip arrives to say they are back, and without a dial
   * the two sides would stay apart.
   */
  private reconnect (): void {
    if (!this.dialMembers) return
    const self = this.components.peerId.toString()
    const now = Date.now()
    for (const id of this.components.roster.members()) {
      if (id === self || this.live.has(id) || this.dialing.has(id) || this.dialing.size >= MAX_MEMBER_DIALS) continue
      const backoff = this.backoff.get(id)
      if (backoff != null && backoff.next > now) continue
      const peer = peerIdFromString(id)
      const connections = this.components.connectionManager.getConnections(peer)
      if (connections.length > 0) {
        // connected, yet not heard: a connection across a cut that healed can stay open and
        // silent (TCP backing off, gossip streams gone); past a while it goes, and a dial follows
        const since = this.silentSince.get(id)
        if (since == null) this.silentSince.set(id, now)
        else if (now - since > STALE_CONNECTION_MS) {
          this.silentSince.delete(id)
          this.log('member %s is connected but not heard for %d ms: closing its connections', id, now - since)
          for (const connection of connections) connection.abort(new Error('a member connected but not heard'))
        }
        continue
      }
      this.silentSince.delete(id)
      const addrs = this.lastAddrs.get(id) ?? this.components.roster.addrsOf(id)
      if (addrs.length === 0) continue
      const waitMs = Math.min(MAX_RECONNECT_BACKOFF_MS, (backoff?.waitMs ?? RECONNECT_BACKOFF_MS / 2) * 2)
      this.backoff.set(id, { next: now + waitMs, waitMs })
      this.connect(peer, addrs)
    }
    // heard again, or no longer a member: nothing to wait for
    for (const map of [this.backoff, this.silentSince]) {
      for (const id of map.keys()) if (this.live.has(id) || !this.components.roster.isMember(id)) map.delete(id)
    }
  }

  private remove (member: Member): void {
    if (this.live.get(member.peerId) !== member) return
    this.live.delete(member.peerId)
    this.log('member %s left', member.peerId)
    this.safeDispatchEvent('member:leave', { detail: member })
  }

  private expire (): void {
    const oldest = Date.now() - this.expiryMs
    for (const member of this.live.values()) {
      if (member.lastSeen < oldest) this.remove(member)
    }
  }
}
