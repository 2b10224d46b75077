import '../protocol/polyfill.js'
import { logger } from '@libp2p/logger'
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { join, resolve } from 'node:path'
import { CHANNEL_PROTOCOL, CTL_PROTOCOL, INVOKE_PROTOCOL, STATE_CHUNKS_PROTOCOL, STATE_PROTOCOL, PraasError, serveCtlStream, serveInvokeStream } from '../protocol/index.js'
import type { InvokeHandler } from '../protocol/index.js'
import { serveChannelRequest } from './services/channel-service.js'
import { Router } from './services/router.js'
import { ControlService } from './services/control.js'
import { createHost } from './host/host.js'
import { loadOrCreateIdentity } from './host/identity.js'
import { Peers } from './services/peers.js'
import { AppRegistry, Runtime, StateVersions } from './runtime/index.js'
import { Lifecycle, Replicator, StateClient, StateService, receiveChunks } from './durability/index.js'
import { ImageStore, ReplicaStore } from './storage/index.js'
import type { Host } from './host/host.js'
import { NodeOps, parseHttpAddress } from './http/index.js'
import type { Authorize } from './http/index.js'
import { silentLog } from './log.js'
import type { NodeLog } from './log.js'

export interface NodeOptions {
  /** Where the identity key, deployed apps and node.json live. Default `./.praas`. */
  dataDir?: string
  /** Multiaddrs to listen on. Default: TCP and QUIC on port 4001, all interfaces. */
  listen?: string[]
  /** Multiaddrs (with /p2p/) of nodes to join. */
  bootstrap?: string[]
  /** A folder of app modules to load at start. */
  appsDir?: string
  /** The contents of a pnet swarm key file; only peers with the same key can connect. */
  swarmKey?: Uint8Array
  /** The longest a function may run, in ms. Default 60 s. */
  functionTimeoutMs?: number
  /** Worker threads per app. Default: the number of cores, at least 2. */
  maxWorkersPerApp?: number
  /** Memory limit of one worker's heap, in MiB. Default 512. */
  workerHeapMb?: number
  /**
   * How long a thread may poll for its next message instead of sleeping, in ms: a worker for the
   * next call of a caller that calls one at a time, or for a quick read's answer; the node for a
   * short call's result (node/runtime/worker.ts, function-worker.ts, doorbell.ts). Only when the
   * same wait last time ended within this window, and with at most all cores but one polling.
   * Takes about a third off a sequential call's round trip on a small VM, where waking a sleeping
   * thread is slow, for CPU time while it polls. Default DEFAULT_WORKER_HOT_SPIN_MS; 0: nothing
   * polls.
   */
  workerHotSpinMs?: number
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
export const DEFAULT_WORKER_HOT_SPIN_MS = 1

/** A running node, as `startNode` returns it. */
export interface PraasNode {
  peerId: string
  addrs: string[]
  /** The URL of its HTTP endpoint, unless it is off. */
  http?: string
  stop(): Promise<void>
}

const CTL_TIMEOUT_MS = 30_000
/** The longest one image's chunk stream may take (1 GiB at 10 MB/s). */
const CHUNK_STREAM_TIMEOUT_MS = 120_000

/** Starts a node: its libp2p host, its runtime, and its protocol handlers; writes node.json. */
export async function startNode (options: NodeOptions = {}): Promise<PraasNode> {
  const log = logger('praas:node')
  const dataDir = resolve(options.dataDir ?? '.praas')
  await mkdir(dataDir, { recursive: true })
  const images = new ImageStore(join(dataDir, 'images'))
  const replicaStore = new ReplicaStore(join(dataDir, 'replicas'))
  await images.open()
  await replicaStore.open()
  const opsLog = options.log ?? silentLog
  const httpAddress = parseHttpAddress(options.http)
  const ops = httpAddress == null ? undefined : new NodeOps({ address: httpAddress, authorize: options.authorizeHttp, log: opsLog })
  const host: Host = await createHost({
    metrics: ops?.libp2pMetrics(),
    privateKey: await loadOrCreateIdentity(dataDir),
    listen: options.listen ?? DEFAULT_LISTEN,
    swarmKey: options.swarmKey,
    bootstrap: options.bootstrap ?? []
  })
  const { directory, allocator, election, membership } = host.services
  const selfId = host.peerId.toString()
  const selfAddrs = (): string[] => host.getMultiaddrs().map(a => a.toString())
  const peers = new Peers(host, logger('praas:peers'))
  let control: ControlService | undefined
  let router: Router | undefined
  const members = (): string[] => membership.members().map(m => m.peerId)
  const state = new StateClient(host, peers)
  /** This node's activation of a pid is older than one elsewhere: it stops serving and advertising it. */
  const stepDown = (pid: string): void => {
    runtime.release(pid, new PraasError('MOVED', `process ${pid} has a newer activation`))
    directory.release(pid)
  }
  let lifecycle: Lifecycle | undefined
  const replicator = new Replicator({
    selfId,
    copies: options.replicas ?? DEFAULT_REPLICAS,
    members,
    appHash: (app) => apps.get(app)?.hash ?? '',
    state,
    onStale: (pid) => {
      log('a replica holds a newer activation of %s: stepping down', pid)
      stepDown(pid)
    },
    log: logger('praas:replicator')
  })

  const stateVersions = new StateVersions()
  const apps: AppRegistry = new AppRegistry(join(dataDir, 'apps'), {
    stateVersions: stateVersions.buffer,
    maxWorkers: options.maxWorkersPerApp ?? Math.max(2, availableParallelism()),
    resourceLimits: { maxOldGenerationSizeMb: options.workerHeapMb ?? 512 },
    hotSpinMs: options.workerHotSpinMs ?? DEFAULT_WORKER_HOT_SPIN_MS,
    log: logger('praas:runtime'),
    onOp: async (pid, request, cancel): Promise<unknown> => await runtime.onContextOp(pid, request, cancel)
  })
  const runtime: Runtime = new Runtime({
    apps,
    functionTimeoutMs: options.functionTimeoutMs ?? DEFAULT_FUNCTION_TIMEOUT_MS,
    maxProcesses: options.maxProcesses ?? 100_000,
    mailboxBytes: options.mailboxBytes ?? DEFAULT_MAILBOX_BYTES,
    remoteInvoke: async (pid, fn, data, opts) => await router!.invoke(pid, fn, data, opts),
    remoteSend: async (to, key, message, opts) => { await router!.send(to, key, message, opts) },
    committer: replicator,
    stateVersions
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
    log: logger('praas:lifecycle')
  })
  const stateService = new StateService({
    runtime,
    images,
    replicas: replicaStore,
    activate: async (image, epoch, holders, opts) => { await lifecycle!.activate(image, epoch, holders, opts) },
    newestCopy: async (pid) => await lifecycle!.newestCopy(pid),
    copyHere: (pid) => lifecycle!.copyHere(pid),
    fence: async (pid, epoch) => { await lifecycle!.fence(pid, epoch) },
    stepDown,
    log: logger('praas:state')
  })
  control = new ControlService({ selfId, selfAddrs, apps, runtime, peers, directory, allocator, election, membership, lifecycle, log: logger('praas:ctl') })
  router = new Router({
    host,
    peers,
    runtime,
    locate: async (pid, suspect) => await control!.locate(pid, false, {}, suspect),
    forget: (pid) => { control!.forget(pid) }
  })
  membership.setLoad(() => runtime.load)
  peers.announced = (id) => membership.get(id)?.addrs
  // One activation per pid: a newer epoch elsewhere means this one steps down.
  directory.addEventListener('superseded', (evt) => {
    log('process %s is active elsewhere with a newer epoch: dropping it here', evt.detail.pid)
    runtime.delete(evt.detail.pid)
  })

  await apps.loadStored()
  if (options.appsDir != null) await apps.loadDir(resolve(options.appsDir))

  const invoke: InvokeHandler = async (request, options) => await runtime.invoke(request.pid, request.fn, request.payload, options)
  const invokeHandler = ops == null ? invoke : ops.countCalls(invoke, pid => runtime.get(pid)?.app)
  await host.handle(INVOKE_PROTOCOL, (stream) => {
    // the options go on as they are: their signal is made only if something reads it
    serveInvokeStream(stream, invokeHandler)
  }, { maxInboundStreams: 256, maxOutboundStreams: 256 })
  await host.handle(CHANNEL_PROTOCOL, (stream, connection) => {
    const remote = connection.remotePeer.toString()
    serveInvokeStream(stream, async (request, options) => await serveChannelRequest(runtime, remote, peers.get(remote) != null, request, options))
  }, { maxInboundStreams: 256, maxOutboundStreams: 256 })
  await host.handle(CTL_PROTOCOL, (stream, connection) => {
    const from = connection.remotePeer.toString()
    serveCtlStream(stream, async (request, opts) => await control!.handle(request, from, opts), { timeoutMs: CTL_TIMEOUT_MS })
  }, { maxInboundStreams: 256, maxOutboundStreams: 256 })

  await host.handle(STATE_PROTOCOL, (stream, connection) => {
    const remote = connection.remotePeer.toString()
    serveInvokeStream(stream, async (request) => {
      // Only nodes of this mesh hold replicas and move processes; a client may not write here.
      if (peers.get(remote) == null && membership.get(remote) == null) throw new PraasError('UNAUTHORIZED', 'the state protocol is for nodes of this mesh')
      return await stateService.handle(request)
    })
  }, { maxInboundStreams: 256, maxOutboundStreams: 256 })

  await host.handle(STATE_CHUNKS_PROTOCOL, (stream, connection) => {
    const remote = connection.remotePeer.toString()
    if (peers.get(remote) == null && membership.get(remote) == null) {
      stream.abort(new PraasError('UNAUTHORIZED', 'the state protocol is for nodes of this mesh'))
      return
    }
    receiveChunks(stream, (chunk) => { stateService.stageChunk(chunk) }, { signal: AbortSignal.timeout(CHUNK_STREAM_TIMEOUT_MS), maxBytes: stateService.stageRoom })
  }, { maxInboundStreams: 64, maxOutboundStreams: 64 })

  peers.bootstrap(options.bootstrap ?? [])
  lifecycle.start()
  const addrs = selfAddrs()
  if (addrs.length === 0) throw new PraasError('UNAVAILABLE', 'the node listens on no address')
  const http = await ops?.start({ host, selfId, selfAddrs, runtime, lifecycle, state, membership, election })
  await writeNodeJson(dataDir, { peerId: selfId, addrs, pid: process.pid, http })
  log('node %s ready on %s', selfId, addrs.join(' '))
  opsLog.info({ peerId: selfId, addrs, http, dataDir }, 'node ready')

  return {
    peerId: selfId,
    addrs,
    http,
    async stop () {
      // Nothing is lost on a clean stop: every hosted process is swapped (disk and replicas) first.
      ops?.markStopping()
      lifecycle!.stop()
      await lifecycle!.swapAll()
      await replicaStore.flush()
      await ops?.stop()
      peers.stop()
      router!.stop()
      await host.stop()
      await apps.stop()
      state.close()
      stateService.stop()
      await replicaStore.close()
    }
  }
}

async function writeNodeJson (dataDir: string, info: { peerId: string, addrs: string[], pid: number, http?: string }): Promise<void> {
  const path = join(dataDir, 'node.json')
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify(info, null, 2) + '\n')
  await rename(tmp, path)
}
