import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { CTL_PROTOCOL, CtlChannels, CtlRequest } from '../../protocol/index.js'
import type { Host } from '../host/host.js'
import type { CtlResponse, PeerInfo } from '../../protocol/index.js'
import type { AbortOptions, Logger, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** How many other nodes one node keeps track of (DHT membership replaces this list later). */
const MAX_KNOWN_PEERS = 1024
const FANOUT_TIMEOUT_MS = 5_000
/** A control request to another node, when its caller sets no shorter limit. */
const REQUEST_TIMEOUT_MS = 30_000
const BOOTSTRAP_ATTEMPTS = 30
const BOOTSTRAP_RETRY_MS = 1_000

export interface KnownPeer {
  id: string
  addrs: Multiaddr[]
}

/**
 * The other praas nodes this node knows: learnt from bootstrap addresses, from identify (a
 * peer that speaks the control protocol is a node) and from peer exchange with each new node.
 */
export class Peers {
  private readonly known = new Map<string, KnownPeer>()
  private readonly ctl: CtlChannels
  private stopped = false

  constructor (private readonly host: Host, private readonly log: Logger, private readonly isMember: (peerId: string) => boolean) {
    this.ctl = new CtlChannels(async (target, protocol, options) => await host.dialProtocol(target, protocol, options))
    // identify, and identify push: a node that connected before it served the control protocol says so later
    host.addEventListener('peer:identify', (evt) => {
      const { peerId, listenAddrs, protocols } = evt.detail
      this.learn(peerId, listenAddrs, protocols)
    })
  }

  list (): KnownPeer[] {
    return [...this.known.values()].filter(p => this.isMember(p.id))
  }

  private learn (peerId: PeerId, addrs: Multiaddr[], protocols: string[]): void {
    // a node of this cluster: speaking the control protocol is not enough, anyone can
    if (!protocols.includes(CTL_PROTOCOL) || !this.isMember(peerId.toString())) return
    const isNew = !this.known.has(peerId.toString())
    this.add(peerId.toString(), addrs)
    if (isNew) void this.exchange(peerId)
  }

  get (id: string): KnownPeer | undefined {
    return this.isMember(id) ? this.known.get(id) : undefined
  }

  /** Learns members the cluster config lists (a node admitted after this one identified it). */
  addMembers (members: Array<{ id: string, addrs: Multiaddr[] }>): void {
    for (const { id, addrs } of members) if (!this.known.has(id) && this.isMember(id)) this.add(id, addrs)
  }

  private add (id: string, addrs: Multiaddr[]): void {
    if (id === this.host.peerId.toString()) return
    if (!this.known.has(id) && this.known.size >= MAX_KNOWN_PEERS) return
    const full = addrs.map(a => (a.getComponents().some(c => c.name === 'p2p') ? a : a.encapsulate(`/p2p/${id}`)))
    this.known.set(id, { id, addrs: full })
  }

  /** Learns the nodes a new peer knows, and connects to the ones this node did not know. */
  private async exchange (peerId: PeerId): Promise<void> {
    try {
      const response = await this.request(peerId.toString(), { op: CtlRequest.Op.PEERS }, { signal: AbortSignal.timeout(FANOUT_TIMEOUT_MS) })
      for (const info of response.peers) {
        if (this.known.has(info.id) || info.id === this.host.peerId.toString() || !this.isMember(info.id)) continue
        this.add(info.id, info.addrs.map(a => multiaddr(a)))
        void this.host.dial(peerIdFromString(info.id), { signal: AbortSignal.timeout(FANOUT_TIMEOUT_MS) }).catch((err) => {
          this.log('could not dial %s: %s', info.id, err.message)
        })
      }
    } catch (err) {
      this.log('peer exchange with %p failed: %s', peerId, (err as Error).message)
    }
  }

  /** Dials the bootstrap nodes in the background, retrying each a bounded number of times. */
  bootstrap (addrs: string[]): void {
    for (const addr of addrs) {
      void (async () => {
        for (let attempt = 0; attempt < BOOTSTRAP_ATTEMPTS && !this.stopped; attempt++) {
          try {
            await this.host.dial(multiaddr(addr), { signal: AbortSignal.timeout(5_000) })
            return
          } catch (err) {
            this.log('bootstrap dial to %s failed: %s', addr, (err as Error).message)
            await new Promise(resolve => setTimeout(resolve, BOOTSTRAP_RETRY_MS))
          }
        }
      })()
    }
  }

  /**
   * How to dial a node: over the connection open to it if there is one (its addresses may have
   * changed since this node learnt them: a restarted node listens anew), else at its known
   * addresses, else by peer id (the peer store's addresses).
   */
  target (id: string): PeerId | Multiaddr[] {
    const peerId = peerIdFromString(id)
    if (this.host.getConnections(peerId).length > 0) return peerId
    // a node's own last heartbeat names where it listens now
    const addrs = this.addrsOf(id)
    return addrs.length > 0 ? addrs : peerId
  }

  /** Where to tell a caller that a node listens: its last heartbeat's addresses, else what identify said. */
  addrsOf (id: string): Multiaddr[] {
    const announced = this.announced?.(id)
    if (announced != null && announced.length > 0) return announced.map(a => a.decapsulateCode(421).encapsulate(`/p2p/${id}`))
    return this.known.get(id)?.addrs ?? []
  }

  /** Where nodes say they listen (membership heartbeats): fresher than what identify told this node once. */
  announced?: (id: string) => Multiaddr[] | undefined

  /** A control request to another node, on the control stream to it (opened on first use). */
  async request (id: string, request: Partial<CtlRequest>, options: AbortOptions): Promise<CtlResponse> {
    return await this.ctl.request(id, this.target(id), request, { signal: options.signal, timeoutMs: REQUEST_TIMEOUT_MS })
  }

  /**
   * Sends a request to every known node at once; failures and slow nodes are left out. With
   * `errorsCount`, a node that answers with an error counts as answered (its error is its answer).
   */
  async fanOut (request: Partial<CtlRequest>, errorsCount = false): Promise<Array<{ id: string, response: CtlResponse }>> {
    const results = await Promise.allSettled(this.list().map(async peer => {
      try {
        return { id: peer.id, response: await this.request(peer.id, request, { signal: AbortSignal.timeout(FANOUT_TIMEOUT_MS) }) }
      } catch (err) {
        const code = (err as { code?: string }).code
        if (errorsCount && code !== 'UNAVAILABLE' && code !== 'TIMEOUT') return { id: peer.id, response: { processes: [], peers: [], source: new Uint8Array(0), hash: '', leader: '', term: 0, allow: [], memoryMib: 0, cpuMs: 0, apps: [] } }
        throw err
      }
    }))
    for (const r of results) if (r.status === 'rejected') this.log('fan-out of op %d: %s', request.op, (r.reason as Error).message)
    return results.flatMap(r => (r.status === 'fulfilled' ? [r.value] : []))
  }

  toInfo (load: (id: string) => number): PeerInfo[] {
    return this.list().map(p => ({ id: p.id, addrs: p.addrs.map(a => a.toString()), load: load(p.id) }))
  }

  stop (): void {
    this.stopped = true
    this.ctl.closeAll()
  }
}
