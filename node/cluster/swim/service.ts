import { peerIdFromString } from '@libp2p/peer-id'
import { equals } from 'uint8arrays/equals'
import { multiaddr } from '@multiformats/multiaddr'
import { systemClock, systemRandom } from './clock.js'
import { Libp2pDatagrams } from './libp2p.js'
import { MAX_RECORD_ADDRS, decodeNodeRecord, encodeNodeRecord } from './record.js'
import { Swim } from './swim.js'
import type { SwimInit } from './config.js'
import type { SwimTransportComponents, SwimTransportInit } from './libp2p.js'
import type { SwimNodeRecord } from './record.js'
import type { MemberStatus, RecordChange, Roster, StatusChange } from './types.js'
import type { Connection, Libp2pEvents, Logger, PeerId, Startable, TypedEventTarget } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface SwimServiceComponents extends SwimTransportComponents {
  peerId: PeerId
  addressManager: { getAddresses(): Multiaddr[] }
  peerStore: { merge(id: PeerId, data: { multiaddrs?: Multiaddr[] }): Promise<unknown> }
  connectionManager: SwimTransportComponents['connectionManager'] & { getConnections(peerId?: PeerId): Connection[] }
  events?: TypedEventTarget<Libp2pEvents>
}

export interface SwimServiceInit extends SwimInit {
  /** The cluster's member set (peer id strings); the same Set object while it is unchanged. */
  roster: Roster
  /**
   * Where a member said it listens when it joined (the cluster config): put in the peer store
   * when the member set changes, so that this node can reach any member before its record arrives.
   */
  addrsOf?(peerId: string): Multiaddr[]
  transport?: SwimTransportInit
}

/** How often every member's recorded addresses go into the peer store again (libp2p's forgets them after an hour). */
const PEER_STORE_REFRESH_MS = 10 * 60_000

/** The fields of this node's record that it sets (its addresses are filled in). */
export type NodeRecordFields = Partial<Omit<SwimNodeRecord, 'addrs'>>

/**
 * The SWIM core on a libp2p node, as a libp2p service (`swim(init)`): the core over
 * Libp2pDatagrams, the system clock, and a typed record per node (SwimNodeRecord) that carries
 * the node's addresses, so that every member can dial every other (each record's addresses go
 * into the peer store) and the fields others read (load, term, leader, roster version).
 */
export class SwimService implements Startable {
  readonly swim: Swim
  readonly transport: Libp2pDatagrams
  private readonly log: Logger
  private readonly records = new Map<string, SwimNodeRecord>()
  private refresher?: ReturnType<typeof setInterval>
  private fields: NodeRecordFields = {}
  private started = false

  constructor (private readonly components: SwimServiceComponents, init: SwimServiceInit) {
    this.log = components.logger.forComponent('praas:swim')
    this.transport = new Libp2pDatagrams(components, init.transport)
    const { roster, addrsOf, transport: _, ...config } = init
    let seen: ReadonlySet<string> | undefined
    this.swim = new Swim({
      self: components.peerId.toString(),
      transport: this.transport,
      clock: systemClock,
      random: systemRandom,
      roster: () => {
        const members = roster()
        if (members !== seen && addrsOf != null) {
          seen = members
          this.learn(members, addrsOf)
        }
        return members
      },
      // the peers this node is connected to (the bootstrap node, first of all)
      seeds: () => components.connectionManager.getConnections().map(c => c.remotePeer.toString()),
      logger: components.logger
    }, { initialIncarnation: Date.now(), ...config })
    this.swim.addEventListener('member:record', this.onRecord)
    this.swim.addEventListener('member:status', this.onStatus)
  }

  readonly [Symbol.toStringTag] = 'praas:swim'

  isStarted (): boolean {
    return this.started
  }

  async start (): Promise<void> {
    await this.transport.start()
    this.started = true
  }

  /** Starts probing once the node listens, with a record that has its addresses. */
  afterStart (): void {
    this.refresher = setInterval(this.refresh, PEER_STORE_REFRESH_MS)
    this.refresher.unref()
    this.swim.start()
    this.publish()
    this.components.events?.addEventListener('self:peer:update', this.onSelfUpdate)
    this.components.events?.addEventListener('peer:disconnect', this.onDisconnect)
  }

  /** Says that this node leaves while the transport still runs. */
  async beforeStop (): Promise<void> {
    this.components.events?.removeEventListener('self:peer:update', this.onSelfUpdate)
    this.components.events?.removeEventListener('peer:disconnect', this.onDisconnect)
    if (this.swim.isStarted()) this.swim.leave()
  }

  async stop (): Promise<void> {
    this.started = false
    this.components.events?.removeEventListener('self:peer:update', this.onSelfUpdate)
    this.components.events?.removeEventListener('peer:disconnect', this.onDisconnect)
    this.swim.stop()
    await this.transport.stop()
    this.records.clear()
    clearInterval(this.refresher)
  }

