import { CtlRequest, PraasError, ProcessStatus, checkName, checkPid, toPraasError } from '../../protocol/index.js'
import { authorize, reaches, rightBit } from '../../protocol/token.js'
import { newPid } from '../runtime/index.js'
import type { Roster } from '../cluster/roster.js'
import type { Grant, Right, Target } from '../../protocol/token.js'
import { RosterChange } from '../../protocol/pb/cluster.js'
import type { ActivationEpoch } from '../../protocol/location.js'
import type { ConnectionGrants } from '../trust/grants.js'
import type { AppOwners, ProcessOwners } from '../trust/quotas.js'
import type { Allocator, LeaderElection, Membership } from '../cluster/index.js'
import type { Directory, SwappedRecord } from '../directory/index.js'
import type { Lifecycle } from '../durability/index.js'
import type { Peers } from './peers.js'
import type { AppSync } from './app-sync.js'
import type { AppRegistry, ProcessRecord, Runtime } from '../runtime/index.js'
import type { CtlResponse, PeerInfo, ProcessInfo } from '../../protocol/index.js'
import type { AbortOptions, Logger } from '@libp2p/interface'

export interface ControlInit {
  selfId: string
  selfAddrs(): string[]
  apps: AppRegistry
  /** Apps from the other members: what this node lacks, or holds in an older version. */
  appSync: AppSync
  runtime: Runtime
  peers: Peers
  directory: Directory
  allocator: Allocator
  election: LeaderElection
  membership: Membership
  lifecycle: Lifecycle
  roster: Roster
  grants: ConnectionGrants
  appOwners: AppOwners
  processOwners: ProcessOwners
  /** App names one client (token owner) may hold, and processes of one client this node hosts. */
  maxAppsPerClient: number
  maxProcessesPerClient: number
  /**
   * Resolves once this node holds a lease, waiting a moment for one (a leader just elected grants
   * leases only once a majority renewed with it); UNAVAILABLE if none comes: it activates nothing
   * it could not serve.
   */
  canServe(): Promise<void>
  log: Logger
}

/** Who sent a control request: a member (a node of the cluster), or a client with what its token grants. */
export interface Caller {
  peer: string
  member: boolean
  grant?: Grant
}

/** The fields of a control request that only nodes may set (they change cluster state directly). */
function hasNodeFields (request: CtlRequest): boolean {
  return request.local || request.restore || request.holder !== '' || request.holders.length > 0 || request.hash !== '' ||
    request.term !== 0 || request.counter !== 0 || request.grant.byteLength > 0 || request.owner !== '' || request.serial !== 0
}

/** The rights that reach a process, any one of which lets a client find where it runs. */
const LOCATE_RIGHTS: Right[] = ['invoke', 'send', 'recv', 'swap', 'migrate', 'delete']

