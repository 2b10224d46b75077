import '../protocol/polyfill.js'
import { noise } from '@chainsafe/libp2p-noise'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import {
  AUTH_PROTOCOL, CHANNEL_PROTOCOL, CtlChannels, CtlRequest, INVOKE_PROTOCOL, RESULT_PROTOCOL, praasYamux, InvokeChannels, SingleFlight, PraasError, ProcessStatus, checkKey, checkName, checkPid,
  readPushedResults, toBytes, toPraasError, wasUnsent
} from '../protocol/index.js'
import { presentToken } from '../protocol/auth.js'
import type { CtlResponse, DialTarget, InvokeChannel, ProcessInfo } from '../protocol/index.js'
import type { AbortOptions, Connection, Libp2p, Stream } from '@libp2p/interface'
import type { Ping } from '@libp2p/ping'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface ClientOptions {
  /** Multiaddrs (with /p2p/) of one or more nodes of the cluster. */
  bootstrap: string[]
  /**
   * What this client may do in the cluster (SPEC "Trust"): a token from `praas token create`, or
   * the cluster's `admin.token`. Presented once on each connection to a node. Default: the
   * `PRAAS_TOKEN` environment variable, as for the CLI. Without one, a node answers every request
   * but a ping with UNAUTHORIZED.
   */
  token?: string
  /** The cluster's pnet swarm key file contents, if the cluster is closed by one. */
  swarmKey?: Uint8Array
  /** Limit for control calls (deploy, create, list, …) in ms. Default 30 s. */
  timeoutMs?: number
}

export interface InvokeOptions {
  /** Fail with TIMEOUT after this many ms; the function is stopped too. Default: the node's limit. */
  timeoutMs?: number
  signal?: AbortSignal
}

/** What an app's sandbox grants and limits (SPEC "Apps and functions"); absent: the node's defaults. */
export interface DeployOptions {
  /** Capabilities: `exec:PROGRAM` (ctx.exec), `net:HOST:PORT` (ctx.connect). */
  allow?: string[]
  /** Memory of one isolate of the app, heap and array buffers together (default 128). */
  memoryMiB?: number
  /** CPU time one call may use, in ms (default: only the time limit). */
  cpuMs?: number
}

export interface CreateOptions {
  /** The pid to give the process; any string of 1 to 128 characters. Default: a random one. */
  pid?: string
  /** The peer id of the node to place the process on. Default: the cluster chooses. */
  node?: string
}

export interface ProcessEntry {
  pid: string
  app: string
  status: 'active' | 'swapped'
  /** The peer id of the hosting node. */
  node: string
}

export interface NodeStatus {
  peerId: string
  addrs: string[]
  /** Processes active on the node. */
  load: number
}

export interface ClusterStatus {
  /** The allocator's leader (null while none is elected) and its term. */
  leader: string | null
  term: number
  nodes: NodeStatus[]
}

/** The client's own libp2p peer: it dials, and listens nowhere. */
type ClientPeer = Libp2p<{ identify: unknown, ping: Ping }>

const MAX_CACHED_LOCATIONS = 100_000
/** How long a node that failed a call may take to answer a ping before its connection is dropped. */
const PING_TIMEOUT_MS = 2_000
/** Nodes met that a control request tries after the bootstrap nodes, at most. */
const MAX_FALLBACK_NODES = 8
/** Times a call finds its process again (moved, swapped, or its node gone) before it gives up. */
const MAX_RELOCATIONS = 4
/** Pauses before asking again where a process is, while the cluster cannot tell yet (about 4 s in all: membership forgets a dead node after 3 s). */
const RELOCATE_RETRY_MS = [250, 750, 1500, 1500]
const DEFAULT_CTL_TIMEOUT_MS = 30_000
/** A call without its own limit still ends: the node's limit (60 s default) plus slack. */
const DEFAULT_INVOKE_TIMEOUT_MS = 65_000
/** Result streams (to replicas that push results, protocol/results.ts) a client keeps, at most. */
const MAX_RESULT_STREAMS = 64
const RESULT_STREAM_OPEN_TIMEOUT_MS = 10_000
/** A result stream stays open while the client runs (libp2p's default inactivity timeout is 2 min). */
const RESULT_STREAM_INACTIVITY_TIMEOUT_MS = 24 * 60 * 60 * 1000

interface Location {
  node: string
  addrs: Multiaddr[]
}

