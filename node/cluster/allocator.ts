import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { AllocRequest, AllocResponse } from '../../protocol/pb/cluster.js'
import { InvokeChannels } from '../../protocol/channels.js'
import { Ed25519PrivateKey } from '../../protocol/ed25519.js'
import { isErrorCode, PraasError, toPraasError } from '../../protocol/errors.js'
import { signGrant } from '../../protocol/grant.js'
import { serveInvokeStream } from '../../protocol/invoke.js'
import { ALLOC_PROTOCOL, ALLOC_TIMEOUT_MS, ALLOC_WAIT_FOR_LEADER_MS, LEASE_MARGIN_MS, LEASE_MS, MAX_CLUSTER_MESSAGE_BYTES } from './constants.js'
import type { InvokeRequest } from '../../protocol/invoke.js'
import type { ClusterComponents } from './components.js'
import type { LeaderElection } from './election.js'
import type { Leases } from './lease.js'
import type { Roster } from './roster.js'
import type { Member, Membership } from './membership.js'
import type { ActivationEpoch } from '../../protocol/location.js'
import type { AbortOptions, Logger, Startable } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface AllocatorComponents extends ClusterComponents {
  membership: Membership
  election: LeaderElection
  leases: Leases
  roster: Roster
  /** The node's identity key (Ed25519): it signs the epochs this node grants as leader. */
  privateKey: { type: string, raw: Uint8Array }
}

export interface AllocateRequest {
  pid: string
  app?: string
  /** Place it on this peer id rather than where the leader chooses. */
  node?: string
  /**
   * A restore: the process runs nowhere. Nodes that restore one pid at once (two clients found
   * it swapped) get the same placement and epoch, so that it is activated once.
   */
  restore?: boolean
  /** With `restore`: the copy restored (its epoch and batch), so that a later restore of a newer copy gets a new epoch. */
  basis?: string
  /** Place it on one of these live nodes if there is one (the nodes that hold its newest copy: no transfer). */
  prefer?: string[]
  /**
   * With `restore`: members the restoring node could not ask whether they run the process. The
   * restore is placed only once their leases (and those of members the leader does not hear) ran out.
   */
  unreachable?: string[]
}

/** Where a process is to be activated, and the epoch of that activation. */
export interface Placement {
  node: string
  /** The node's multiaddrs, each ending in /p2p/<node>. */
  addrs: Multiaddr[]
  epoch: ActivationEpoch
}

const ATTEMPTS = 3
/** How long an allocation keeps trying leaders that fail (one dies, an election follows). */
const ALLOC_RETRY_MS = 8_000
/** How long the leader hands out the same placement to every restore of one pid. */
const RESTORE_WINDOW_MS = 10_000
const MAX_RECENT_RESTORES = 10_000
const MAX_PREFERRED = 16
/** How long a restore may wait for the leases of members that might still run the process. */
const RESTORE_LEASE_WAIT_MS = LEASE_MS + LEASE_MARGIN_MS + 2_000

/**
 * The thin allocator. On the leader it places new processes by load and issues activation
 * epochs; on any other node `allocate` forwards to the leader over /praas/alloc/2.0.0. Only
 * creations, restores and migrations come here: invocations never do.
 *
 * Placement is the power of two choices: two live nodes drawn at random, the less loaded
 * wins. It needs no global sort, and spreads a burst of creations well even though the loads
 * lag (each member's comes with its lease renewal, every second; the placements made since
 * count towards its load).
 *
 * An epoch is (term, counter): the counter grows with every epoch this leader issues in its
 * term, and a new leader has a higher term, so epochs only grow, whoever issues them.
 */
export class Allocator implements Startable {
  private readonly log: Logger
  private readonly self: string
  private counter = 0
  private counterTerm = -1
  /** Placements per node since its last figures. */
  private readonly pending = new Map<string, number>()
  /** This node as its last sample described it, so that it is weighed like the others. */
  private lastPublished?: Member
  private started = false
  /** Restores placed lately, by pid. */
  private readonly restores = new Map<string, { placement: Placement, basis: string, until: number }>()

  /** One long-lived stream to the leader, allocations multiplexed on it (the invoke framing): no stream negotiation per create. */
  private readonly channels: InvokeChannels

