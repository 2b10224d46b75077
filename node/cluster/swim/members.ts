import { SwimStatus, statusFromWire, statusToWire } from './codec.js'
import { MAX_MEMBERS } from './constants.js'
import { compareLiveness, compareRecords, merge } from './merge.js'
import { Suspicion, suspicionMinMs } from './suspicion.js'
import type { SwimUpdate } from './codec.js'
import type { SwimConfig } from './config.js'
import type { MemberState } from './merge.js'
import type { Clock, MemberStatus, MemberView, Random, RecordChange, Roster, StatusChange } from './types.js'

/** What the table needs of the protocol core. */
export interface TableHost {
  self: string
  clock: Clock
  random: Random
  roster: Roster
  config: SwimConfig
  /** Queues an update to be spread. */
  broadcast(update: SwimUpdate): void
  /** A member left the roster: drop what is queued about it. */
  forget(id: string): void
  /** This node had to refute a suspicion of itself (a sign of its own ill health). */
  refuted(): void
  emit(type: 'member:status', detail: StatusChange): void
  emit(type: 'member:record', detail: RecordChange): void
}

interface Entry extends MemberState {
  id: string
  since: number
  suspicion?: Suspicion
}

const EMPTY = new Uint8Array(0)

/**
 * What this node holds about every roster member and about itself: the merge of every update
 * heard (merge.ts), the events, the suspicions and their timeouts, refutation, the probe order,
 * and random picks of members. Members outside the roster are never stored.
 */
export class MemberTable {
  incarnation: number
  /** Some member answered a push-pull: this node has had a whole state once. */
  joined = false
  private recordVersion: number
  private record: Uint8Array<ArrayBuffer> = EMPTY
  private left = false
  private readonly entries = new Map<string, Entry>()
  /** Alive and suspect members, for random picks in O(1). */
  private readonly reachable: string[] = []
  private readonly reachableIndex = new Map<string, number>()
  private rosterSeen?: ReadonlySet<string>
  private members: ReadonlySet<string> = new Set()
  private others: string[] = []
  private order: string[] = []
  private orderIndex = 0

  constructor (private readonly host: TableHost) {
    this.incarnation = host.config.initialIncarnation
    this.recordVersion = host.config.initialIncarnation
  }

  /** Roster size, this node included: the N of every log N. */
  clusterSize (): number {
    this.syncRoster()
    return Math.max(1, this.members.size)
  }

  status (id: string): MemberStatus {
    if (id === this.host.self) return this.left ? 'dead' : 'alive'
    this.syncRoster()
    return this.entries.get(id)?.status ?? 'dead'
  }

  view (id: string): MemberView | undefined {
    if (id === this.host.self) {
      return { id, status: this.status(id), incarnation: this.incarnation, record: this.record, recordVersion: this.recordVersion, left: this.left, since: 0 }
    }
    this.syncRoster()
    const entry = this.entries.get(id)
    if (entry == null) return undefined
    return { id, status: entry.status, incarnation: entry.incarnation, record: entry.record, recordVersion: entry.recordVersion, left: entry.left, since: entry.since }
  }

  views (): MemberView[] {
    this.syncRoster()
    return [this.view(this.host.self)!, ...[...this.entries.keys()].map(id => this.view(id)!)]
  }

  /** This node's own state as an update (with its record or without). */
  selfUpdate (withRecord: boolean): SwimUpdate {
    return {
      member: this.host.self,
      incarnation: this.incarnation,
      status: this.left ? SwimStatus.DEAD : SwimStatus.ALIVE,
      from: this.left ? this.host.self : '',
      recordVersion: withRecord && this.record.byteLength > 0 ? this.recordVersion : 0,
      record: withRecord ? this.record : EMPTY
    }
  }

  /** Spreads this node's own state (at start). */
  announce (): void {
    this.left = false
    this.host.broadcast(this.selfUpdate(true))
  }

  leave (): void {
    this.left = true
    this.host.broadcast(this.selfUpdate(false))
  }

  setRecord (record: Uint8Array<ArrayBuffer>): void {
    this.record = record
    this.recordVersion++
    this.host.broadcast(this.selfUpdate(true))
  }

