import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { TypedEventEmitter } from 'main-event'
import { InvokeChannels } from '../../protocol/channels.js'
import { isErrorCode, PraasError, toPraasError } from '../../protocol/errors.js'
import { serveInvokeStream } from '../../protocol/invoke.js'
import { ClusterConfig, JoinRequest, RosterAnswer, RosterChange } from '../../protocol/pb/cluster.js'
import { useMiddleware } from '../../protocol/patches/middleware.js'
import { rightBit, verifyToken } from '../../protocol/token.js'
import { writeClusterConfig } from '../trust/cluster-files.js'
import { JOIN_PROTOCOL, MAX_ROSTER_BYTES, MAX_ROSTER_MEMBERS, MAX_REVOCATIONS, ROSTER_PROTOCOL, ROSTER_TIMEOUT_MS } from './constants.js'
import { rpc, serveRpc } from './rpc.js'
import type { ClusterComponents } from './components.js'
import type { InvokeRequest } from '../../protocol/invoke.js'
import type { Revocation, RosterMember } from '../../protocol/pb/cluster.js'
import type { AbortOptions, Connection, Logger, PeerId, Startable, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface RosterInit {
  dataDir: string
  /** The config this node holds (from cluster.json, or a new cluster's); undefined while it has yet to join. */
  config?: ClusterConfig
  /** Protocols only members may speak (both ways): refused before a byte is read. */
  memberProtocols?: string[]
}

/** Who leads now, as the election sees it. */
export interface LeaderView {
  leader?: string
  term: number
  isLeader: boolean
}

export interface RosterEvents {
  /** This node adopted a newer config. */
  change: CustomEvent<ClusterConfig>
  /** The config this node adopted does not list it: it was removed from the cluster. */
  removed: CustomEvent<ClusterConfig>
}

/** (term, version): the order of configs, as (last term, last index) orders Raft logs. */
export function newer (a: Pick<ClusterConfig, 'term' | 'version'>, b: Pick<ClusterConfig, 'term' | 'version'>): boolean {
  return a.term > b.term || (a.term === b.term && a.version > b.version)
}

/**
 * The cluster's explicit member set and its revoked tokens (SPEC "Trust"), held by every node in
 * `cluster.json`. Only the leader changes it, one change at a time: the new config (version + 1,
 * stamped with the leader's term) goes to every member and counts once a majority of the old
 * member set has stored it, as Raft commits a single-server membership change (majorities of two
 * configs one member apart always overlap). A new leader first commits the config it holds
 * under its own term. A voter refuses a candidate whose config is older than its own (election.ts),
 * so a leader always holds the newest committed config. Members that missed a change pull it when
 * a heartbeat shows a newer one. Protocols listed in `memberProtocols` are refused to every
 * non-member before they are read.
 */
export class Roster extends TypedEventEmitter<RosterEvents> implements Startable {
  private readonly log: Logger
  private readonly self: string
  private current?: ClusterConfig
  private memberSet = new Set<string>()
  private revokedSet = new Map<string, number>()
  private leaderView: () => LeaderView = () => ({ term: 0, isLeader: false })
  private readonly channels: InvokeChannels
  /** Changes commit one at a time. */
  private committing: Promise<unknown> = Promise.resolve()
  private pulling = false
  private started = false
  private verifyJoin?: (token: string) => void

  constructor (private readonly components: ClusterComponents, private readonly init: RosterInit) {
    super()
    this.log = components.logger.forComponent('praas:roster')
    this.self = components.peerId.toString()
    this.channels = new InvokeChannels(async (target, protocol, options) => await components.connectionManager.openStream(target, protocol, options), ROSTER_PROTOCOL)
    if (init.config != null) this.set(init.config)
  }

  readonly [Symbol.toStringTag] = 'praas:roster'

  isStarted (): boolean {
    return this.started
  }

  async start (): Promise<void> {
    this.started = true
    const gate = (stream: Stream, connection: Connection, next: (stream: Stream, connection: Connection) => void): void => {
      if (!this.isMember(connection.remotePeer.toString())) {
        throw new PraasError('UNAUTHORIZED', `${stream.protocol ?? 'this protocol'} is for members of the cluster`)
      }
      next(stream, connection)
    }
    useMiddleware(this.components.registrar as any, [ROSTER_PROTOCOL, ...(this.init.memberProtocols ?? [])], gate)
    await this.components.registrar.handle(ROSTER_PROTOCOL, (stream, connection) => {
      serveInvokeStream(stream, async (call) => await this.serve(call, connection.remotePeer.toString()))
    }, { maxInboundStreams: 16 })
    await this.components.registrar.handle(JOIN_PROTOCOL, (stream, connection) => {
      void serveRpc(stream, { request: JoinRequest, response: RosterAnswer }, async (request) => await this.answerJoin(request, connection.remotePeer), { signal: AbortSignal.timeout(ROSTER_TIMEOUT_MS * 2), maxBytes: MAX_ROSTER_BYTES })
    }, { maxInboundStreams: 4 })
  }

  async stop (): Promise<void> {
    this.started = false
    this.channels.closeAll()
    await this.components.registrar.unhandle(ROSTER_PROTOCOL).catch(() => {})
    await this.components.registrar.unhandle(JOIN_PROTOCOL).catch(() => {})
  }

  /** @internal The election says who leads. */
  bindLeader (view: () => LeaderView): void {
    this.leaderView = view
  }

  /** @internal How a join token is checked (the node's token verifier). */
  bindJoinCheck (check: (token: string) => void): void {
    this.verifyJoin = check
  }

  get config (): ClusterConfig | undefined {
    return this.current
  }

  get clusterId (): string | undefined {
    return this.current?.cluster
  }

  isMember (peerId: string): boolean {
    return this.memberSet.has(peerId)
  }

  /** The member peer ids, this node included if it is one. */
  members (): string[] {
    return [...this.memberSet]
  }

  /** Whether a token block id is revoked. */
  isRevoked (id: string): boolean {
    return this.revokedSet.has(id)
  }

  /** Where a member said it listens when it joined. */
  addrsOf (peerId: string): Multiaddr[] {
    const member = this.current?.members.find(m => m.peerId === peerId)
    return (member?.addrs ?? []).flatMap(bytes => {
      try {
        return [multiaddr(bytes).encapsulate(`/p2p/${peerId}`)]
      } catch {
        return []
      }
    })
  }

  private set (config: ClusterConfig): void {
    this.current = config
    this.memberSet = new Set(config.members.map(m => m.peerId))
    this.revokedSet = new Map(config.revoked.map(r => [r.id, r.notAfter]))
  }

  /** Stores and takes a config if it is newer than this node's (and of the same cluster); one at a time. */
  async adopt (config: ClusterConfig): Promise<boolean> {
    const run = this.adopting.then(async () => await this.adoptNow(config))
    this.adopting = run.catch(() => {})
    return await run
  }

  private adopting: Promise<unknown> = Promise.resolve()

  private async adoptNow (config: ClusterConfig): Promise<boolean> {
    checkConfig(config)
    if (this.current != null && (config.cluster !== this.current.cluster || !newer(config, this.current))) return false
    await writeClusterConfig(this.init.dataDir, config)
    const wasMember = this.isMember(this.self)
    this.set(config)
    this.log('cluster config %d.%d: %d members, %d revocations', config.term, config.version, config.members.length, config.revoked.length)
    this.safeDispatchEvent('change', { detail: config })
    if (wasMember && !this.isMember(this.self)) {
      this.log.error('this node was removed from the cluster')
      this.safeDispatchEvent('removed', { detail: config })
    }
    return true
  }

  private async serve (call: InvokeRequest, from: string): Promise<Uint8Array> {
    if (call.payload.byteLength > MAX_ROSTER_BYTES) throw new PraasError('TOO_LARGE', 'roster message too large')
    switch (call.fn) {
      case 'push': {
        const config = decode(ClusterConfig, call.payload)
        await this.adopt(config)
        return new Uint8Array(0)
      }
      case 'pull':
        if (this.current == null) throw new PraasError('UNAVAILABLE', 'this node holds no cluster config')
        return ClusterConfig.encode(this.current)
      case 'change': {
        const change = decode(RosterChange, call.payload)
        return ClusterConfig.encode(await this.commitHere(change))
      }
      default:
        throw new PraasError('BAD_REQUEST', `unknown roster call ${call.fn} from ${from}`)
    }
  }

  /** Asks a member for its config and adopts it if newer (a heartbeat showed a newer one). */
  async pullFrom (peerId: string): Promise<void> {
    if (this.pulling) return
    this.pulling = true
    try {
      const bytes = await this.call(peerId, 'pull', new Uint8Array(0), { signal: AbortSignal.timeout(ROSTER_TIMEOUT_MS) })
      await this.adopt(decode(ClusterConfig, bytes))
    } catch (err) {
      this.log('pulling the cluster config from %s failed: %s', peerId, (err as Error).message)
    } finally {
      this.pulling = false
    }
  }

  private async call (peerId: string, fn: string, payload: Uint8Array, options: AbortOptions): Promise<Uint8Array> {
    const addrs = this.addrsOf(peerId)
    const target = this.components.connectionManager.getConnections(peerIdFromString(peerId)).length > 0 || addrs.length === 0 ? peerIdFromString(peerId) : addrs
    const channel = this.channels.current(peerId) ?? await this.channels.get(peerId, target, options)
    return await channel.call({ pid: '', fn, payload, timeoutMs: 0 }, { ...options, timeoutMs: ROSTER_TIMEOUT_MS })
  }

  /**
   * Makes a change anywhere in the cluster: committed here if this node leads, else sent to the
   * leader. Resolves with the config that holds it, once a majority stored it.
   */
  async propose (change: Partial<RosterChange>, options: AbortOptions = {}): Promise<ClusterConfig> {
    const full: RosterChange = { kind: RosterChange.Kind.ADD, peerId: '', addrs: [], revocations: [], ...change }
    const deadline = Date.now() + ROSTER_TIMEOUT_MS * 2
    for (;;) {
      const view = this.leaderView()
      try {
        if (view.isLeader) return await this.commitHere(full)
        if (view.leader == null) throw new PraasError('UNAVAILABLE', 'the cluster has no leader now (a majority of its members must be reachable)')
        const config = decode(ClusterConfig, await this.call(view.leader, 'change', RosterChange.encode(full), options))
        await this.adopt(config)
        return config
      } catch (err) {
        const error = toPraasError(err)
        if (error.code !== 'UNAVAILABLE' || Date.now() > deadline) throw error
        options.signal?.throwIfAborted()
        await new Promise(resolve => setTimeout(resolve, 250))
      }
    }
  }

  /** On the leader: applies a change to the config and commits it. */
  private async commitHere (change: RosterChange): Promise<ClusterConfig> {
    return await this.commit((config) => applyChange(config, change))
  }

  /** @internal A new leader commits the config it holds under its own term before anything else. */
  async commitTerm (): Promise<void> {
    try {
      await this.commit(config => config, true)
    } catch (err) {
      this.log('committing the config in a new term failed: %s', (err as Error).message)
    }
  }

  private async commit (mutate: (config: ClusterConfig) => ClusterConfig, always = false): Promise<ClusterConfig> {
    const run = this.committing.then(async () => {
      const view = this.leaderView()
      const old = this.current
      if (!view.isLeader || old == null) throw new PraasError('UNAVAILABLE', 'this node is not the leader')
      const draft = structuredClone(old)
      const changed = mutate(draft)
      if (!always && changed === draft) return old
      const next: ClusterConfig = { ...changed, term: view.term, version: old.version + 1 }
      checkConfig(next)
      await this.adopt(next)
      const voters = old.members.map(m => m.peerId)
      const needed = Math.floor(voters.length / 2) + 1
      let acks = voters.includes(this.self) ? 1 : 0
      const targets = new Set([...voters, ...next.members.map(m => m.peerId)])
      targets.delete(this.self)
      const payload = ClusterConfig.encode(next)
      const { promise, resolve } = Promise.withResolvers<boolean>()
      if (acks >= needed) resolve(true)
      let pending = targets.size
      if (pending === 0) resolve(acks >= needed)
      for (const peer of targets) {
        void this.call(peer, 'push', payload, { signal: AbortSignal.timeout(ROSTER_TIMEOUT_MS) }).then(() => {
          if (voters.includes(peer) && ++acks >= needed) resolve(true)
        }, (err: Error) => {
          this.log('pushing config %d.%d to %s failed: %s', next.term, next.version, peer, err.message)
        }).finally(() => {
          if (--pending === 0) resolve(acks >= needed)
        })
      }
      if (!await promise) throw new PraasError('UNAVAILABLE', `the cluster config reached ${acks} of the ${needed} members it needs`)
      if (this.leaderView().term !== view.term) throw new PraasError('UNAVAILABLE', 'leadership changed during the commit')
      return next
    })
    this.committing = run.catch(() => {})
    return await run
  }

  /** Answers a node that asks to join with a token (the `node` role, or a client token with `admin`). */
  private async answerJoin (request: JoinRequest, peer: PeerId): Promise<Partial<RosterAnswer>> {
    try {
      if (this.current == null || !this.isMember(this.self)) throw new PraasError('UNAVAILABLE', 'this node is not a member of a cluster')
      const grant = verifyToken(request.token, this.current.cluster, { isRevoked: (id) => this.isRevoked(id) })
      if (grant.role !== 'node' && (grant.rights & rightBit('admin')) === 0) throw new PraasError('UNAUTHORIZED', 'joining needs a token of the node role (or one with the admin right)')
      this.verifyJoin?.(request.token)
      const id = peer.toString()
      if (peer.type !== 'Ed25519') throw new PraasError('BAD_REQUEST', 'members have Ed25519 peer ids')
      if (this.isMember(id)) return { config: this.current }
      const addrs = request.addrs.slice(0, 16).filter(a => a.byteLength <= 256 && isMultiaddr(a))
      this.log('admitting %s', id)
      return { config: await this.propose({ kind: RosterChange.Kind.ADD, peerId: id, addrs }) }
    } catch (err) {
      const error = toPraasError(err)
      return { error: error.code, message: error.message }
    }
  }

  /**
   * Joins a cluster through any of `bootstrap` (a node not yet a member): presents the token,
   * and adopts the config that lists this node.
   */
  async join (token: string, bootstrap: Multiaddr[], selfAddrs: Uint8Array[], options: AbortOptions = {}): Promise<ClusterConfig> {
    let last: PraasError = new PraasError('UNAVAILABLE', 'no bootstrap address given to join through')
    for (const addr of bootstrap) {
      try {
        const stream = await this.components.connectionManager.openStream(addr, JOIN_PROTOCOL, { signal: options.signal ?? AbortSignal.timeout(ROSTER_TIMEOUT_MS * 3) })
        const answer = await rpc(stream, { token, addrs: selfAddrs as Array<Uint8Array<ArrayBuffer>> }, { request: JoinRequest, response: RosterAnswer }, { signal: options.signal ?? AbortSignal.timeout(ROSTER_TIMEOUT_MS * 3), maxBytes: MAX_ROSTER_BYTES })
        if (answer.error !== '') throw new PraasError(isErrorCode(answer.error) ? answer.error : 'UNAVAILABLE', answer.message)
        if (answer.config == null || !answer.config.members.some(m => m.peerId === this.self)) throw new PraasError('UNAVAILABLE', 'the cluster did not admit this node')
        await this.adopt(answer.config)
        return answer.config
      } catch (err) {
        last = toPraasError(err)
        if (last.code === 'UNAUTHORIZED' || last.code === 'BAD_REQUEST') throw last
        this.log('joining through %s failed: %s', addr.toString(), last.message)
      }
    }
    throw last
  }
}

function isMultiaddr (bytes: Uint8Array): boolean {
  try {
    multiaddr(bytes).toString()
    return true
  } catch {
    return false
  }
}

function decode<T> (codec: { decode(bytes: Uint8Array, opts?: any): T }, bytes: Uint8Array): T {
  try {
    return codec.decode(bytes, { limits: { members: MAX_ROSTER_MEMBERS, revoked: MAX_REVOCATIONS, revocations: 64, members$: { addrs: 16 } } })
  } catch (err) {
    throw new PraasError('BAD_REQUEST', `malformed roster message: ${(err as Error).message}`)
  }
}

function checkConfig (config: ClusterConfig): void {
  if (!Number.isSafeInteger(config.term) || !Number.isSafeInteger(config.version)) throw new PraasError('BAD_REQUEST', 'cluster config version out of range')
  if (config.members.length > MAX_ROSTER_MEMBERS || config.revoked.length > MAX_REVOCATIONS) throw new PraasError('TOO_LARGE', 'cluster config too large')
}

/** A config with one change applied; the same object when the change changes nothing. */
export function applyChange (config: ClusterConfig, change: RosterChange, now = Date.now()): ClusterConfig {
  // revocations of tokens that have expired anyway need not be kept
  const revoked: Revocation[] = config.revoked.filter(r => r.notAfter === 0 || r.notAfter > now)
  switch (change.kind) {
    case RosterChange.Kind.ADD: {
      if (config.members.some(m => m.peerId === change.peerId)) return config
      const member: RosterMember = { peerId: change.peerId, addrs: change.addrs }
      return { ...config, members: [...config.members, member], revoked }
    }
    case RosterChange.Kind.REMOVE: {
      if (!config.members.some(m => m.peerId === change.peerId)) throw new PraasError('NOT_FOUND', `${change.peerId} is not a member`)
      if (config.members.length === 1) throw new PraasError('BAD_REQUEST', 'the last member of a cluster cannot be removed')
      return { ...config, members: config.members.filter(m => m.peerId !== change.peerId), revoked }
    }
    case RosterChange.Kind.REVOKE: {
      const fresh = change.revocations.filter(r => !revoked.some(k => k.id === r.id))
      if (fresh.length === 0 && revoked.length === config.revoked.length) return config
      if (revoked.length + fresh.length > MAX_REVOCATIONS) throw new PraasError('TOO_LARGE', `the cluster keeps at most ${MAX_REVOCATIONS} revocations`)
      return { ...config, revoked: [...revoked, ...fresh] }
    }
    default:
      throw new PraasError('BAD_REQUEST', 'unknown roster change')
  }
}