  constructor (private readonly components: AllocatorComponents) {
    this.log = components.logger.forComponent('praas:allocator')
    this.self = components.peerId.toString()
    this.channels = new InvokeChannels(async (target, protocol, options) => await components.connectionManager.openStream(target, protocol, options), ALLOC_PROTOCOL)
    if (components.privateKey.type !== 'Ed25519') throw new PraasError('BAD_REQUEST', 'a praas node needs an Ed25519 identity')
    this.signer = new Ed25519PrivateKey(new Uint8Array(components.privateKey.raw.subarray(0, 32)))
  }

  /** The identity key as a key object made once (libp2p's imports it anew for every signature). */
  private readonly signer: Ed25519PrivateKey

  readonly [Symbol.toStringTag] = 'praas:allocator'

  isStarted (): boolean {
    return this.started
  }

  async start (): Promise<void> {
    this.started = true
    await this.components.registrar.handle(ALLOC_PROTOCOL, (stream) => {
      serveInvokeStream(stream, async (call) => await this.serveCall(call))
    }, { maxInboundStreams: 256 })
    this.components.membership.addEventListener('figures', this.onFigures)
    this.components.membership.addEventListener('published', this.onPublished)
  }

  async stop (): Promise<void> {
    this.started = false
    this.components.membership.removeEventListener('figures', this.onFigures)
    this.components.membership.removeEventListener('published', this.onPublished)
    this.channels.closeAll()
    await this.components.registrar.unhandle(ALLOC_PROTOCOL).catch(() => {})
  }

  private readonly onFigures = (evt: CustomEvent<Member>): void => {
    this.pending.delete(evt.detail.peerId)
  }

  private readonly onPublished = (evt: CustomEvent<Member>): void => {
    this.lastPublished = evt.detail
    this.pending.delete(this.self)
  }

  private notLeader (): PraasError {
    return new PraasError('UNAVAILABLE', 'this node is not the allocator leader')
  }

  /** Leader only: the next activation epoch. Throws UNAVAILABLE on any other node. */
  nextEpoch (pid?: string): ActivationEpoch {
    const { election } = this.components
    if (!election.isLeader()) throw this.notLeader()
    if (this.counterTerm !== election.term) {
      this.counterTerm = election.term
      this.counter = 0
    }
    this.counter++
    this.log.trace('epoch %d.%d for %s', election.term, this.counter, pid)
    return { term: election.term, counter: this.counter }
  }

  /** Leader only: chooses a node for a new process (power of two choices over the loads members renew their leases with). */
  place (prefer: string[] = []): Member {
    if (!this.components.election.isLeader()) throw this.notLeader()
    // only a member that holds a lease can serve what is placed on it
    const leased = new Set(this.components.leases.renewing())
    const all = [this.lastPublished ?? this.components.membership.self(), ...this.components.membership.members().filter(m => leased.has(m.peerId))]
    const preferred = all.filter(m => prefer.includes(m.peerId))
    const nodes = preferred.length > 0 ? preferred : all
    const load = (m: Member): number => m.load + (this.pending.get(m.peerId) ?? 0)
    let choice = nodes[0]
    if (nodes.length > 1) {
      const i = Math.floor(Math.random() * nodes.length)
      const j = (i + 1 + Math.floor(Math.random() * (nodes.length - 1))) % nodes.length
      const [a, b] = [nodes[i], nodes[j]]
      choice = (load(a) - load(b) || a.eventLoopDelayMs - b.eventLoopDelayMs) <= 0 ? a : b
    }
    this.pending.set(choice.peerId, (this.pending.get(choice.peerId) ?? 0) + 1)
    return choice
  }