  /** The whole state, for a push-pull: this node and every member heard of, with records. */
  stateUpdates (): SwimUpdate[] {
    this.syncRoster()
    return [this.selfUpdate(true), ...[...this.entries.values()].map(e => this.toUpdate(e, this.host.self, true))]
  }

  /** What the receiver of a message should hear first: that we hold it suspect or dead, so it refutes. */
  refutable (to: string): SwimUpdate | undefined {
    this.syncRoster()
    const entry = this.entries.get(to)
    if (entry == null || entry.status === 'alive') return undefined
    return this.toUpdate(entry, this.host.self, false)
  }

  /** Applies an update heard from a member. */
  apply (update: SwimUpdate): void {
    this.syncRoster()
    if (update.member === this.host.self) {
      this.applySelf(update)
      return
    }
    if (!this.members.has(update.member)) return
    const id = update.member
    const status = statusFromWire(update.status)
    const entry = this.entries.get(id)
    if (entry != null && !newer(update, status, entry)) {
      // the same suspicion from another member: a Lifeguard confirmation, worth passing on
      if (entry.status === 'suspect' && status === 'suspect' && entry.incarnation === update.incarnation && entry.suspicion?.confirm(update.from) === true) {
        this.host.broadcast({ ...update, recordVersion: 0, record: EMPTY })
      }
      return
    }
    const previous = entry == null ? undefined : { status: entry.status, left: entry.left }
    const merged = merge(entry, { incarnation: update.incarnation, status, left: status === 'dead' && update.from === id, recordVersion: update.recordVersion, record: update.record })
    const next: Entry = entry ?? { id, since: this.host.clock.now(), ...merged.state }
    Object.assign(next, merged.state)
    if (merged.record) next.record = update.record.slice()
    this.entries.set(id, next)
    if (merged.liveness) this.onLiveness(next, previous, update.from)
    if (merged.record) this.host.emit('member:record', { id, record: next.record, version: next.recordVersion })
    this.host.broadcast(this.toUpdate(next, update.from, merged.record))
  }

  /** This node's probe of `id` failed, or it confirms another's suspicion. */
  suspect (id: string, from: string): void {
    const entry = this.entries.get(id)
    if (entry == null || entry.status === 'dead') return
    this.apply({ member: id, incarnation: entry.incarnation, status: SwimStatus.SUSPECT, from, recordVersion: 0, record: EMPTY })
  }

  /** The next member to probe: shuffled round robin over the reachable members. */
  nextProbeTarget (): string | undefined {
    this.syncRoster()
    for (let tries = 0; tries < 2 * this.order.length + 1; tries++) {
      if (this.orderIndex >= this.order.length) {
        this.order = shuffle([...this.others], this.host.random)
        this.orderIndex = 0
        if (this.order.length === 0) return undefined
      }
      const id = this.order[this.orderIndex++]
      if (this.reachableIndex.has(id)) return id
    }
    return undefined
  }

  /** Up to `count` distinct random reachable members not in `exclude` (memberlist's kRandomNodes). */
  randomReachable (count: number, exclude: ReadonlySet<string>): string[] {
    this.syncRoster()
    const picked = new Set<string>()
    const n = this.reachable.length
    for (let tries = 0; tries < 3 * n && picked.size < count; tries++) {
      const id = this.reachable[Math.floor(this.host.random() * n)]
      if (!exclude.has(id)) picked.add(id)
    }
    return [...picked]
  }

  /** A random roster member that is dead or never heard, if there is one. */
  randomUnreachable (): string | undefined {
    this.syncRoster()
    if (this.reachable.length >= this.others.length) return undefined
    for (let tries = 0; tries < 32; tries++) {
      const id = this.others[Math.floor(this.host.random() * this.others.length)]
      if (!this.reachableIndex.has(id)) return id
    }
    return this.others.find(id => !this.reachableIndex.has(id))
  }

  /** A random roster member other than this node. */
  randomOther (): string | undefined {
    this.syncRoster()
    return this.others.length === 0 ? undefined : this.others[Math.floor(this.host.random() * this.others.length)]
  }

  stop (): void {
    for (const entry of this.entries.values()) entry.suspicion?.cancel()
  }