/**
 * A praas client: a libp2p peer of its own that talks to each process's node directly, over
 * one multiplexed invoke stream per node. Control calls go to any bootstrap node that answers.
 */
export class Client {
  private readonly locations = new Map<string, Location>()
  private readonly locating = new SingleFlight<Location>()
  private readonly channels: InvokeChannels
  private readonly mailChannels: InvokeChannels
  private readonly ctlChannels: CtlChannels
  private readonly bootstrap: Multiaddr[]
  /** Nodes met hosting processes: control requests fall back to them when no bootstrap node answers. */
  private readonly nodes = new Map<string, Multiaddr[]>()

  private constructor (private readonly peer: ClientPeer, options: ClientOptions) {
    this.bootstrap = options.bootstrap.map(a => multiaddr(a))
    this.ctlTimeoutMs = options.timeoutMs ?? DEFAULT_CTL_TIMEOUT_MS
    const token = options.token ?? process.env.PRAAS_TOKEN
    this.token = token == null || token.trim() === '' ? undefined : token.trim()
    const open = async (target: DialTarget, protocol: string, opts: AbortOptions): Promise<Stream> => await this.open(target, protocol, opts)
    this.channels = new InvokeChannels(open, INVOKE_PROTOCOL, (addrs) => { this.openResultStreams(addrs) })
    this.mailChannels = new InvokeChannels(open, CHANNEL_PROTOCOL)
    this.ctlChannels = new CtlChannels(open)
    peer.addEventListener('connection:close', (evt) => { this.presented.delete(evt.detail.id) })
  }

  private readonly token?: string
  /** The token presentation on each open connection (once per connection). */
  private readonly presented = new Map<string, Promise<void>>()

  /** Opens a stream to a node, over a connection that has presented this client's token. */
  private async open (target: DialTarget, protocol: string, options: AbortOptions): Promise<Stream> {
    const connection = await this.peer.dial(target, options)
    if (this.token != null) await this.present(connection, options)
    return await connection.newStream(protocol, options)
  }

  private async present (connection: Connection, options: AbortOptions): Promise<void> {
    let presentation = this.presented.get(connection.id)
    if (presentation == null) {
      presentation = (async () => {
        await presentToken(await connection.newStream(AUTH_PROTOCOL, options), this.token!, options)
      })()
      this.presented.set(connection.id, presentation)
      presentation.catch(() => { this.presented.delete(connection.id) })
    }
    await presentation
  }

  private readonly ctlTimeoutMs: number

  /** The result streams to replicas (protocol/results.ts), by the replica's peer id, while open or opening. */
  private readonly resultStreams = new Map<string, Promise<void>>()
  /** Calls settled by their replicas' pushes, before their hosts answered (for tests and benchmarks). */
  pushedResults = 0

  /**
   * A host named the replicas of its processes: each pushes the results of this client's calls
   * whose writes it holds, one hop before the host's answer. The client opens a result stream
   * to each (a call is answered by its host either way: a stream that fails costs nothing).
   */
  private openResultStreams (addrs: string[]): void {
    for (const text of addrs) {
      let addr: Multiaddr
      try {
        addr = multiaddr(text)
      } catch {
        continue
      }
      const replica = peerIdOf(addr)
      if (replica == null || this.resultStreams.has(replica) || this.resultStreams.size >= MAX_RESULT_STREAMS) continue
      const opening = (async () => {
        const stream = await this.open([addr], RESULT_PROTOCOL, { signal: AbortSignal.timeout(RESULT_STREAM_OPEN_TIMEOUT_MS) })
        stream.inactivityTimeout = RESULT_STREAM_INACTIVITY_TIMEOUT_MS
        readPushedResults(stream, (pushed) => {
          if (this.channels.current(pushed.host)?.pushed(pushed.call, replica, pushed.copies, pushed.result) === true) this.pushedResults++
        })
        stream.addEventListener('close', () => { if (this.resultStreams.get(replica) === opening) this.resultStreams.delete(replica) })
      })()
      this.resultStreams.set(replica, opening)
      opening.catch(() => { if (this.resultStreams.get(replica) === opening) this.resultStreams.delete(replica) })
    }
  }