/** How long a node that a caller could not reach may take to say whether it still hosts a pid. */
const SUSPECT_CHECK_TIMEOUT_MS = 2_000
/** Moves a lookup follows from node to node before it asks the directory instead. */
const MAX_MOVE_HOPS = 4

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
    return this.init.lifecycle.info(record)
  }

  async handle (request: CtlRequest, caller: Caller, options: AbortOptions): Promise<Partial<CtlResponse>> {
    if (!caller.member) await this.authorize(request, caller, options)
    const from = caller.peer
    switch (request.op) {
      case CtlRequest.Op.PING: return { peers: [this.self()] }
      case CtlRequest.Op.STATUS: return this.status()
      case CtlRequest.Op.PEERS: return { peers: this.init.peers.toInfo(() => 0) }
      case CtlRequest.Op.DEPLOY: return await this.deploy(request, caller)
      case CtlRequest.Op.FETCH_APP: return this.fetchApp(request)
      case CtlRequest.Op.APPS: return { apps: this.init.appSync.catalog() }
      case CtlRequest.Op.CREATE: return await this.create(request, from, options, caller)
      case CtlRequest.Op.LIST: return await this.list(request, caller)
      case CtlRequest.Op.LOCATE: return { processes: [await this.locate(request.pid, request.local, options, request.suspect)] }
      case CtlRequest.Op.DELETE: return await this.delete(request, options)
      case CtlRequest.Op.SWAP: return await this.atHost(request, options, async (pid) => { await this.init.lifecycle.swap(pid); return {} })
      case CtlRequest.Op.MIGRATE: return await this.migrate(request, options)
      case CtlRequest.Op.REVOKE: return await this.revoke(request, options)
      case CtlRequest.Op.REMOVE_NODE: return await this.removeNode(request, options)
      default: throw new PraasError('BAD_REQUEST', 'unknown control operation')
    }
  }

  /**
   * Checks a client's request against its connection's grant before anything runs: the right the
   * operation needs, in the scope of the app and pid it touches; node-only operations and fields
   * are refused outright. Throws UNAUTHORIZED naming what is missing.
   */
  private async authorize (request: CtlRequest, caller: Caller, options: AbortOptions): Promise<void> {
    const { grant } = caller
    const need = (right: Right, target?: Target): void => { authorize(grant, right, target) }
    if (hasNodeFields(request)) throw new PraasError('UNAUTHORIZED', 'this request sets fields only nodes of the cluster may set')
    switch (request.op) {
      case CtlRequest.Op.PING: return
      case CtlRequest.Op.STATUS: need('status'); return
      case CtlRequest.Op.DEPLOY:
        need('deploy', { app: request.app })
        if (request.allow.length > 0) need('admin')
        return
      case CtlRequest.Op.CREATE: need('create', { app: request.app, pid: request.pid === '' ? undefined : request.pid }); return
      case CtlRequest.Op.LIST: need('list'); return
      case CtlRequest.Op.LOCATE: {
        const right = LOCATE_RIGHTS.find(r => grant != null && (grant.rights & rightBit(r)) !== 0)
        if (right == null) throw new PraasError('UNAUTHORIZED', `finding a process needs one of the rights ${LOCATE_RIGHTS.join(', ')}${grant == null ? ', and this connection presented no token' : ''}`)
        need(right, { pid: request.pid })
        await this.checkApp(grant, request.pid, right, options)
        return
      }
      case CtlRequest.Op.DELETE: need('delete', { pid: request.pid }); await this.checkApp(grant, request.pid, 'delete', options); return
      case CtlRequest.Op.SWAP: need('swap', { pid: request.pid }); await this.checkApp(grant, request.pid, 'swap', options); return
      case CtlRequest.Op.MIGRATE: need('migrate', { pid: request.pid }); await this.checkApp(grant, request.pid, 'migrate', options); return
      case CtlRequest.Op.REVOKE:
        // anyone may revoke a token it holds whole; revoking by id takes the admin right
        if (!new TextDecoder().decode(request.source).trim().startsWith('praas_')) need('admin')
        return
      case CtlRequest.Op.REMOVE_NODE: need('admin'); return
      default: throw new PraasError('UNAUTHORIZED', 'this operation is for nodes of the cluster')
    }
  }

  /** For a token limited to some apps: the app of `pid` must be one of them. */
  private async checkApp (grant: Grant | undefined, pid: string, right: Right, options: AbortOptions): Promise<void> {
    if (grant?.apps == null) return
    checkPid(pid)
    const app = await this.appOf(pid, options)
    if (app === '') throw new PraasError('UNAUTHORIZED', `the ${right} right of this token is limited to some apps, and the app of ${pid} could not be told`)
    authorize(grant, right, { app })
  }

  /** The app of a process: from this node, else from where it runs. */
  private async appOf (pid: string, options: AbortOptions): Promise<string> {
    const here = this.init.runtime.get(pid)?.app ?? (await this.init.lifecycle.swappedHere(pid))?.app
    if (here != null && here !== '') return here
    const info = await this.locate(pid, false, options).catch(() => undefined)
    if (info == null) return ''
    if (info.app !== '') return info.app
    const answer = await this.askHost(info.node, pid)
    return answer === 'unreachable' ? '' : answer?.app ?? ''
  }

  /** Checks and stores the module here, then hands it to the other nodes (they check it too). */
  private async deploy (request: CtlRequest, caller: Caller): Promise<Partial<CtlResponse>> {
    checkName(request.app, 'an app name')
    const owner = caller.member ? request.owner : (caller.grant?.owner ?? '')
    if (!caller.member) this.checkAppQuota(request.app, owner)
    const manifest = { allow: request.allow, memoryMiB: request.memoryMib, cpuMs: request.cpuMs }
    // a client's deploy is the app's newest version; one handed on by a node keeps its place in the order
    const version = await this.init.apps.deploy(request.app, request.source, manifest, request.local && request.serial > 0 ? request.serial : undefined)
    this.init.appOwners.set(request.app, owner)
    if (!request.local) {
      // the members live now get it at once; one that misses it fetches it later (app-sync.ts)
      await this.init.peers.fanOut({
        op: CtlRequest.Op.DEPLOY, app: request.app, source: request.source, local: true, owner, allow: request.allow, memoryMib: request.memoryMib, cpuMs: request.cpuMs, serial: version.serial
      })
    }
    return { hash: version.hash }
  }

  /**
   * An app name belongs to the client that first deployed it (its token's owner): another client
   * may not replace its code. And one client holds at most `maxAppsPerClient` names.
   */
  private checkAppQuota (app: string, owner: string): void {
    if (owner === 'admin') return
    const holder = this.init.appOwners.get(app)
    if (holder != null && holder !== owner && holder !== '') throw new PraasError('UNAUTHORIZED', `app ${app} belongs to another client`)
    if (holder == null && this.init.appOwners.count(owner) >= this.init.maxAppsPerClient) {
      throw new PraasError('TOO_LARGE', `this client holds ${this.init.maxAppsPerClient} apps already (the node's --max-apps-per-client)`)
    }
  }

  /** Revokes a token (given whole, or by id): the leader commits it to the cluster config, which every node then holds. */
  private async revoke (request: CtlRequest, options: AbortOptions): Promise<Partial<CtlResponse>> {
    const text = new TextDecoder().decode(request.source).trim()
    let id = text
    let notAfter = 0
    if (text.startsWith('praas_')) {
      const grant = this.init.grants.verify(text)
      id = grant.ids.at(-1)!
      notAfter = Number.isFinite(grant.notAfter) ? grant.notAfter : 0
    }
    if (!/^[0-9a-f]{32}$/.test(id)) throw new PraasError('BAD_REQUEST', 'a token id is 32 hex digits (praas token create prints it)')
    await this.init.roster.propose({ kind: RosterChange.Kind.REVOKE, revocations: [{ id, notAfter }] }, options)
    return { hash: id }
  }

  /** Takes a member out of the cluster for good (a dead machine). */
  private async removeNode (request: CtlRequest, options: AbortOptions): Promise<Partial<CtlResponse>> {
    if (request.node === '') throw new PraasError('BAD_REQUEST', 'remove names the peer id of a member')
    await this.init.roster.propose({ kind: RosterChange.Kind.REMOVE, peerId: request.node }, options)
    return {}
  }

  private fetchApp (request: CtlRequest): Partial<CtlResponse> {
    const app = this.init.apps.get(request.app)
    if (app == null || (request.hash !== '' && app.hash !== request.hash)) throw new PraasError('NOT_FOUND', `no app ${request.app} with that version`)
    return {
      source: app.source as Uint8Array<ArrayBuffer>, hash: app.hash, allow: app.manifest.allow, memoryMib: app.manifest.memoryMiB, cpuMs: app.manifest.cpuMs, apps: [this.init.appSync.entry(app)]
    }
  }

  /**
   * Gets an app version this node lacks (to host a process of it) from the node that asked, or
   * else from any member that holds it, and accepts it only if its hash matches.
   */
  async ensureApp (name: string, hash: string, from: string, options: AbortOptions): Promise<void> {
    const app = this.init.apps.get(name)
    if (app != null && (hash === '' || app.hash === hash)) return
    if (hash === '') throw new PraasError('NOT_FOUND', `no app named ${name}`)
    await this.init.appSync.install({ name, hash }, [from], options)
  }

  /**
   * CREATE from a client: the allocator (on the leader) picks the node, by load or as asked, and
   * issues the activation epoch; the chosen node activates the process and advertises it in the
   * DHT. CREATE between nodes (`local`) is that activation.
   */
  private async create (request: CtlRequest, from: string, options: AbortOptions, caller: Caller): Promise<Partial<CtlResponse>> {
    checkName(request.app, 'an app name')
    if (request.pid !== '') checkPid(request.pid)
    const owner = caller.member ? request.owner : (caller.grant?.owner ?? '')
    if (request.local) await this.init.canServe()
    if (request.local && request.restore) {
      const epoch = { term: request.term, counter: request.counter, grant: request.grant }
      return { processes: [await this.init.lifecycle.activateFrom(request.holder, request.pid, epoch, request.holders, options)] }
    }
    if (request.local) {
      await this.ensureApp(request.app, request.hash, from, options)
      return { processes: [await this.activate(request.app, request.pid, { term: request.term, counter: request.counter, grant: request.grant }, request.owner)] }
    }
    // an app this node lacks may have been deployed while it was away: ask the members once
    const app = this.init.apps.get(request.app) ?? (await this.init.appSync.syncOnDemand(options), this.init.apps.get(request.app))
    if (app == null) throw new PraasError('NOT_FOUND', `no app named ${request.app}`)
    let pid = request.pid
    if (pid === '') {
      pid = newPid()
    } else if (await this.exists(pid, options)) {
      throw new PraasError('BAD_REQUEST', `process ${pid} exists already`)
    }
    const placement = await this.init.allocator.allocate({ pid, app: request.app, node: request.node === '' ? undefined : request.node }, options)
    if (placement.node === this.init.selfId) {
      return { processes: [await this.activate(request.app, pid, placement.epoch, owner)] }
    }
    try {
      return await this.init.peers.request(placement.node, {
        op: CtlRequest.Op.CREATE, app: request.app, pid, hash: app.hash, local: true, term: placement.epoch.term, counter: placement.epoch.counter, grant: placement.epoch.grant as Uint8Array<ArrayBuffer> | undefined, owner
      }, options)
    } catch (err) {
      // The chosen node died after its last heartbeat (membership forgets it only after 3 s):
      // unless the caller asked for that node, place the process here, with an epoch of its own.
      const code = (err as PraasError).code
      if (request.node !== '' || (code !== 'UNAVAILABLE' && code !== 'TIMEOUT')) throw err
      this.init.log('node %s did not take %s (%s): placing it here', placement.node, pid, (err as Error).message)
      const here = await this.init.allocator.allocate({ pid, app: request.app, node: this.init.selfId }, options)
      return { processes: [await this.activate(request.app, pid, here.epoch, owner)] }
    }
  }

  /**
   * Creates the process here and advertises it; the DHT put follows in the background, once
   * the process had a moment for its first calls (see Directory.publishSoon).
   * Its replicas get their (empty) copy first: a created process outlives its node, like its writes.
   */
  private async activate (app: string, pid: string, epoch: ActivationEpoch, owner: string): Promise<ProcessInfo> {
    await this.init.canServe()
    this.init.processOwners.admit(owner, pid, this.init.maxProcessesPerClient)
    const record = this.init.runtime.create(app, pid === '' ? undefined : pid, epoch)
    await this.init.lifecycle.seed(record)
    this.init.directory.publishSoon(record.pid, { epoch, app })
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

  private async list (request: CtlRequest, caller: Caller): Promise<Partial<CtlResponse>> {
    const processes = this.init.runtime.list().map(r => this.info(r))
    for await (const info of this.init.lifecycle.swapped()) processes.push(info)
    if (request.local) return { processes }
    const { grant } = caller
    if (!caller.member && grant != null && (grant.apps != null || grant.pids != null)) {
      // a client limited to some apps or pids sees only those
      const all = (await this.list(request, { ...caller, member: true })).processes ?? []
      return { processes: all.filter(p => reaches(grant, { app: p.app, pid: p.pid })) }
    }
    for (const { response } of await this.init.peers.fanOut({ op: CtlRequest.Op.LIST, local: true })) {
      processes.push(...response.processes)
    }
    // A process is listed once: where it runs, or else where its swap image is.
    const byPid = new Map<string, ProcessInfo>()
    for (const info of processes) {
      const seen = byPid.get(info.pid)
      if (seen == null || (seen.status === ProcessStatus.SWAPPED && info.status === ProcessStatus.ACTIVE)) byPid.set(info.pid, info)
    }
    return { processes: [...byPid.values()] }
  }

  /**
   * Where a pid runs, bringing it back if it runs nowhere: this node's table (and where its
   * processes moved), its swap images, then the directory in the DHT (cache first), then the
   * nodes this node knows. A record that points at `suspect` (a node the caller could not reach,
   * or that answered MOVED) is checked with that node; a process whose node is gone, or that is
   * swapped, is restored from the newest copy on a node the allocator picks.
   */
  async locate (pid: string, local: boolean, options: AbortOptions = {}, suspect = ''): Promise<ProcessInfo> {
    checkPid(pid)
    const record = this.init.runtime.get(pid)
    if (record != null) return this.info(record)
    const movedTo = this.init.runtime.movedTo(pid)
    // A caller with no trouble takes the hint as it is; one that failed somewhere gets it checked.
    if (movedTo != null && (local || suspect === '')) return { pid, app: '', status: ProcessStatus.ACTIVE, node: movedTo, addrs: this.addrsOf(movedTo) }
    const swappedHere = await this.init.lifecycle.swappedHere(pid)
    if (local) {
      if (swappedHere != null) return swappedHere
      throw new PraasError('NOT_FOUND', `no process ${pid}`)
    }
    if (swappedHere != null) return await this.init.lifecycle.restore(pid, options)
    // Where it moved, or the node that failed the caller, knows best where it went next.
    let silent: string[] = []
    for (const start of [movedTo, suspect]) {
      if (start == null || start === '') continue
      const found = await this.follow(start, pid, suspect)
      if (found === 'swapped') return await this.init.lifecycle.restore(pid, options)
      // the suspect did not answer just now: the restore counts it silent rather than wait for it again
      if (found === 'unreachable') {
        if (start === suspect) silent = [suspect]
        continue
      }
      if (found != null) return found
    }
    // The node that failed the caller does not answer for it: every member is asked which copy it
    // holds (a live one answers that it runs it), and the newest is brought back if none runs it.
    // The directory would ask the DHT peers near the key, the suspect among them, and wait for it.
    if (suspect !== '') return await this.init.lifecycle.restore(pid, options, silent)
    const signal = AbortSignal.any([AbortSignal.timeout(DHT_RESOLVE_TIMEOUT_MS), ...(options.signal != null ? [options.signal] : [])])
    const where = await this.init.directory.resolve(pid, { signal, fresh: suspect !== '' }).catch(() => undefined)
    if (where != null && where.status === 'active') {
      if (where.node !== suspect) return { pid, app: where.app, status: ProcessStatus.ACTIVE, node: where.node, addrs: where.addrs.map(a => a.toString()) }
      return await this.init.lifecycle.restore(pid, options)
    }
    if (where != null && where.status === 'swapped') return await this.init.lifecycle.restore(pid, options)
    const asked = this.init.peers.list().length
    const answers = await this.init.peers.fanOut({ op: CtlRequest.Op.LOCATE, pid, local: true }, true)
    for (const { response } of answers) {
      const info = response.processes[0]
      if (info != null && info.status === ProcessStatus.ACTIVE && info.node !== suspect) return info
    }
    // Running nowhere that answered: a copy anywhere (a swap image, a replica of a dead node's process) brings it back.
    try {
      return await this.init.lifecycle.restore(pid, options)
    } catch (err) {
      if ((err as PraasError).code !== 'NOT_FOUND') throw err
    }
    // Only a node that heard from every node may say that no node has the pid.
    if (answers.length < asked) throw new PraasError('UNAVAILABLE', `process ${pid} not found on the ${answers.length} of ${asked + 1} nodes that answered`)
    throw new PraasError('NOT_FOUND', `no process ${pid}`)
  }

  /**
   * Follows where a process went, from `node` on, a few hops (each node remembers where its
   * processes moved): the node that runs it, 'swapped', or undefined if the trail ends at a node
   * that is gone, knows nothing of it, or is the suspect.
   */
  private async follow (node: string, pid: string, suspect: string): Promise<ProcessInfo | 'swapped' | 'unreachable' | undefined> {
    for (let hop = 0; hop < MAX_MOVE_HOPS; hop++) {
      const answer = await this.askHost(node, pid)
      if (answer === 'unreachable') return hop === 0 ? 'unreachable' : undefined
      if (answer == null) return undefined
      if (answer.status === ProcessStatus.SWAPPED) return 'swapped'
      if (answer.node === node) return node === suspect ? undefined : answer
      node = answer.node
    }
    return undefined
  }

  /** What a node says of a pid from its own table; undefined if it cannot be reached. */
  private async askHost (node: string, pid: string): Promise<ProcessInfo | 'unreachable' | undefined> {
    if (node === this.init.selfId) return undefined
    try {
      const response = await this.init.peers.request(node, { op: CtlRequest.Op.LOCATE, pid, local: true }, { signal: AbortSignal.timeout(SUSPECT_CHECK_TIMEOUT_MS) })
      return response.processes[0]
    } catch (err) {
      const code = toPraasError(err).code
      return code === 'TIMEOUT' || code === 'UNAVAILABLE' ? 'unreachable' : undefined
    }
  }

  private addrsOf (node: string): string[] {
    return this.init.peers.addrsOf(node).map(a => a.toString())
  }

  /** Runs a lifecycle operation on the node that hosts the pid (restoring it first if it runs nowhere). */
  private async atHost (request: CtlRequest, options: AbortOptions, here: (pid: string) => Promise<Partial<CtlResponse>>): Promise<Partial<CtlResponse>> {
    checkPid(request.pid)
    let suspect = ''
    for (let attempt = 0; ; attempt++) {
      if (this.init.runtime.get(request.pid) != null) return await here(request.pid)
      if (request.local) throw new PraasError('MOVED', `process ${request.pid} is not hosted on this node`)
      let where: ProcessInfo
      if (request.op === CtlRequest.Op.SWAP && (await this.init.lifecycle.swappedHere(request.pid)) != null) {
        // swapped here, unless it was brought back elsewhere since (its image here is then older)
        const node = await this.init.lifecycle.runningOn(request.pid)
        if (node == null) return {}
        where = { pid: request.pid, app: '', status: ProcessStatus.ACTIVE, node, addrs: this.addrsOf(node) }
      } else {
        where = await this.locate(request.pid, false, options, suspect)
      }
      if (where.node === this.init.selfId) {
        // it is not here after all (a record of this node's own, not yet withdrawn): doubt this node
        if (attempt >= 3) throw new PraasError('UNAVAILABLE', `process ${request.pid} could not be found running`)
        this.forget(request.pid)
        suspect = this.init.selfId
        continue
      }
      try {
        return await this.init.peers.request(where.node, { ...request, local: true }, options)
      } catch (err) {
        const code = (err as PraasError).code
        if ((code !== 'MOVED' && code !== 'UNAVAILABLE') || attempt >= 3) throw err
        // The directory was behind (the process moved or was swapped) or its node is gone: ask
        // again, doubting that node (a process whose node is gone is restored elsewhere first).
        this.init.log('%s of %s on %s: %s (attempt %d)', CtlRequest.Op[request.op], request.pid, where.node, (err as Error).message, attempt)
        this.forget(request.pid)
        suspect = where.node
      }
    }
  }

  private async migrate (request: CtlRequest, options: AbortOptions): Promise<Partial<CtlResponse>> {
    if (request.node === '') throw new PraasError('BAD_REQUEST', 'migrate names the peer id of the target node')
    if (request.node !== this.init.selfId && this.init.membership.get(request.node) == null) {
      throw new PraasError('NOT_FOUND', `no live node ${request.node} in this cluster`)
    }
    return await this.atHost(request, options, async (pid) => ({ processes: [await this.init.lifecycle.migrate(pid, request.node, options)] }))
  }

  /** A node answered MOVED for this pid, or could not be reached: look it up afresh next time. */
  forget (pid: string): void {
    this.init.directory.invalidate(pid)
  }

  /** Deletes a process everywhere: where it runs, its swap images and its replicas. */
  private async delete (request: CtlRequest, options: AbortOptions): Promise<Partial<CtlResponse>> {
    checkPid(request.pid)
    let found = false
    // a process swapped out here: its record comes from its image, as the directory keeps none in memory
    let swapped: SwappedRecord | undefined
    if (this.init.runtime.delete(request.pid)) found = true
    else swapped = await this.init.lifecycle.swappedRecord(request.pid)
    if (found || swapped != null) {
      await this.init.directory.unpublish(request.pid, { ...options, swapped }).catch((err: Error) => {
        this.init.log.error('could not withdraw the record of %s: %s', request.pid, err.message)
      })
    }
    if (await this.init.lifecycle.forget(request.pid)) found = true
    if (!request.local) {
      // A node that holds nothing of the pid answers NOT_FOUND, which fanOut leaves out.
      if ((await this.init.peers.fanOut({ op: CtlRequest.Op.DELETE, pid: request.pid, local: true })).length > 0) found = true
    }
    if (!found) throw new PraasError('NOT_FOUND', `no process ${request.pid}`)
    return {}
  }
}