  /**
   * Leader only: a restore's placement once no member that might still run the process holds a
   * lease: every member that does not renew with this leader, and every member the restoring node
   * could not ask. A member that keeps renewing while the restoring node cannot reach it (a
   * partial partition) keeps its lease, and the restore fails UNAVAILABLE after a bounded wait.
   */
  async allocateRestore (request: AllocateRequest, options: AbortOptions = {}): Promise<Placement> {
    const { leases, roster } = this.components
    const deadline = Date.now() + RESTORE_LEASE_WAIT_MS
    for (;;) {
      if (!this.components.election.isLeader()) throw this.notLeader()
      const renewing = new Set(leases.renewing())
      const unreachable = [...new Set([...roster.members().filter(m => !renewing.has(m)), ...(request.unreachable ?? []).filter(m => roster.isMember(m))])]
      const waitMs = leases.restoreWaitMs(unreachable)
      if (waitMs <= 0) return this.allocateHere(request)
      if (Date.now() + waitMs > deadline) {
        throw new PraasError('UNAVAILABLE', `process ${request.pid} may still run on a member that holds a lease (${unreachable.join(', ')}): not restoring it elsewhere yet`)
      }
      this.log('restore of %s waits %d ms for the leases of %s', request.pid, Math.round(waitMs), unreachable.join(', '))
      await new Promise(resolve => setTimeout(resolve, Math.min(waitMs + 10, 500)))
      options.signal?.throwIfAborted()
    }
  }

  /** Leader only: a placement (chosen, or the requested node if it is live) and its epoch. */
  allocateHere (request: AllocateRequest): Placement {
    if (!this.components.election.isLeader()) throw this.notLeader()
    // concurrent restores of one copy share a placement; one that names its node (a fallback) does not
    if (request.restore === true && (request.node == null || request.node === '')) {
      const recent = this.restores.get(request.pid)
      const basis = request.basis ?? ''
      // A restore that found an older copy than the epoch handed out just now shares it too (its
      // target asks every node for the newest copy again): two activations at once would each
      // acknowledge writes the other never sees. A copy of that epoch or newer is a later activation's.
      if (recent != null && recent.until > Date.now() && recent.placement.epoch.term === this.components.election.term &&
        (recent.basis === basis || olderBasis(basis, recent.placement.epoch))) return recent.placement
      const placement = this.placement(request)
      if (this.restores.size >= MAX_RECENT_RESTORES) this.restores.delete(this.restores.keys().next().value!)
      this.restores.set(request.pid, { placement, basis, until: Date.now() + RESTORE_WINDOW_MS })
      return placement
    }
    return this.placement(request)
  }

  private placement (request: AllocateRequest): Placement {
    let member: Member | undefined
    if (request.node != null && request.node !== '') {
      member = request.node === this.self ? this.components.membership.self() : this.components.membership.get(request.node)
      if (member == null) throw new PraasError('NOT_FOUND', `no live node ${request.node} in this cluster`)
      if (!this.components.leases.renewing().includes(member.peerId)) throw new PraasError('UNAVAILABLE', `node ${request.node} holds no lease now`)
      this.pending.set(member.peerId, (this.pending.get(member.peerId) ?? 0) + 1)
    } else {
      member = this.place(request.prefer?.slice(0, MAX_PREFERRED))
    }
    const node = member.peerId
    const addrs = member.addrs.map(a => a.decapsulateCode(421).encapsulate(`/p2p/${node}`))
    const epoch = this.nextEpoch(request.pid)
    const grant = signGrant({ pid: request.pid, node: peerIdFromString(node), ...epoch }, this.components.peerId, this.signer)
    // spelled out, not `{ ...epoch, grant }`: every object spread so got a V8 shape (a Map and its
    // descriptors, 168 bytes) of its own, and each process keeps its epoch for life
    return { node, addrs, epoch: { term: epoch.term, counter: epoch.counter, grant } }
  }

  private async serveCall (call: InvokeRequest): Promise<Uint8Array> {
    if (call.payload.byteLength > MAX_CLUSTER_MESSAGE_BYTES) throw new PraasError('TOO_LARGE', `an allocation request of ${call.payload.byteLength} bytes`)
    let request: AllocRequest
    try {
      request = AllocRequest.decode(call.payload)
    } catch (err) {
      throw new PraasError('BAD_REQUEST', `malformed allocation request: ${(err as Error).message}`)
    }
    return AllocResponse.encode(await this.serve(request))
  }