  /** Starts the client's peer and checks that at least one bootstrap node answers. */
  static async connect (options: ClientOptions): Promise<Client> {
    if (!Array.isArray(options?.bootstrap) || options.bootstrap.length === 0) {
      throw new PraasError('BAD_REQUEST', 'Client.connect needs at least one bootstrap multiaddr')
    }
    let addrs: Multiaddr[]
    try {
      addrs = options.bootstrap.map(a => multiaddr(a))
    } catch (err) {
      throw new PraasError('BAD_REQUEST', `invalid bootstrap multiaddr: ${(err as Error).message}`)
    }
    const peer = await createLibp2p({
      addresses: { listen: [] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [praasYamux()],
      connectionProtector: options.swarmKey == null ? undefined : preSharedKey({ psk: options.swarmKey }),
      // no DHT: a client asks a node where a pid runs, and is answered only within its token
      services: { identify: identify(), ping: ping() }
    })
    const client = new Client(peer, { ...options, bootstrap: addrs.map(a => a.toString()) })
    try {
      await client.ctl({ op: CtlRequest.Op.PING })
    } catch (err) {
      await peer.stop()
      throw err
    }
    return client
  }

  /**
   * Sends a control request to the first node that answers: the nodes given first (if any),
   * then the bootstrap nodes, then the nodes this client has met hosting processes.
   */
  private async ctl (request: Partial<CtlRequest>, first: Multiaddr[] = [], lastTried?: string): Promise<CtlResponse> {
    let last: PraasError = new PraasError('UNAVAILABLE', 'no bootstrap node answered')
    const met = [...this.nodes.values()].slice(-MAX_FALLBACK_NODES).flat()
    // and last the nodes this client is connected to now (its bootstrap nodes may all be gone)
    const connected = this.peer.getConnections().slice(0, MAX_FALLBACK_NODES).map(c => peerIdOf(c.remoteAddr) != null ? c.remoteAddr : c.remoteAddr.encapsulate(`/p2p/${c.remotePeer.toString()}`))
    const tried = new Set<string>()
    let addrs = [...first, ...this.bootstrap, ...met, ...connected]
    // a node that did not answer a call is asked last: it may be cut off, and would hold the request until its timeout
    if (lastTried != null) {
      const isLast = (a: Multiaddr): boolean => peerIdOf(a) === lastTried
      addrs = [...addrs.filter(a => !isLast(a)), ...addrs.filter(isLast)]
    }
    for (const addr of addrs) {
      const key = addr.toString()
      if (tried.has(key)) continue
      tried.add(key)
      const options = { timeoutMs: this.ctlTimeoutMs }
      let channel
      try {
        channel = await this.ctlChannels.channel(peerIdOf(addr) ?? addr.toString(), [addr], options)
      } catch (err) {
        // a node that refused the token refuses it everywhere in the cluster
        if ((err as PraasError).code === 'UNAUTHORIZED') throw err
        last = new PraasError('UNAVAILABLE', `cannot reach ${addr.toString()}: ${(err as Error).message}`)
        continue
      }
      try {
        return await this.ctlChannels.call(channel, request, options)
      } catch (err) {
        // a request that never left this client (its stream had closed: the node died) goes to the next node
        if (!wasUnsent(err)) throw err
        last = err as PraasError
      }
    }
    throw last
  }

  /** Uploads an app: one ES module whose exported async functions are the app's functions. */
  async deploy (app: string, source: string | Uint8Array, options: DeployOptions = {}): Promise<void> {
    checkName(app, 'an app name')
    const limit = (value: number | undefined, what: string): number => {
      if (value == null) return 0
      if (!Number.isInteger(value) || value <= 0 || value > 0xffffffff) throw new PraasError('BAD_REQUEST', `${what} takes a positive whole number`)
      return value
    }
    const allow = options.allow ?? []
    if (!Array.isArray(allow) || allow.some(a => typeof a !== 'string')) throw new PraasError('BAD_REQUEST', 'allow takes a list of grants (exec:PROGRAM, net:HOST:PORT)')
    await this.ctl({
      op: CtlRequest.Op.DEPLOY, app, source: toBytes(source) as Uint8Array<ArrayBuffer>, allow, memoryMib: limit(options.memoryMiB, 'memoryMiB'), cpuMs: limit(options.cpuMs, 'cpuMs')
    })
  }

  /** Creates a process of an app and returns its pid. */
  async create (app: string, options: CreateOptions = {}): Promise<string> {
    checkName(app, 'an app name')
    if (options.pid != null) checkPid(options.pid)
    const response = await this.ctl({ op: CtlRequest.Op.CREATE, app, pid: options.pid ?? '', node: options.node ?? '' })
    const info = response.processes[0]
    if (info == null) throw new PraasError('UNAVAILABLE', 'the node did not say where it created the process')
    this.remember(info)
    return info.pid
  }

  /**
   * Where to ask first for an operation on a process: the node last seen hosting it, which then
   * runs it without a directory lookup (a node that no longer hosts it finds the host itself).
   */
  private hostAddrs (pid: string): Multiaddr[] {
    return this.locations.get(pid)?.addrs ?? []
  }

  private remember (info: ProcessInfo): Location {
    const location = { node: info.node, addrs: info.addrs.map(a => multiaddr(a)) }
    if (this.locations.size >= MAX_CACHED_LOCATIONS) this.locations.delete(this.locations.keys().next().value!)
    this.locations.set(info.pid, location)
    if (location.addrs.length > 0 && !this.nodes.has(location.node)) {
      if (this.nodes.size >= 64) this.nodes.delete(this.nodes.keys().next().value!)
      this.nodes.set(location.node, location.addrs)
    }
    return location
  }

  /**
   * Finds a process again after its node answered MOVED or could not be reached (`suspect`):
   * the node that answered knows where its process went; any node checks a suspect node and
   * restores the process elsewhere if that node is gone, or if the process was swapped.
   */
  private async relocate (pid: string, suspect: Location, askSuspect = true): Promise<Location> {
    this.locations.delete(pid)
    return await this.locating.run(pid, async () => {
      // a node that answered MOVED knows where its process went; one that did not answer is asked last
      const response = await this.ctl({ op: CtlRequest.Op.LOCATE, pid, suspect: suspect.node }, askSuspect ? suspect.addrs : [], askSuspect ? undefined : suspect.node)
      const info = response.processes[0]
      if (info == null) throw new PraasError('NOT_FOUND', `no process ${pid}`)
      return this.remember(info)
    })
  }

  /**
   * `relocate`, asked again a few times while the cluster cannot tell yet (UNAVAILABLE: a node
   * that died a moment ago is still counted as a member, and may hold the only copy in its
   * members' eyes for a few seconds), then its answer as it is.
   */
  private async relocateSoon (pid: string, suspect: Location, askSuspect = true): Promise<Location> {
    for (let retry = 0; ; retry++) {
      try {
        return await this.relocate(pid, suspect, askSuspect)
      } catch (err) {
        const error = toPraasError(err)
        if (error.code !== 'UNAVAILABLE' || retry >= RELOCATE_RETRY_MS.length) throw error
        await new Promise(resolve => setTimeout(resolve, RELOCATE_RETRY_MS[retry]))
      }
    }
  }

  private async locate (pid: string): Promise<Location> {
    const cached = this.locations.get(pid)
    if (cached != null) return cached
    // One lookup per pid at a time: concurrent first calls share it.
    return await this.locating.run(pid, async () => await this.lookup(pid))
  }

  /**
   * Asks a node where a process runs (a bootstrap node, else a node met before): the node
   * answers from its own table, the directory, or its peers, within what this client's token
   * reaches. A client does not read the DHT itself: only members do (docs/security.md).
   */
  private async lookup (pid: string): Promise<Location> {
    const response = await this.ctl({ op: CtlRequest.Op.LOCATE, pid })
    const info = response.processes[0]
    if (info == null) throw new PraasError('NOT_FOUND', `no process ${pid}`)
    return this.remember(info)
  }

  /**
   * Invokes a function of a process and returns its result bytes. The call goes straight to the
   * node that hosts the process; if the process moved, the client finds it again and retries.
   */
  async invoke (pid: string, fn: string, data?: Uint8Array | string, options: InvokeOptions = {}): Promise<Uint8Array> {
    checkPid(pid)
    checkName(fn, 'a function name')
    const payload = toBytes(data)
    const callOptions = { timeoutMs: options.timeoutMs ?? DEFAULT_INVOKE_TIMEOUT_MS, signal: options.signal }
    return await this.atProcess(pid, this.channels, async (channel) => await channel.call({ pid, fn, payload, timeoutMs: options.timeoutMs ?? 0 }, callOptions), callOptions.timeoutMs)
  }

  /**
   * Runs a call on the stream of a protocol to the node that hosts `pid`. If the process moved
   * (MOVED), was swapped, or its node cannot be reached, the client finds it again (which
   * restores it if needed) and retries, a bounded number of times. A call is sent again only
   * when it provably did not run: the node answered MOVED, or the call never left this client
   * (no stream could be opened, or the stream closed before the request was handed to it). A
   * call that was sent and then lost its stream is not: it may have run (docs/api.md).
   */
  private async atProcess<T> (pid: string, channels: InvokeChannels, call: (channel: InvokeChannel) => Promise<T>, timeoutMs = this.ctlTimeoutMs): Promise<T> {
    // a node that did not answer this pid's last call is not asked first: the cluster is asked where the process is now
    const doubted = this.doubted.get(pid)
    this.doubted.delete(pid)
    let location = this.locations.get(pid) ?? (doubted != null ? await this.relocateSoon(pid, doubted, false) : await this.locate(pid))
    for (let attempt = 1; ; attempt++) {
      let channel: InvokeChannel
      try {
        // reaching the node counts against the call's own limit
        channel = channels.current(location.node) ??
          await channels.get(location.node, location.addrs, { signal: AbortSignal.timeout(Math.min(this.ctlTimeoutMs, timeoutMs)) })
      } catch (err) {
        if (attempt >= MAX_RELOCATIONS) throw toPraasError(err)
        location = await this.relocateSoon(pid, location, false)
        continue
      }
      try {
        return await call(channel)
      } catch (err) {
        const error = toPraasError(err)
        if ((error.code === 'MOVED' || wasUnsent(error)) && attempt < MAX_RELOCATIONS) {
          location = await this.relocateSoon(pid, location, error.code === 'MOVED')
          continue
        }
        if (error.code === 'UNAVAILABLE' || error.code === 'TIMEOUT') this.doubt(pid, location, channels)
        // it exists (a deleted one is NOT_FOUND where it is looked up), but moved on each time it was asked
        throw error.code === 'MOVED' ? new PraasError('UNAVAILABLE', `process ${pid} moved each of the ${attempt} times it was called: not found running`) : error
      }
    }
  }

  /**
   * A call of `pid` at `location` timed out or failed UNAVAILABLE: the node may be cut off, or
   * no longer serve the process (its lease ran out, and the process came back elsewhere). The
   * next call of the pid asks the cluster where it is, doubting that node; and if the node does
   * not answer a ping, its connection goes (one across a cut that healed can stay open and
   * silent while TCP backs off), so that the next dial starts afresh.
   */
  private doubt (pid: string, location: Location, channels: InvokeChannels): void {
    this.locations.delete(pid)
    if (this.doubted.size >= MAX_CACHED_LOCATIONS) this.doubted.delete(this.doubted.keys().next().value!)
    this.doubted.set(pid, location)
    if (this.checking.has(location.node)) return
    this.checking.add(location.node)
    void (async () => {
      try {
        const peer = peerIdFromString(location.node)
        await this.peer.services.ping.ping(peer, { signal: AbortSignal.timeout(PING_TIMEOUT_MS) })
      } catch {
        channels.drop(location.node)
        for (const connection of this.peer.getConnections(peerIdFromString(location.node))) connection.abort(new PraasError('UNAVAILABLE', 'the node did not answer a ping'))
      } finally {
        this.checking.delete(location.node)
      }
    })()
  }

  /** Pids whose last call failed without an answer from their node, and that node. */
  private readonly doubted = new Map<string, Location>()
  /** Nodes being pinged after a failed call. */
  private readonly checking = new Set<string>()

  /** This client's peer id: the sender name processes see, and the address they send to. */
  get peerId (): string {
    return this.peer.peerId.toString()
  }

  /**
   * Puts a message into process `pid`'s mailbox under `key`, sent by this client (its peer id).
   * Resolves once the message is in the mailbox; waits while the mailbox is full.
   */
  async send (pid: string, key: string, data: Uint8Array | string, options: InvokeOptions = {}): Promise<void> {
    checkPid(pid)
    checkKey(key)
    const payload = toBytes(data)
    const callOptions = { timeoutMs: options.timeoutMs ?? DEFAULT_INVOKE_TIMEOUT_MS, signal: options.signal }
    await this.atProcess(pid, this.mailChannels, async (channel) => await channel.call({ pid, fn: 'send', key, from: this.peerId, payload, timeoutMs: 0 }, callOptions), callOptions.timeoutMs)
  }

  /**
   * Takes the oldest message under `key` that process `pid` sent to this client
   * (`ctx.send(clientPeerId, key, data)`), waiting up to `timeoutMs` for one (TIMEOUT after).
   */
  async recv (pid: string, key: string, options: InvokeOptions = {}): Promise<{ from: string, data: Uint8Array }> {
    checkPid(pid)
    checkKey(key)
    const timeoutMs = options.timeoutMs ?? DEFAULT_INVOKE_TIMEOUT_MS - 5_000
    const callOptions = { timeoutMs: timeoutMs + 5_000, signal: options.signal }
    const data = await this.atProcess(pid, this.mailChannels, async (channel) => await channel.call({ pid, fn: 'recv', key, from: this.peerId, payload: new Uint8Array(0), timeoutMs }, callOptions))
    return { from: pid, data }
  }

  /** Lists every process the cluster knows. */
  async list (): Promise<ProcessEntry[]> {
    const response = await this.ctl({ op: CtlRequest.Op.LIST })
    return response.processes.map(p => ({
      pid: p.pid,
      app: p.app,
      status: p.status === ProcessStatus.SWAPPED ? 'swapped' : 'active',
      node: p.node
    }))
  }

  /** The mesh as the bootstrap node sees it: the live nodes with their load, the leader and its term. */
  async status (): Promise<ClusterStatus> {
    const response = await this.ctl({ op: CtlRequest.Op.STATUS })
    return {
      leader: response.leader === '' ? null : response.leader,
      term: response.term,
      nodes: response.peers.map(p => ({ peerId: p.id, addrs: p.addrs, load: p.load }))
    }
  }

  /** Deletes a process and its state. */
  async delete (pid: string): Promise<void> {
    checkPid(pid)
    await this.ctl({ op: CtlRequest.Op.DELETE, pid })
    this.locations.delete(pid)
  }

  /**
   * Swaps a process out: its state and unread messages are persisted (on its node's disk and
   * its replicas) and its compute is freed. The next call or message brings it back.
   */
  async swap (pid: string): Promise<void> {
    checkPid(pid)
    await this.ctl({ op: CtlRequest.Op.SWAP, pid }, this.hostAddrs(pid))
    // The location stays: the node that swapped it answers the next call MOVED, and is asked
    // first where it went, which it knows (it restores the process), without a directory lookup.
  }

  /**
   * Moves a process to the node `peerId` while it keeps serving: calls that arrive meanwhile wait
   * and then run there. Resolves once the process serves from the target.
   */
  async migrate (pid: string, peerId: string): Promise<void> {
    checkPid(pid)
    if (typeof peerId !== 'string' || peerId === '') throw new PraasError('BAD_REQUEST', 'migrate needs the peer id of the target node')
    const response = await this.ctl({ op: CtlRequest.Op.MIGRATE, pid, node: peerId }, this.hostAddrs(pid))
    const info = response.processes[0]
    if (info != null) this.remember(info)
  }

  /**
   * Revokes a token, given whole (anyone holding a token may revoke it) or by its id (needs the
   * admin right). Every node refuses it, and every token minted from it, within seconds; the
   * revocation outlives restarts. Resolves with the revoked id.
   */
  async revoke (tokenOrId: string): Promise<string> {
    if (typeof tokenOrId !== 'string' || tokenOrId.trim() === '') throw new PraasError('BAD_REQUEST', 'revoke needs a token or a token id')
    const response = await this.ctl({ op: CtlRequest.Op.REVOKE, source: new TextEncoder().encode(tokenOrId.trim()) })
    return response.hash
  }

  /** Takes a member out of the cluster for good (a dead machine); needs the admin right. */
  async removeNode (peerId: string): Promise<void> {
    if (typeof peerId !== 'string' || peerId === '') throw new PraasError('BAD_REQUEST', 'removeNode needs the peer id of a member')
    await this.ctl({ op: CtlRequest.Op.REMOVE_NODE, node: peerId })
  }

  /** Closes every stream and stops the client's peer. */
  async close (): Promise<void> {
    this.channels.closeAll()
    this.mailChannels.closeAll()
    this.ctlChannels.closeAll()
    await this.peer.stop()
  }
}

/** The peer id a multiaddr names (its /p2p/ part), if any. */
function peerIdOf (addr: Multiaddr): string | undefined {
  return addr.getComponents().find(c => c.name === 'p2p')?.value
}
