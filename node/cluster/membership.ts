import { multiaddr } from '@multiformats/multiaddr'
import { TypedEventEmitter } from 'main-event'
import { MEMBER_FIGURES_INTERVAL_MS, PERIODIC_SLACK_MS, REPORT_FRESH_MS, SAMPLE_INTERVAL_MS } from './constants.js'
import { newer } from './roster.js'
import { systemClock } from './swim/clock.js'
import type { NodeRecordFields } from './swim/service.js'
import type { SwimNodeRecord } from './swim/record.js'
import type { Swim } from './swim/swim.js'
import type { Clock, MemberStatus, StatusChange, Timer } from './swim/types.js'
import type { ClusterConfig } from '../../protocol/pb/cluster.js'
import type { ComponentLogger, Logger, Startable } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { TypedEventTarget } from 'main-event'

/** A reachable member of the cluster, as SWIM and the figures heard of it describe it. */
export interface Member {
  peerId: string
  /** Its multiaddrs, each ending in /p2p/<peerId>. */
  addrs: Multiaddr[]
  /** Active processes. */
  load: number
  /** Event-loop delay, in ms: how late a timer of the node's fired, sampled every second. */
  eventLoopDelayMs: number
  /** Resident set size in bytes. */
  memory: number
  /** The term it leads and its own id, if it claims to lead (0 and '' otherwise). */
  term: number
  leader: string
  /** SWIM's view of it: alive, or suspect (a probe failed and it has not refuted yet). */
  status: 'alive' | 'suspect'
  /** When its figures were last refreshed, on this node's clock (ms). */
  lastSeen: number
}

/** A node's own figures: what the leader places by, and what the web view shows. */
export interface Figures {
  load: number
  eventLoopDelayMs: number
  memory: number
}

export interface MembershipInit {
  /** How often this node samples its own figures. Default 1 s. */
  sampleIntervalMs?: number
  /** The figures in this node's SWIM record are refreshed at most this often, and only when they moved. Default 30 s. */
  figuresIntervalMs?: number
  /** The node's active processes; settable later with `setLoad`. Default 0. */
  load?(): number
  /**
   * This node's event-loop delay (ms) and memory. Default: how late the sample's own timer fired
   * (a monitor of its own would wake an idle node tens of times a second), and the RSS.
   */
  sample?(): { eventLoopDelayMs: number, memory: number }
}

/** What membership needs of the cluster config (node/cluster/roster.ts). */
export interface MembershipRoster extends TypedEventTarget<{ change: CustomEvent<ClusterConfig> }> {
  /** The member ids, the same Set object while the config is unchanged (SWIM's roster). */
  readonly memberIds: ReadonlySet<string>
  readonly config: Pick<ClusterConfig, 'term' | 'version'> | undefined
  isMember(peerId: string): boolean
  /** Where a member said it listens when it joined (each with /p2p/): its addresses until its record brings them. */
  addrsOf?(peerId: string): Multiaddr[]
  /** Asks a member for its config (its record names a newer one). */
  pullFrom(peerId: string): Promise<void>
}

/** What membership needs of SWIM: the core, the decoded records, and this node's record (node/cluster/swim/service.ts). */
export interface SwimView {
  readonly swim: Pick<Swim, 'status' | 'addEventListener' | 'removeEventListener'>
  record(peerId: string): SwimNodeRecord | undefined
  setRecord(fields: NodeRecordFields, options?: { urgent?: boolean }): void
}

/** How long this node's own addresses are taken as they were (they change only when a transport listens anew). */
const ADDRS_TTL_MS = 5_000

export interface MembershipComponents {
  peerId: { toString(): string }
  logger: ComponentLogger
  addressManager: { getAddresses(): Multiaddr[] }
  roster: MembershipRoster
  swim: SwimView
  /** Default: the process's monotonic clock. */
  clock?: Clock
}

export interface MembershipEvents {
  /** A member became reachable. */
  'member:join': CustomEvent<Member>
  /** A member is no longer reachable (SWIM declared it dead, or it left: `left`). */
  'member:leave': CustomEvent<Member & { left: boolean }>
  /** What this node knows of a member changed: its record, or alive / suspect. */
  update: CustomEvent<Member>
  /** Leader side: a member's fresh figures arrived with its lease renewal. */
  figures: CustomEvent<Member>
  /** This node sampled its own figures (every second). */
  published: CustomEvent<Member>
}

/**
 * Who in the cluster is reachable now, and what each says about itself, over SWIM
 * (node/cluster/swim): failure detection by probes, and a small record per node spread by
 * piggybacking, so that a node's cost does not grow with the mesh (docs/cluster.md). Who is a
 * member is the cluster config's business (roster.ts); this only says which members answer.
 *
 * A node's record carries its addresses, the leader's claim (only the leader sets one), the
 * cluster config it holds, and its figures at most every 30 s. The leader, which places
 * processes, gets every member's figures fresh with its lease renewals (`report`).
 */