  private applySelf (update: SwimUpdate): void {
    if (this.left) return
    const status = statusFromWire(update.status)
    if ((status !== 'alive' && update.incarnation >= this.incarnation) || update.incarnation > this.incarnation) {
      // refute: only this node raises its incarnation, past anything said of it
      this.incarnation = update.incarnation + 1
      if (status !== 'alive') this.host.refuted()
      this.host.broadcast(this.selfUpdate(false))
    }
    if (update.recordVersion > 0 && compareRecords(update.recordVersion, update.record, this.recordVersion, this.record) > 0) {
      // a record of a previous life of this node: outrank it
      this.recordVersion = update.recordVersion + 1
      this.host.broadcast(this.selfUpdate(true))
    }
  }

  private onLiveness (entry: Entry, previous: { status: MemberStatus, left: boolean } | undefined, from: string): void {
    entry.since = this.host.clock.now()
    entry.suspicion?.cancel()
    entry.suspicion = undefined
    if (entry.status === 'suspect') {
      const { config } = this.host
      const n = this.clusterSize()
      const k = n - 2 < config.suspicionMult - 2 ? 0 : config.suspicionMult - 2
      const min = suspicionMinMs(config.suspicionMult, n, config.probeIntervalMs)
      const incarnation = entry.incarnation
      entry.suspicion = new Suspicion(from, k, min, min * config.suspicionMaxTimeoutMult, this.host.clock, () => {
        const now = this.entries.get(entry.id)
        if (now?.status !== 'suspect' || now.incarnation !== incarnation) return
        this.apply({ member: entry.id, incarnation, status: SwimStatus.DEAD, from: this.host.self, recordVersion: 0, record: EMPTY })
      })
    }
    this.setReachable(entry.id, entry.status !== 'dead')
    const before = previous ?? { status: 'dead', left: false }
    if (before.status !== entry.status || before.left !== entry.left) {
      this.host.emit('member:status', { id: entry.id, status: entry.status, previous: before.status, incarnation: entry.incarnation, left: entry.left })
    }
  }

  private toUpdate (entry: Entry, from: string, withRecord: boolean): SwimUpdate {
    return {
      member: entry.id,
      incarnation: entry.incarnation,
      status: statusToWire(entry.status),
      from: entry.left ? entry.id : (entry.status === 'alive' ? '' : from),
      recordVersion: withRecord ? entry.recordVersion : 0,
      record: withRecord ? entry.record : EMPTY
    }
  }

  private setReachable (id: string, reachable: boolean): void {
    const index = this.reachableIndex.get(id)
    if (reachable && index == null) {
      this.reachableIndex.set(id, this.reachable.length)
      this.reachable.push(id)
    } else if (!reachable && index != null) {
      const last = this.reachable.pop()!
      if (last !== id) {
        this.reachable[index] = last
        this.reachableIndex.set(last, index)
      }
      this.reachableIndex.delete(id)
    }
  }

  /** Follows a changed roster: new probe order, and nothing kept about members that left it. */
  private syncRoster (): void {
    const roster = this.host.roster()
    if (roster === this.rosterSeen) return
    this.rosterSeen = roster
    this.members = roster.size <= MAX_MEMBERS ? roster : new Set([...roster].slice(0, MAX_MEMBERS))
    this.others = [...this.members].filter(id => id !== this.host.self)
    this.order = []
    this.orderIndex = 0
    for (const [id, entry] of this.entries) {
      if (this.members.has(id)) continue
      entry.suspicion?.cancel()
      this.entries.delete(id)
      this.setReachable(id, false)
      this.host.forget(id)
    }
  }
}

/** Whether an update changes anything held in `entry` (merge's rule, without allocating: most updates are heard many times). */
function newer (update: SwimUpdate, status: MemberStatus, entry: Entry): boolean {
  const left = status === 'dead' && update.from === update.member
  return compareLiveness({ incarnation: update.incarnation, status, left }, entry) > 0 ||
    (update.recordVersion > 0 && compareRecords(update.recordVersion, update.record, entry.recordVersion, entry.record) > 0)
}

function shuffle<T> (items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const swap = items[i]
    items[i] = items[j]
    items[j] = swap
  }
  return items
}
