import { CtlRequest, PraasError, ProcessStatus, checkName, checkPid } from '../protocol/index.js'
import { newPid, sourceHash } from './runtime/index.js'
import type { Allocator, LeaderElection, Membership } from './cluster/index.js'
import type { Directory } from './directory/index.js'
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
  directory: Directory
  allocator: Allocator
  election: LeaderElection
  membership: Membership
  log: Logger
}

/** How long a lookup in the DHT may take before the node falls back to asking its peers. */
const DHT_RESOLVE_TIMEOUT_MS = 5_000

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

  /** The mesh as this node's membership sees it (heartbeats), each node with its load, and the leader. */
  private status (): Partial<CtlResponse> {
    const { membership, election } = this.init
    const members = membership.members().map(m => ({ id: m.peerId, addrs: m.addrs.map(a => a.toString()), load: m.load }))
    return { peers: [this.self(), ...members], leader: election.leader ?? '', term: election.term }
  }

  private info (record: ProcessRecord): ProcessInfo {
    return { pid: record.pid, app: record.app, status: ProcessStatus.ACTIVE, node: this.init.selfId, addrs: this.init.selfAddrs() }
  }

  async handle (request: CtlRequest, from: string, options: AbortOptions): Promise<Partial<CtlResponse>> {
    switch (request.op) {
      case CtlRequest.Op.PING: return { peers: [this.self()] }
      case CtlRequest.Op.STATUS: return this.status()
      case CtlRequest.Op.PEERS: return { peers: this.init.peers.toInfo(() => 0) }
      case CtlRequest.Op.DEPLOY: return await this.deploy(request)
      case CtlRequest.Op.FETCH_APP: return this.fetchApp(request)
      case CtlRequest.Op.CREATE: return await this.create(request, from, options)
      case CtlRequest.Op.LIST: return await this.list(request)
      case CtlRequest.Op.LOCATE: return { processes: [await this.locate(request.pid, request.local, options)] }
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

  /**
   * CREATE from a client: the allocator (on the leader) picks the node, by load or as asked, and
   * issues the activation epoch; the chosen node activates the process and advertises it in the
   * DHT. CREATE between nodes (`local`) is that activation.
   */
  private async create (request: CtlRequest, from: string, options: AbortOptions): Promise<Partial<CtlResponse>> {
    checkName(request.app, 'an app name')
    if (request.pid !== '') checkPid(request.pid)
    if (request.local) {
      await this.ensureApp(request.app, request.hash, from, options)
      return { processes: [this.activate(request.app, request.pid, { term: request.term, counter: request.counter })] }
    }
    const app = this.init.apps.get(request.app)
    if (app == null) throw new PraasError('NOT_FOUND', `no app named ${request.app}`)
    let pid = request.pid
    if (pid === '') {
      pid = newPid()
    } else if (await this.exists(pid, options)) {
      throw new PraasError('BAD_REQUEST', `process ${pid} exists already`)
    }
    const placement = await this.init.allocator.allocate({ pid, app: request.app, node: request.node === '' ? undefined : request.node }, options)
    if (placement.node === this.init.selfId) {
      return { processes: [this.activate(request.app, pid, placement.epoch)] }
    }
    try {
      return await this.init.peers.request(placement.node, {
        op: CtlRequest.Op.CREATE, app: request.app, pid, hash: app.hash, local: true, term: placement.epoch.term, counter: placement.epoch.counter
      }, options)
    } catch (err) {
      // The chosen node died after its last heartbeat (membership forgets it only after 3 s):
      // unless the caller asked for that node, place the process here, with an epoch of its own.
      const code = (err as PraasError).code
      if (request.node !== '' || (code !== 'UNAVAILABLE' && code !== 'TIMEOUT')) throw err
      this.init.log('node %s did not take %s (%s): placing it here', placement.node, pid, (err as Error).message)
      const here = await this.init.allocator.allocate({ pid, app: request.app, node: this.init.selfId }, options)
      return { processes: [this.activate(request.app, pid, here.epoch)] }
    }
  }

  /** Creates the process here and advertises it; the DHT put runs in the background (~100 ms). */
  private activate (app: string, pid: string, epoch: { term: number, counter: number }): ProcessInfo {
    const record = this.init.runtime.create(app, pid === '' ? undefined : pid, epoch)
    this.init.directory.publish(record.pid, { epoch, app }).catch((err: Error) => {
      this.init.log.error('could not advertise %s: %s', record.pid, err.message)
    })
    return this.info(record)
  }

  private async exists (pid: string, options: AbortOptions): Promise<boolean> {
    if (this.init.runtime.get(pid) != null) return true
    try {
      await this.locate(pid, false, options)
      return true
    } catch (err) {
      if ((err as PraasError).code === 'NOT_FOUND') return false
      throw err
    }
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

  /**
   * Where a pid lives: this node's table, then the directory in the DHT (cache first), then, as a
   * fallback for a record not yet in the DHT, the nodes this node knows.
   */
  async locate (pid: string, local: boolean, options: AbortOptions = {}): Promise<ProcessInfo> {
    checkPid(pid)
    const record = this.init.runtime.get(pid)
    if (record != null) return this.info(record)
    if (local) throw new PraasError('NOT_FOUND', `no process ${pid}`)
    const signal = AbortSignal.any([AbortSignal.timeout(DHT_RESOLVE_TIMEOUT_MS), ...(options.signal != null ? [options.signal] : [])])
    const where = await this.init.directory.resolve(pid, { signal }).catch(() => undefined)
    if (where != null && where.status === 'active') {
      return { pid, app: where.app, status: ProcessStatus.ACTIVE, node: where.node, addrs: where.addrs.map(a => a.toString()) }
    }
    const asked = this.init.peers.list().length
    const answers = await this.init.peers.fanOut({ op: CtlRequest.Op.LOCATE, pid, local: true }, true)
    for (const { response } of answers) {
      if (response.processes[0] != null) return response.processes[0]
    }
    // Only a node that heard from every node may say that no node has the pid.
    if (answers.length < asked) throw new PraasError('UNAVAILABLE', `process ${pid} not found on the ${answers.length} of ${asked + 1} nodes that answered`)
    throw new PraasError('NOT_FOUND', `no process ${pid}`)
  }

  /** A node answered MOVED for this pid, or could not be reached: look it up afresh next time. */
  forget (pid: string): void {
    this.init.directory.invalidate(pid)
  }

  private async delete (request: CtlRequest, options: AbortOptions): Promise<Partial<CtlResponse>> {
    checkPid(request.pid)
    if (this.init.runtime.delete(request.pid)) {
      await this.init.directory.unpublish(request.pid, options).catch((err: Error) => {
        this.init.log.error('could not withdraw the record of %s: %s', request.pid, err.message)
      })
      return {}
    }
    if (request.local) throw new PraasError('NOT_FOUND', `no process ${request.pid}`)
    const where = await this.locate(request.pid, false)
    return await this.init.peers.request(where.node, { op: CtlRequest.Op.DELETE, pid: request.pid, local: true }, options)
  }
}