export class Membership extends TypedEventEmitter<MembershipEvents> implements Startable {
  private readonly log: Logger
  private readonly selfId: string
  private readonly clock: Clock
  private readonly live = new Map<string, Member>()
  /** Figures members sent with their lease renewals (leader side), and when. */
  private readonly reports = new Map<string, Figures & { at: number }>()
  private readonly sampleIntervalMs: number
  private readonly figuresIntervalMs: number
  private load: () => number
  private sample?: () => { eventLoopDelayMs: number, memory: number }
  /** How late the last sample's timer fired: the event-loop delay, measured without a timer of its own. */
  private lateMs = 0
  private ownFigures: Figures = { load: 0, eventLoopDelayMs: 0, memory: 0 }
  /** The figures in this node's record, and when they were put there. */
  private recorded?: Figures & { at: number }
  /** The term this node leads (0: none), as its record says. */
  private leading = 0
  private timer?: Timer
  private started = false

  constructor (private readonly components: MembershipComponents, private readonly init: MembershipInit = {}) {
    super()
    this.log = components.logger.forComponent('praas:membership')
    this.selfId = components.peerId.toString()
    this.clock = components.clock ?? systemClock
    this.sampleIntervalMs = init.sampleIntervalMs ?? SAMPLE_INTERVAL_MS
    this.figuresIntervalMs = init.figuresIntervalMs ?? MEMBER_FIGURES_INTERVAL_MS
    this.load = init.load ?? (() => 0)
  }

  readonly [Symbol.toStringTag] = 'praas:membership'

  isStarted (): boolean {
    return this.started
  }

  start (): void {
    this.started = true
    this.sample = this.init.sample ?? (() => ({ eventLoopDelayMs: this.lateMs, memory: process.memoryUsage.rss() }))
    const { swim, roster } = this.components
    swim.swim.addEventListener('member:status', this.onStatus)
    swim.swim.addEventListener('member:record', this.onRecord)
    roster.addEventListener('change', this.onRoster)
  }

  afterStart (): void {
    this.tick()
    this.publishRoster()
  }

  stop (): void {
    this.started = false
    this.timer?.cancel()
    const { swim, roster } = this.components
    swim.swim.removeEventListener('member:status', this.onStatus)
    swim.swim.removeEventListener('member:record', this.onRecord)
    roster.removeEventListener('change', this.onRoster)
    this.live.clear()
    this.reports.clear()
  }

  /** Where this node's load figure comes from (the runtime's active process count). */
  setLoad (load: () => number): void {
    this.load = load
  }

  /**
   * @internal The election: this node leads `term` (it says so in its record at once, so that
   * every member follows it within a few gossip rounds), or leads nothing (term 0).
   */
  setLeadership (term: number): void {
    this.leading = term
    this.components.swim.setRecord({ term, leader: term > 0 ? this.selfId : '' }, { urgent: true })
  }

  /** The other reachable members (not this node). */
  members (): Member[] {
    const { roster } = this.components
    return [...this.live.values()].filter(m => roster.isMember(m.peerId))
  }

  get (peerId: string): Member | undefined {
    return this.components.roster.isMember(peerId) ? this.live.get(peerId) : undefined
  }

  /** SWIM's view of a member: `alive`, `suspect`, or `dead` (also for one never heard). */
  status (peerId: string): MemberStatus {
    if (!this.components.roster.isMember(peerId)) return 'dead'
    return this.components.swim.swim.status(peerId)
  }

  /** This node, with its figures of the last second. */
  self (): Member {
    return {
      peerId: this.selfId,
      addrs: this.ownAddrs(),
      ...this.figures(),
      term: this.leading,
      leader: this.leading > 0 ? this.selfId : '',
      status: 'alive',
      lastSeen: this.clock.now()
    }
  }

  /**
   * This node's addresses, asked of libp2p at most every ADDRS_TTL_MS: self() goes with the
   * sample every second, and libp2p's address manager builds them anew each time (a tenth of the
   * CPU of a sample, in an idle node's profile).
   */
  private ownAddrs (): Multiaddr[] {
    const now = this.clock.now()
    if (this.addrs == null || now - this.addrs.at >= ADDRS_TTL_MS) this.addrs = { at: now, list: this.components.addressManager.getAddresses() }
    return [...this.addrs.list]
  }

  private addrs?: { at: number, list: Multiaddr[] }

  /** This node's figures of the last second (what `self()` carries, without its addresses). */
  figures (): Figures {
    return { ...this.ownFigures, load: this.load() }
  }

  /** @internal Leader side: a member's figures, sent with its lease renewal. */
  report (peerId: string, figures: Figures): void {
    if (!this.components.roster.isMember(peerId)) return
    this.reports.set(peerId, { ...figures, at: this.clock.now() })
    const member = this.live.get(peerId)
    if (member == null) return
    Object.assign(member, figures, { lastSeen: this.clock.now() })
    this.safeDispatchEvent('figures', { detail: member })
  }

