import '../protocol/polyfill.js'
import { logger } from '@libp2p/logger'
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { CHANNEL_PROTOCOL, CTL_PROTOCOL, INVOKE_PROTOCOL, STATE_CHUNKS_PROTOCOL, STATE_PROTOCOL, PraasError, serveCtlStream, serveInvokeStream } from '../protocol/index.js'
import { serveChannelRequest } from './services/channel-service.js'
import { Router } from './services/router.js'
import { ControlService } from './services/control.js'
import { createHost } from './host/host.js'
import { loadOrCreateIdentity } from './host/identity.js'
import { Peers } from './services/peers.js'
import { AppRegistry, Runtime } from './runtime/index.js'
import { Lifecycle, Replicator, StateClient, StateService, receiveChunks } from './durability/index.js'
import { ImageStore, ReplicaStore } from './storage/index.js'
import type { Host } from './host/host.js'

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
  const host: Host = await createHost({
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

  const apps: AppRegistry = new AppRegistry(join(dataDir, 'apps'), {
    // app code reaches the node only through the runtime's ctx operations
    host: { op: (call, op, args) => runtime.op(call, op, args), ended: (call) => { runtime.ended(call) } },
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

  await host.handle(INVOKE_PROTOCOL, (stream) => {
    // the options go on as they are: their signal is made only if something reads it
    serveInvokeStream(stream, async (request, options) => await runtime.invoke(request.pid, request.fn, request.payload, options))
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
  await writeNodeJson(dataDir, { peerId: selfId, addrs, pid: process.pid })
  log('node %s ready on %s', selfId, addrs.join(' '))

  return {
    peerId: selfId,
    addrs,
    async stop () {
      // Nothing is lost on a clean stop: every hosted process is swapped (disk and replicas) first.
      lifecycle!.stop()
      await lifecycle!.swapAll()
      await replicaStore.flush()
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

async function writeNodeJson (dataDir: string, info: { peerId: string, addrs: string[], pid: number }): Promise<void> {
  const path = join(dataDir, 'node.json')
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify(info, null, 2) + '\n')
  await rename(tmp, path)
}
