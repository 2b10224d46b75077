import { CtlRequest, PraasError, ProcessStatus, checkName, checkPid } from '../protocol/index.js'
import { sourceHash } from './runtime/index.js'
import type { Peers } from './peers.js'
import type { AppRegistry, ProcessRecord, Runtime } from './runtime/index.js'
import type { CtlResponse, PeerInfo, ProcessInfo } from '../protocol/index.js'
import type { AbortOptions, Logger } from '@libp2p/interface'

export interface ControlInit {
  selfId: string
  selfAddrs(): string[]
  apps: AppRegistry
  runtime: Runtime
  peers: Peers
  log: Logger
}

/**
 * The control protocol: deploy, create, list, locate, delete. A request from a client may fan
 * out to the other nodes (`local: false`); a request between nodes is answered from this
 * node's own table (`local: true`), so nothing is asked twice.
 */
export class ControlService {
  constructor (private readonly init: ControlInit) {}

  private self (): PeerInfo {
    return { id: this.init.selfId, addrs: this.init.selfAddrs(), load: this.init.runtime.load }
  }

  /** This node and every node that answers it, each with its load. */
  private async status (): Promise<Partial<CtlResponse>> {
    const others = await this.init.peers.fanOut({ op: CtlRequest.Op.PING })
    return { peers: [this.self(), ...others.flatMap(({ response }) => response.peers.slice(0, 1))] }
  }

  private info (record: ProcessRecord): ProcessInfo {
    return { pid: record.pid, app: record.app, status: ProcessStatus.ACTIVE, node: this.init.selfId, addrs: this.init.selfAddrs() }
  }

  async handle (request: CtlRequest, from: string, options: AbortOptions): Promise<Partial<CtlResponse>> {
    switch (request.op) {
      case CtlRequest.Op.PING: return { peers: [this.self()] }
      case CtlRequest.Op.STATUS: return await this.status()
      case CtlRequest.Op.PEERS: return { peers: this.init.peers.toInfo(() => 0) }
      case CtlRequest.Op.DEPLOY: return await this.deploy(request)
      case CtlRequest.Op.FETCH_APP: return this.fetchApp(request)
      case CtlRequest.Op.CREATE: return await this.create(request, from, options)
      case CtlRequest.Op.LIST: return await this.list(request)
      case CtlRequest.Op.LOCATE: return { processes: [await this.locate(request.pid, request.local)] }
      case CtlRequest.Op.DELETE: return await this.delete(request, options)
      default: throw new PraasError('BAD_REQUEST', 'unknown control operation')
    }
  }

  /** Checks and stores the module here, then hands it to the other nodes (they check it too). */
  private async deploy (request: CtlRequest): Promise<Partial<CtlResponse>> {
    const version = await this.init.apps.deploy(request.app, request.source)
    if (!request.local) {
      await this.init.peers.fanOut({ op: CtlRequest.Op.DEPLOY, app: request.app, source: request.source, local: true })
    }
    return { hash: version.hash }
  }

  private fetchApp (request: CtlRequest): Partial<CtlResponse> {
    const app = this.init.apps.get(request.app)
    if (app == null || (request.hash !== '' && app.hash !== request.hash)) throw new PraasError('NOT_FOUND', `no app ${request.app} with that version`)
    return { source: app.source as Uint8Array<ArrayBuffer>, hash: app.hash }
  }

  /** Gets an app this node lacks from the node that asked, and accepts it only if its hash matches. */
  private async ensureApp (name: string, hash: string, from: string, options: AbortOptions): Promise<void> {
    const app = this.init.apps.get(name)
    if (app != null && (hash === '' || app.hash === hash)) return
    if (hash === '') throw new PraasError('NOT_FOUND', `no app named ${name}`)
    const response = await this.init.peers.request(from, { op: CtlRequest.Op.FETCH_APP, app: name, hash }, options)
    if (sourceHash(response.source) !== hash) throw new PraasError('UNAUTHORIZED', `app ${name} fetched from ${from} does not match its hash`)
    await this.init.apps.deploy(name, response.source)
  }

  private async create (request: CtlRequest, from: string, options: AbortOptions): Promise<Partial<CtlResponse>> {
    checkName(request.app, 'an app name')
    if (request.pid !== '') checkPid(request.pid)
    if (request.local || request.node === this.init.selfId) {
      await this.ensureApp(request.app, request.hash, from, options)
      return { processes: [this.info(this.init.runtime.create(request.app, request.pid === '' ? undefined : request.pid))] }
    }
    const app = this.init.apps.get(request.app)
    if (app == null) throw new PraasError('NOT_FOUND', `no app named ${request.app}`)
    if (request.pid !== '') {
      const existing = await this.locate(request.pid, false).catch(() => undefined)
      if (existing != null) throw new PraasError('BAD_REQUEST', `process ${request.pid} exists already`)
    }
    const target = request.node !== '' ? request.node : await this.leastLoaded()
    if (target === this.init.selfId) {
      return { processes: [this.info(this.init.runtime.create(request.app, request.pid === '' ? undefined : request.pid))] }
    }
    if (this.init.peers.get(target) == null) throw new PraasError('NOT_FOUND', `no node ${target} in this cluster`)
    return await this.init.peers.request(target, { op: CtlRequest.Op.CREATE, app: request.app, pid: request.pid, hash: app.hash, local: true }, options)
  }

  /** Placement until the allocator exists: the node with the fewest processes, this one on ties. */
  private async leastLoaded (): Promise<string> {
    let best = { id: this.init.selfId, load: this.init.runtime.load }
    for (const { response } of await this.init.peers.fanOut({ op: CtlRequest.Op.PING })) {
      const peer = response.peers[0]
      if (peer != null && peer.load < best.load) best = { id: peer.id, load: peer.load }
    }
    return best.id
  }

  private async list (request: CtlRequest): Promise<Partial<CtlResponse>> {
    const processes = this.init.runtime.list().map(r => this.info(r))
    if (!request.local) {
      for (const { response } of await this.init.peers.fanOut({ op: CtlRequest.Op.LIST, local: true })) {
        processes.push(...response.processes)
      }
    }
    return { processes }
  }

  async locate (pid: string, local: boolean): Promise<ProcessInfo> {
    checkPid(pid)
    const record = this.init.runtime.get(pid)
    if (record != null) return this.info(record)
    if (!local) {
      const asked = this.init.peers.list().length
      const answers = await this.init.peers.fanOut({ op: CtlRequest.Op.LOCATE, pid, local: true }, true)
      for (const { response } of answers) {
        if (response.processes[0] != null) return response.processes[0]
      }
      // Only a node that heard from every node may say that no node has the pid.
      if (answers.length < asked) throw new PraasError('UNAVAILABLE', `process ${pid} not found on the ${answers.length} of ${asked + 1} nodes that answered`)
    }
    throw new PraasError('NOT_FOUND', `no process ${pid}`)
  }

  private async delete (request: CtlRequest, options: AbortOptions): Promise<Partial<CtlResponse>> {
    checkPid(request.pid)
    if (this.init.runtime.delete(request.pid)) return {}
    if (request.local) throw new PraasError('NOT_FOUND', `no process ${request.pid}`)
    const where = await this.locate(request.pid, false)
    return await this.init.peers.request(where.node, { op: CtlRequest.Op.DELETE, pid: request.pid, local: true }, options)
  }
}