  /** Samples this node's figures; puts them in its record when they moved and the interval allows. */
  private tick (): void {
    if (!this.started) return
    const { eventLoopDelayMs, memory } = this.sample!()
    this.ownFigures = { load: this.load(), eventLoopDelayMs, memory }
    this.safeDispatchEvent('published', { detail: this.self() })
    const now = this.clock.now()
    if (this.recorded == null || (now - this.recorded.at >= this.figuresIntervalMs && moved(this.ownFigures, this.recorded))) {
      this.recorded = { ...this.ownFigures, at: now }
      this.components.swim.setRecord({
        load: Math.min(this.ownFigures.load, 0xffffffff),
        eventLoopDelayUs: Math.min(Math.round(eventLoopDelayMs * 1000), 0xffffffff),
        memory: Math.round(memory)
      })
    }
    const due = this.clock.now() + this.sampleIntervalMs
    // with slack: the sample rides on another timer's wake-up (swim/clock.ts), which says how late it came itself
    this.timer = this.clock.setTimer(this.sampleIntervalMs, (lateMs) => {
      this.lateMs = lateMs ?? Math.max(0, this.clock.now() - due)
      this.tick()
    }, PERIODIC_SLACK_MS)
  }

  private publishRoster (): void {
    const config = this.components.roster.config
    this.components.swim.setRecord({ rosterTerm: config?.term ?? 0, rosterVersion: config?.version ?? 0 })
  }

  private readonly onRoster = (): void => {
    for (const member of [...this.live.values()]) {
      if (!this.components.roster.isMember(member.peerId)) this.drop(member.peerId, false)
    }
    if (this.started) this.publishRoster()
  }

  private readonly onStatus = (evt: CustomEvent<StatusChange>): void => {
    const { id, status, left } = evt.detail
    if (id === this.selfId || !this.components.roster.isMember(id)) return
    if (status === 'dead') {
      this.drop(id, left)
      return
    }
    const known = this.live.get(id)
    if (known != null) {
      known.status = status
      this.safeDispatchEvent('update', { detail: known })
      return
    }
    const member = this.describe(id, status)
    this.live.set(id, member)
    this.log('member %s is reachable', id)
    this.safeDispatchEvent('member:join', { detail: member })
  }

  private readonly onRecord = (evt: CustomEvent<{ id: string }>): void => {
    const id = evt.detail.id
    if (id === this.selfId || !this.components.roster.isMember(id)) return
    const record = this.components.swim.record(id)
    if (record == null) return
    const config = this.components.roster.config
    if (config != null && newer({ term: record.rosterTerm, version: record.rosterVersion }, config)) void this.components.roster.pullFrom(id)
    const known = this.live.get(id)
    if (known == null) return
    Object.assign(known, this.describe(id, known.status))
    this.safeDispatchEvent('update', { detail: known })
  }

  private drop (id: string, left: boolean): void {
    const member = this.live.get(id)
    this.reports.delete(id)
    if (member == null) return
    this.live.delete(id)
    this.log('member %s is unreachable%s', id, left ? ' (it left)' : '')
    this.safeDispatchEvent('member:leave', { detail: { ...member, left } })
  }

  /** A member from its record, with the fresher figures of its lease renewals where there are some. */
  private describe (id: string, status: 'alive' | 'suspect'): Member {
    const record = this.components.swim.record(id)
    const report = this.reports.get(id)
    const now = this.clock.now()
    const fresh = report != null && now - report.at < REPORT_FRESH_MS ? report : undefined
    return {
      peerId: id,
      // a member is often heard alive a moment before its record comes (the record travels apart)
      addrs: record != null && record.addrs.length > 0 ? addrsOf(id, record) : this.components.roster.addrsOf?.(id) ?? [],
      load: fresh?.load ?? record?.load ?? 0,
      eventLoopDelayMs: fresh?.eventLoopDelayMs ?? (record?.eventLoopDelayUs ?? 0) / 1000,
      memory: fresh?.memory ?? record?.memory ?? 0,
      term: record?.leader === id ? record.term : 0,
      leader: record?.leader === id ? id : '',
      status,
      lastSeen: fresh?.at ?? now
    }
  }
}

function addrsOf (id: string, record: SwimNodeRecord | undefined): Multiaddr[] {
  return (record?.addrs ?? []).flatMap(bytes => {
    try {
      return [multiaddr(bytes).encapsulate(`/p2p/${id}`)]
    } catch {
      return []
    }
  })
}

/**
 * A change of event-loop delay worth a record change: the leader gets fresh figures with every
 * lease renewal, and a node's timers run a few ms late on a busy machine all the time (at 5 ms,
 * every node of a mesh of 16 on two cores changed its record every 30 s).
 */
const RECORD_DELAY_STEP_MS = 20

/** Whether figures moved enough to be worth a record change (each reaches every node). */
function moved (now: Figures, before: Figures): boolean {
  return now.load !== before.load ||
    Math.abs(now.memory - before.memory) > before.memory / 8 ||
    Math.abs(now.eventLoopDelayMs - before.eventLoopDelayMs) > Math.max(RECORD_DELAY_STEP_MS, before.eventLoopDelayMs / 2)
}
