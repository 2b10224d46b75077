import '../protocol/polyfill.js'
import { logger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { CHANNEL_PROTOCOL, CTL_PROTOCOL, CtlRequest, INVOKE_PROTOCOL, REPLICATE_PROTOCOL, RESULT_PROTOCOL, STATE_CHUNKS_PROTOCOL, STATE_PROTOCOL, PraasError, serveCtlStream, serveInvokeStream } from '../protocol/index.js'
import { ByteBudget } from '../protocol/budget.js'
import { authorize, tokenCluster } from '../protocol/token.js'
import { createCluster, readClusterConfig } from './trust/cluster-files.js'
import { ConnectionGrants } from './trust/grants.js'
import { AppOwners, DEFAULT_MAX_APPS_PER_CLIENT, DEFAULT_MAX_PROCESSES_PER_CLIENT, ProcessOwners } from './trust/quotas.js'
import type { InboundLimits } from '../protocol/budget.js'
import type { Right } from '../protocol/token.js'
import type { Connection } from '@libp2p/interface'
import type { InboundCallOptions, InvokeHandler } from '../protocol/index.js'
import { serveChannelRequest } from './services/channel-service.js'
import { Router } from './services/router.js'
import { ResultStreams } from './services/results.js'
import { ControlService } from './services/control.js'
import { AppSync } from './services/app-sync.js'
import { createHost } from './host/host.js'
import { updateClosestPeersOnChange } from './directory/closest-peers.js'
import { loadOrCreateIdentity } from './host/identity.js'
import { trimWhenIdle, unpooledBuffers } from './host/idle-trim.js'
import { Peers } from './services/peers.js'
import { AppRegistry, Runtime } from './runtime/index.js'
import type { Forwarding } from './runtime/index.js'
import { Lifecycle, Replicator, StateClient, StateService, receiveChunks, serveReplicateStream } from './durability/index.js'
import { ImageStore, ReplicaStore } from './storage/index.js'
import type { Host } from './host/host.js'
import { NodeOps, parseHttpAddress } from './http/index.js'
import { isLoopback } from './http/address.js'
import { STATS_PROTOCOL } from './http/stats.js'
import type { Authorize } from './http/index.js'
import { silentLog } from './log.js'
import type { NodeLog } from './log.js'

export interface NodeOptions {
  /** Where the identity key, deployed apps and node.json live. Default `./.praas`. */
  dataDir?: string
  /** Multiaddrs to listen on. Default: TCP and QUIC on port 4001, all interfaces. */
  listen?: string[]
  /** Multiaddrs (with /p2p/) of nodes of the cluster to join or rejoin. */
  bootstrap?: string[]
  /**
   * A token of the `node` role (or one with the `admin` right) to join the cluster of the
   * bootstrap nodes with. Without it, a node whose data dir holds no cluster creates one.
   */
  join?: string
  /** App names one client (token owner) may hold. Default 64. */
  maxAppsPerClient?: number
  /** Processes of one client this node hosts at most. Default 10,000. */
  maxProcessesPerClient?: number
  /** A folder of app modules to load at start. */
  appsDir?: string
  /** The contents of a pnet swarm key file; only peers with the same key can connect. */
  swarmKey?: Uint8Array
  /** The longest a function may run, in ms. Default 60 s. */
  functionTimeoutMs?: number
  /** Processes this node hosts at most. Default 100,000. */
  maxProcesses?: number
  /** The byte limit of one mailbox; a sender to a full one waits. Default 64 MiB. */
  mailboxBytes?: number
  /**
   * Copies of each process's state, this node's included (R). With 2 (the default) every
   * acknowledged write is on another node too, and survives this node's death; 1 keeps state in
   * this node's memory until it is swapped.
   */
  replicas?: number
  /** Swap a process idle for this many ms; 0: never. Default 5 minutes. */
  swapAfterMs?: number
  /**
   * The HTTP endpoint (/metrics, /healthz, the web view): `HOST:PORT`, or `off`. Default
   * 127.0.0.1:4080, or a free port if that is taken. Its URL is in node.json.
   */
  http?: string
  /** Who may read the endpoint's figures, by bearer token. Default: anyone on loopback, no one otherwise. */
  authorizeHttp?: Authorize
  /** The operational log (started, members, leaders, stopping). Default: none. */
  log?: NodeLog
}

export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/4001', '/ip4/0.0.0.0/udp/4001/quic-v1']
export const DEFAULT_FUNCTION_TIMEOUT_MS = 60_000
export const DEFAULT_MAILBOX_BYTES = 64 * 1024 * 1024
export const DEFAULT_REPLICAS = 2
export const DEFAULT_SWAP_AFTER_MS = 5 * 60_000

/** A running node, as `startNode` returns it. */
export interface PraasNode {
  peerId: string
  addrs: string[]
  /** The id of the cluster this node is a member of. */
  cluster: string
  /** The URL of its HTTP endpoint, unless it is off. */
  http?: string
  stop(): Promise<void>
}

const CTL_TIMEOUT_MS = 30_000
/**
 * Bytes of requests (being received, or running) one client connection may make this node hold,
 * and all clients together; members (other nodes) get a larger budget per connection. A peer with
 * no token is refused at a request's first frame and holds nothing.
 */
const CLIENT_CONNECTION_BYTES = 64 * 1024 * 1024
const ALL_CLIENTS_BYTES = 512 * 1024 * 1024
const MEMBER_CONNECTION_BYTES = 512 * 1024 * 1024
/** A control request of a peer without a token is at most this large (a ping, a status). */
const ANONYMOUS_CTL_BYTES = 4096
/** The longest one image's chunk stream may take (1 GiB at 10 MB/s). */
const CHUNK_STREAM_TIMEOUT_MS = 120_000

/** Starts a node: its libp2p host, its runtime, and its protocol handlers; writes node.json. */
export async function startNode (options: NodeOptions = {}): Promise<PraasNode> {
  const log = logger('praas:node')
  const dataDir = resolve(options.dataDir ?? '.praas')
  await mkdir(dataDir, { recursive: true })
  const privateKey = await loadOrCreateIdentity(dataDir)
  const bootstrap = options.bootstrap ?? []
  let config = await readClusterConfig(dataDir)
  const selfIdAtStart = peerIdFromPrivateKey(privateKey).toString()
  const member = config?.members.some(m => m.peerId === selfIdAtStart) === true
  if (!member && options.join == null) {
    if (config != null) throw new PraasError('UNAUTHORIZED', `this node was removed from cluster ${config.cluster}: join it again with --join TOKEN`)
    if (bootstrap.length > 0) throw new PraasError('BAD_REQUEST', 'this data dir belongs to no cluster: join one with --join TOKEN (a node token of the cluster), or start a new cluster without --bootstrap')
    config = await createCluster(dataDir, selfIdAtStart)
    log('created cluster %s', config.cluster)
  }
  if (!member && options.join != null) tokenCluster(options.join)
  const images = new ImageStore(join(dataDir, 'images'))
  const replicaStore = new ReplicaStore(join(dataDir, 'replicas'))
  await images.open()
  await replicaStore.open()
  const opsLog = options.log ?? silentLog
  const httpAddress = parseHttpAddress(options.http)
  // off loopback, the endpoint's data takes a token with the status right (SPEC "Operating a node")
  let grants: ConnectionGrants | undefined
  const tokenAllows = (bearer: string | undefined): boolean => {
    if (bearer == null || grants == null) return false
    try {
      authorize(grants.verify(bearer), 'status')
      return true
    } catch {
      return false
    }
  }
  const authorizeHttp = options.authorizeHttp ?? ((bearer: string | undefined) => (httpAddress != null && isLoopback(httpAddress.host)) || tokenAllows(bearer))
  const ops = httpAddress == null ? undefined : new NodeOps({ address: httpAddress, authorize: authorizeHttp, log: opsLog })
  const host: Host = await createHost({
    metrics: ops?.libp2pMetrics(),
    privateKey,
    listen: options.listen ?? DEFAULT_LISTEN,
    swarmKey: options.swarmKey,
    bootstrap,
    recordsDir: join(dataDir, 'dht-records'),
    cluster: { roster: { dataDir, config, memberProtocols: [STATS_PROTOCOL, REPLICATE_PROTOCOL] }, election: { stateFile: join(dataDir, 'election.json') } }
  })
  const { directory, allocator, election, membership, roster, leases } = host.services
  if (!updateClosestPeersOnChange(host.services.dht)) log('kad-dht is not of the shape node/directory/closest-peers.ts expects: its closest peers are tagged every 5 s')
  const selfId = host.peerId.toString()
  const selfAddrs = (): string[] => host.getMultiaddrs().map(a => a.toString())
  if (!roster.isMember(selfId)) {
    try {
      const joined = await roster.join(options.join!, bootstrap.map(a => multiaddr(a)), host.getMultiaddrs().map(a => a.decapsulateCode(421).bytes))
      log('joined cluster %s (%d members)', joined.cluster, joined.members.length)
    } catch (err) {
      await host.stop()
      throw err
    }
    // Streams of members-only protocols were refused while this node was not a member: start afresh.
    await Promise.all(host.getConnections().map(async c => { await c.close().catch(() => {}) }))
  }
  grants = new ConnectionGrants(roster, logger('praas:trust'))
  await grants.start(host)
  const appOwners = new AppOwners(join(dataDir, 'app-owners.json'))
  await appOwners.load()
  const clientBytes = new ByteBudget(ALL_CLIENTS_BYTES)
  const budgets = new WeakMap<Connection, ByteBudget>()
  const budgetOf = (connection: Connection): ByteBudget => {
    let budget = budgets.get(connection)
    if (budget == null) {
      budget = grants.isMember(connection) ? new ByteBudget(MEMBER_CONNECTION_BYTES) : new ByteBudget(CLIENT_CONNECTION_BYTES, clientBytes)
      budgets.set(connection, budget)
    }
    return budget
  }
  /** The limits of a client-facing stream: every request checked at its first frame, and its bytes counted. */
  const limitsFor = (connection: Connection, right: (fn: string) => Right): InboundLimits => ({
    budget: budgetOf(connection),
    admit: (pid, fn) => {
      try {
        grants.check(connection, right(fn), { pid, app: runtime.get(pid)?.app })
        return undefined
      } catch (err) {
        return err as Error
      }
    }
  })
  const peers = new Peers(host, logger('praas:peers'), (id) => roster.isMember(id))
  let control: ControlService | undefined
  let router: Router | undefined
  const members = (): string[] => membership.members().map(m => m.peerId)
  const state = new StateClient(host, peers)
  /** This node's activation of a pid is older than one elsewhere: it stops serving and advertising it. */
  const stepDown = (pid: string): void => {
    const record = runtime.release(pid, new PraasError('MOVED', `process ${pid} has a newer activation`))
    if (record != null) lifecycle?.keepCopy(record)
    directory.release(pid)
  }
  let lifecycle: Lifecycle | undefined
  const replicator = new Replicator({
    selfId,
    copies: options.replicas ?? DEFAULT_REPLICAS,
    members,
    appHash: (app) => apps.get(app)?.hash ?? '',
    clusterSize: () => roster.members().length,
    state,
    onStale: (pid) => {
      log('a replica holds a newer activation of %s: stepping down', pid)
      stepDown(pid)
    },
    log: logger('praas:replicator')
  })

  const apps: AppRegistry = new AppRegistry(join(dataDir, 'apps'), {
    // app code reaches the node only through the runtime's ctx operations
    host: { op: (call, op, args) => runtime.op(call, op, args), prepareWrite: (call, op, args) => runtime.prepareWrite(call, op, args), ended: (call) => { runtime.ended(call) } },
    log: logger('praas:runtime')
  })
  const runtime: Runtime = new Runtime({
    apps,
    functionTimeoutMs: options.functionTimeoutMs ?? DEFAULT_FUNCTION_TIMEOUT_MS,
    maxProcesses: options.maxProcesses ?? 100_000,
    mailboxBytes: options.mailboxBytes ?? DEFAULT_MAILBOX_BYTES,
    remoteInvoke: async (pid, fn, data, opts) => await router!.invoke(pid, fn, data, opts),
    remoteSend: async (to, key, message, opts) => { await router!.send(to, key, message, opts) },
    committer: replicator
  })
  lifecycle = new Lifecycle({
    selfId,
    selfAddrs,
    runtime,
    apps,
    images,
    replicas: replicaStore,
    replicator,
    state,
    allocator,
    directory,
    peers,
    members,
    ensureApp: async (name, hash, from, opts) => { await control!.ensureApp(name, hash, from, opts) },
    swapAfterMs: options.swapAfterMs ?? DEFAULT_SWAP_AFTER_MS,
    canServe: () => { leases.check() },
    clusterMembers: () => roster.members(),
    log: logger('praas:lifecycle')
  })
  const resultStreams = new ResultStreams()
  const stateService = new StateService({
    runtime,
    images,
    replicas: replicaStore,
    activate: async (image, epoch, holders, opts) => { await lifecycle!.activate(image, epoch, holders, opts) },
    newestCopy: async (pid) => await lifecycle!.newestCopy(pid),
    copyHere: async (pid, fence) => await lifecycle!.copyHere(pid, fence),
    fence: async (pid, epoch) => { await lifecycle!.fence(pid, epoch) },
    stepDown,
    pushResult: (client, pushed) => { resultStreams.push(client, pushed) },
    log: logger('praas:state')
  })
  const appSync = new AppSync({ apps, owners: appOwners, peers, live: members, log: logger('praas:apps') })
  control = new ControlService({
    selfId,
    selfAddrs,
    apps,
    appSync,
    runtime,
    peers,
    directory,
    allocator,
    election,
    membership,
    lifecycle,
    roster,
    grants,
    appOwners,
    processOwners: new ProcessOwners((pid) => runtime.get(pid) != null),
    maxAppsPerClient: options.maxAppsPerClient ?? DEFAULT_MAX_APPS_PER_CLIENT,
    maxProcessesPerClient: options.maxProcessesPerClient ?? DEFAULT_MAX_PROCESSES_PER_CLIENT,
    // right after a leader's failover the nodes renew with the new leader first (the mesh test's
    // create a moment after the election failed UNAVAILABLE before)
    canServe: async () => {
      await leases.whenValid(LEASE_WAIT_MS)
      leases.check()
    },
    log: logger('praas:ctl')
  })
  router = new Router({
    host,
    peers,
    runtime,
    locate: async (pid, suspect) => await control!.locate(pid, false, {}, suspect),
    forget: (pid) => { control!.forget(pid) }
  })
  const learnMembers = (): void => { peers.addMembers(roster.members().map(id => ({ id, addrs: roster.addrsOf(id) }))) }
  learnMembers()
  roster.addEventListener('change', learnMembers)
  membership.setLoad(() => runtime.load)
  // a member that joins, or comes back, may hold apps deployed while one of the two was away
  membership.addEventListener('member:join', (evt) => { void appSync.sync({ from: [evt.detail.peerId] }) })
  peers.announced = (id) => membership.get(id)?.addrs
  // One activation per pid: a newer epoch elsewhere means this one steps down.
  // the records of swapped processes are refreshed from their images on disk, not kept in memory
  directory.swappedRecords = () => lifecycle!.swappedRecords()
  directory.addEventListener('superseded', (evt) => {
    log('process %s is active elsewhere with a newer epoch: dropping it here', evt.detail.pid)
    runtime.delete(evt.detail.pid)
  })

  await apps.loadStored()
  if (options.appsDir != null) await apps.loadDir(resolve(options.appsDir))

  // A node serves only while it holds a lease (node/cluster/lease.ts): checked when a call comes
  // and again before its answer leaves, so that nothing it answers after its lease ran out,
  // reads included, can contradict an activation elsewhere.
  // A call that comes while this node's lease is out (the leader failed over, and the members
  // renew with the new one) waits for it a moment, within the call's own limit, rather than fail
  // UNAVAILABLE at once (the mesh test's call right after a failover failed so in a CI run).
  // At most half the call's limit: the call itself needs the rest.
  const leaseAfterWait = async (options: InboundCallOptions): Promise<number> => {
    await leases.whenValid(Math.min(LEASE_WAIT_MS, options.timeoutMs > 0 ? options.timeoutMs / 2 : LEASE_WAIT_MS), options)
    return leases.check()
  }
  const invoke: InvokeHandler = async (request, options) => {
    const lease = leases.valid() ? leases.check() : await leaseAfterWait(options)
    // a client's call: the replicas that hold its writes push its result to the client (protocol/results.ts)
    const forward: Forwarding | undefined = options.caller == null
      ? undefined
      : { client: options.caller, call: options.call, answerable: () => leases.heldSince(lease) }
    const out = await runtime.invoke(request.pid, request.fn, request.payload, options, forward)
    leases.checkSince(lease)
    if (forward?.to != null) options.pushedFrom = forward.to
    return out
  }
  /** How a client reaches the replicas that push its results: an address of each, with /p2p/. */
  const replicaAddrs = (peers: string[]): string[] | undefined => {
    const addrs = peers.map(id => membership.get(id)?.addrs[0]?.toString())
    return addrs.every(a => a != null) ? addrs as string[] : undefined
  }
  // A lease that ran out may have let the process be activated elsewhere meanwhile: with copies on
  // other nodes, this node's activations step down when the lease comes back, and the next call
  // brings each back from its newest copy (restore); with no copies elsewhere (--replicas 1) none can exist.
  leases.addEventListener('regain', () => {
    if (replicator.copies < 2) return
    const hosted = runtime.list()
    log('lease regained: %d activations step down, to come back from their newest copies', hosted.length)
    for (const record of hosted) stepDown(record.pid)
  })
  const invokeHandler = ops == null ? invoke : ops.countCalls(invoke, pid => runtime.get(pid)?.app)
  await host.handle(INVOKE_PROTOCOL, (stream, connection) => {
    // the options go on as they are: their signal is made only if something reads it
    // members' calls (ctx.invoke of their processes) are answered by the host alone
    const caller = grants.isMember(connection) ? undefined : connection.remotePeer.toString()
    serveInvokeStream(stream, invokeHandler, limitsFor(connection, () => 'invoke'), { caller, replicaAddrs })
  }, { maxInboundStreams: 256, maxOutboundStreams: 256 })
  await host.handle(CHANNEL_PROTOCOL, (stream, connection) => {
    const remote = connection.remotePeer.toString()
    serveInvokeStream(stream, async (request, options) => {
      if (request.fn !== 'send') return await serveChannelRequest(runtime, remote, grants.isMember(connection), request, options)
      const lease = leases.valid() ? leases.check() : await leaseAfterWait(options)
      const out = await serveChannelRequest(runtime, remote, grants.isMember(connection), request, options)
      leases.checkSince(lease)
      return out
    },
    limitsFor(connection, (fn) => (fn === 'recv' ? 'recv' : 'send')), { lazyAcks: true })
  }, { maxInboundStreams: 256, maxOutboundStreams: 256 })
  await host.handle(CTL_PROTOCOL, (stream, connection) => {
    const peer = connection.remotePeer.toString()
    serveCtlStream(stream, async (request, opts) => {
      const member = grants.isMember(connection)
      return await control!.handle(request, { peer, member, grant: member ? undefined : grants.of(connection) }, opts)
    }, {
      timeoutMs: CTL_TIMEOUT_MS,
      limits: {
        budget: budgetOf(connection),
        // a peer without a token may ping and be told what it lacks, not send bulk
        admit: (_pid, _fn, size) => (size > ANONYMOUS_CTL_BYTES && !grants.isMember(connection) && grants.of(connection) == null)
          ? new PraasError('UNAUTHORIZED', 'present a token first: this connection holds none')
          : undefined
      }
    })
  }, { maxInboundStreams: 256, maxOutboundStreams: 256 })

  // members only (node/cluster/services.ts MEMBER_PROTOCOLS): a stream of anyone else is refused before it is read
  await host.handle(STATE_PROTOCOL, (stream, connection) => {
    serveInvokeStream(stream, async (request) => await stateService.handle(request), { budget: budgetOf(connection) })
  }, { maxInboundStreams: 256, maxOutboundStreams: 256 })

  // members only too (roster memberProtocols above)
  await host.handle(REPLICATE_PROTOCOL, (stream, connection) => {
    const from = connection.remotePeer.toString()
    serveReplicateStream(stream, (request) => stateService.replicateLater(request, from))
  }, { maxInboundStreams: 64, maxOutboundStreams: 64 })

  // a client's stream for the results of its calls that this node, as a replica, may push
  await host.handle(RESULT_PROTOCOL, (stream, connection) => {
    let allowed = false
    try {
      allowed = grants.of(connection) != null
    } catch {}
    if (!allowed) {
      stream.abort(new PraasError('UNAUTHORIZED', 'a result stream needs a token presented on its connection'))
      return
    }
    resultStreams.add(connection.remotePeer.toString(), stream)
  }, { maxInboundStreams: 4, maxOutboundStreams: 1 })

  await host.handle(STATE_CHUNKS_PROTOCOL, (stream) => {
    receiveChunks(stream, (chunk) => { stateService.stageChunk(chunk) }, { signal: AbortSignal.timeout(CHUNK_STREAM_TIMEOUT_MS), maxBytes: stateService.stageRoom })
  }, { maxInboundStreams: 64, maxOutboundStreams: 64 })

  peers.bootstrap(options.bootstrap ?? [])

  /**
   * node.json says "ready": a node of a cluster of several writes it once the leader lists it
   * among the live nodes, so that a create placed on it through any node works (the leader
   * places by its membership); at most READY_WAIT_MS, then it says so in the log and goes on.
   */
  async function knownToLeader (): Promise<void> {
    if (!await leases.whenValid(READY_WAIT_MS)) log.error('no lease within %d ms: going on', READY_WAIT_MS)
    if (roster.members().length <= 1) return
    const deadline = Date.now() + READY_WAIT_MS
    while (Date.now() < deadline) {
      const leader = election.leader
      if (leader === selfId) return
      if (leader != null) {
        const seen = await peers.request(leader, { op: CtlRequest.Op.STATUS }, { signal: AbortSignal.timeout(1_000) }).catch(() => undefined)
        if (seen?.peers.some(p => p.id === selfId) === true) return
      }
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    log.error('the leader did not list this node within %d ms: going on', READY_WAIT_MS)
  }
  lifecycle.start()
  const addrs = selfAddrs()
  if (addrs.length === 0) throw new PraasError('UNAVAILABLE', 'the node listens on no address')
  await knownToLeader()
  // every app of the cluster before node.json: a create through this node works at once
  const fetched = await appSync.sync({ signal: AbortSignal.timeout(APP_SYNC_WAIT_MS) })
  if (fetched > 0) log('fetched %d apps from the members', fetched)
  appSync.start()
  // an idle node gives back the young generation a burst of work grew, and small Buffers do not
  // keep 8 KiB slabs alive until a full collection (host/idle-trim.ts)
  const stopTrim = trimWhenIdle()
  unpooledBuffers()
  const http = await ops?.start({ host, selfId, selfAddrs, runtime, lifecycle, state, membership, election })
  await writeNodeJson(dataDir, { peerId: selfId, addrs, pid: process.pid, cluster: roster.clusterId ?? '', http })
  log('node %s ready on %s', selfId, addrs.join(' '))
  opsLog.info({ peerId: selfId, addrs, http, dataDir }, 'node ready')

  return {
    peerId: selfId,
    addrs,
    cluster: roster.clusterId ?? '',
    http,
    async stop () {
      // Nothing is lost on a clean stop: every hosted process is swapped (disk and replicas) first.
      ops?.markStopping()
      stopTrim()
      lifecycle!.stop()
      appSync.stop()
      await lifecycle!.swapAll()
      // nothing is served from here on: the leader may restore those processes at once
      await leases.relinquish()
      await replicaStore.flush()
      await ops?.stop()
      peers.stop()
      router!.stop()
      await host.stop()
      await apps.stop()
      state.close()
      stateService.stop()
      resultStreams.closeAll()
      await replicaStore.close()
    }
  }
}

/** How long a node that starts in a cluster of several waits to be known to the leader before it says it is ready anyway. */
const READY_WAIT_MS = 15_000
/** How long a node without a lease waits for one before it refuses a call, or to create a process. */
const LEASE_WAIT_MS = 4_000
/** How long a starting node waits for the members' apps before it says it is ready anyway (a later sync gets the rest). */
const APP_SYNC_WAIT_MS = 20_000

async function writeNodeJson (dataDir: string, info: { peerId: string, addrs: string[], pid: number, cluster: string, http?: string }): Promise<void> {
  const path = join(dataDir, 'node.json')
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify(info, null, 2) + '\n')
  await rename(tmp, path)
}