  /** Reachability of a member (see Swim.status). */
  status (peerId: string): MemberStatus {
    return this.swim.status(peerId)
  }

  /** The members this node holds alive, not itself. */
  alive (): string[] {
    const self = this.components.peerId.toString()
    return this.swim.members().filter(m => m.id !== self && m.status === 'alive').map(m => m.id)
  }

  /** The newest record heard of a member. */
  record (peerId: string): SwimNodeRecord | undefined {
    return this.records.get(peerId)
  }

  /** Changes fields of this node's record (keep changes rare: each reaches every node; `urgent`: see Swim.setRecord). */
  setRecord (fields: NodeRecordFields, options: { urgent?: boolean } = {}): void {
    this.fields = { ...this.fields, ...fields }
    this.publish(options)
  }

  private readonly publish = (options: { urgent?: boolean } = {}): void => {
    if (!this.swim.isStarted()) return
    const addrs = this.components.addressManager.getAddresses().slice(0, MAX_RECORD_ADDRS).map(a => a.decapsulateCode(421).bytes)
    this.swim.setRecord(encodeNodeRecord({ ...this.fields, addrs }), { urgent: options.urgent === true })
  }

  private readonly onSelfUpdate = (): void => {
    this.publish()
  }

  /** The last connection to a peer closed (a crashed process's close at once): SWIM probes it now. */
  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    this.swim.probeNow(evt.detail.toString())
  }

  /**
   * A member declared dead: its connections go. If it is alive after all (a cut that healed), a
   * connection across the cut can stay open and silent for minutes (TCP backing off) and carry
   * SWIM's reconnect pings into nothing; closed, the next ping dials afresh.
   */
  private readonly onStatus = (evt: CustomEvent<StatusChange>): void => {
    const { id, status, left } = evt.detail
    if (status !== 'dead' || left || id === this.components.peerId.toString()) return
    let peer: PeerId
    try {
      peer = peerIdFromString(id)
    } catch {
      return
    }
    for (const connection of this.components.connectionManager.getConnections(peer)) {
      this.log('member %s declared dead: closing its connection %s', id, connection.id)
      connection.abort(new Error('SWIM declared the member dead'))
    }
  }

  /** Members whose join addresses went into the peer store (at most the roster's size). */
  private readonly learnt = new Set<string>()

  private learn (members: ReadonlySet<string>, addrsOf: (peerId: string) => Multiaddr[]): void {
    const self = this.components.peerId.toString()
    for (const id of members) {
      if (id === self || this.learnt.has(id) || this.records.has(id)) continue
      this.learnt.add(id)
      const addrs = addrsOf(id)
      if (addrs.length === 0) continue
      try {
        void this.components.peerStore.merge(peerIdFromString(id), { multiaddrs: addrs.map(a => a.decapsulateCode(421)) }).catch(() => {})
      } catch {}
    }
    for (const id of this.learnt) if (!members.has(id)) this.learnt.delete(id)
  }

  private readonly onRecord = (evt: CustomEvent<RecordChange>): void => {
    const { id, record } = evt.detail
    let decoded: SwimNodeRecord
    let peerId: PeerId
    let addrs: Multiaddr[]
    try {
      decoded = decodeNodeRecord(record)
      peerId = peerIdFromString(id)
      addrs = decoded.addrs.map(bytes => multiaddr(bytes))
    } catch (err) {
      this.log('record of %s ignored: %s', id, (err as Error).message)
      return
    }
    const before = this.records.get(id)
    this.records.set(id, decoded)
    // a record changes for its figures far more often than for its addresses: the peer store
    // (a locked read, an encode and a datastore write) is touched only when they change (and by
    // the refresh, as libp2p's peer store forgets addresses not refreshed within an hour)
    if (addrs.length > 0 && (before == null || !sameAddrs(before.addrs, decoded.addrs))) this.store(peerId, addrs)
  }

  private store (peerId: PeerId, addrs: Multiaddr[]): void {
    void this.components.peerStore.merge(peerId, { multiaddrs: addrs }).catch((err: Error) => { this.log('addresses of %s not stored: %s', peerId, err.message) })
  }

  /** Puts every member's recorded addresses into the peer store again. */
  private readonly refresh = (): void => {
    for (const [id, record] of this.records) {
      try {
        const addrs = record.addrs.map(bytes => multiaddr(bytes))
        if (addrs.length > 0) this.store(peerIdFromString(id), addrs)
      } catch {}
    }
  }
}

/** The libp2p service factory: `services: { swim: swim({ roster }) }`. */
export function swim (init: SwimServiceInit): (components: SwimServiceComponents) => SwimService {
  return (components) => new SwimService(components, init)
}

function sameAddrs (a: Uint8Array[], b: Uint8Array[]): boolean {
  return a.length === b.length && a.every((bytes, i) => equals(bytes, b[i]))
}