  private async serve (request: AllocRequest): Promise<Partial<AllocResponse>> {
    try {
      const placement = request.restore ? await this.allocateRestore(request) : this.allocateHere(request)
      return {
        node: placement.node,
        addrs: placement.addrs.map(a => a.decapsulateCode(421).bytes),
        term: placement.epoch.term,
        counter: placement.epoch.counter,
        grant: placement.epoch.grant as Uint8Array<ArrayBuffer>
      }
    } catch (err) {
      const error = toPraasError(err)
      return { error: error.code, message: error.message, leader: this.components.election.leader ?? '' }
    }
  }

  /**
   * Anywhere in the cluster: a placement and an activation epoch for `pid`, from the leader
   * (this node, or forwarded to it). Waits for a leader while there is none (an election runs).
   */
  async allocate (request: AllocateRequest, options: AbortOptions = {}): Promise<Placement> {
    const { election } = this.components
    let last: PraasError = new PraasError('UNAVAILABLE', 'no allocator leader')
    // A dead leader is noticed after an election timeout or more: keep asking until one answers, for a while.
    const deadline = Date.now() + ALLOC_RETRY_MS
    for (let attempt = 0; attempt < ATTEMPTS || Date.now() < deadline; attempt++) {
      const wait = AbortSignal.any([AbortSignal.timeout(ALLOC_WAIT_FOR_LEADER_MS), ...(options.signal != null ? [options.signal] : [])])
      let leader: string
      try {
        leader = await election.waitForLeader({ signal: wait })
      } catch {
        options.signal?.throwIfAborted()
        throw new PraasError('UNAVAILABLE', 'no allocator leader was elected in time')
      }
      if (leader === this.self) {
        try {
          return request.restore === true ? await this.allocateRestore(request, options) : this.allocateHere(request)
        } catch (err) {
          last = toPraasError(err)
          if (election.isLeader()) throw last
          continue
        }
      }
      try {
        return await this.forward(leader, request, options)
      } catch (err) {
        last = toPraasError(err)
        if (last.code !== 'UNAVAILABLE') throw last
        this.log('allocation via %s failed: %s', leader, last.message)
        // the leader may have died or stepped down: wait for the election to say who leads now
        await new Promise(resolve => setTimeout(resolve, Math.min(500, 100 * (attempt + 1))))
      }
    }
    throw last
  }

  private async forward (leader: string, request: AllocateRequest, options: AbortOptions): Promise<Placement> {
    // a restore may wait on the leader for leases to run out
    const limitMs = request.restore === true ? ALLOC_TIMEOUT_MS + RESTORE_LEASE_WAIT_MS : ALLOC_TIMEOUT_MS
    const signal = AbortSignal.any([AbortSignal.timeout(limitMs), ...(options.signal != null ? [options.signal] : [])])
    const member = this.components.membership.get(leader)
    const target = member != null && member.addrs.length > 0 ? member.addrs : peerIdFromString(leader)
    const channel = this.channels.current(leader) ?? await this.channels.get(leader, target, { signal })
    const payload = AllocRequest.encode({ pid: request.pid, app: request.app ?? '', node: request.node ?? '', restore: request.restore === true, basis: request.basis ?? '', prefer: request.prefer ?? [], unreachable: request.unreachable ?? [] })
    const response = AllocResponse.decode(await channel.call({ pid: request.pid, fn: 'alloc', payload, timeoutMs: 0 }, { signal, timeoutMs: limitMs }))
    if (!Number.isSafeInteger(response.term) || !Number.isSafeInteger(response.counter)) throw new PraasError('UNAVAILABLE', 'the leader answered an epoch out of range')
    if (response.error !== '') {
      throw new PraasError(isErrorCode(response.error) ? response.error : 'UNAVAILABLE', response.message)
    }
    return {
      node: response.node,
      addrs: response.addrs.map(bytes => multiaddr(bytes).encapsulate(`/p2p/${response.node}`)),
      epoch: { term: response.term, counter: response.counter, grant: response.grant }
    }
  }
}

/** Whether a restore's basis (`term.counter.seq`) is a copy of an activation older than `epoch`. */
function olderBasis (basis: string, epoch: { term: number, counter: number }): boolean {
  const [term, counter] = basis.split('.').map(Number)
  if (!Number.isSafeInteger(term) || !Number.isSafeInteger(counter)) return false
  return term < epoch.term || (term === epoch.term && counter < epoch.counter)
}
