import { CtlRequest, PraasError, ProcessStatus, SingleFlight, StateRequest, decodeWriteBatch, toPraasError } from '../../protocol/index.js'
import { compareEpoch, compareVersion, imageFromChunks, imagePieces } from '../storage/index.js'
import { inParallel } from './state-client.js'
import { RESULT_GAP } from './replicator.js'
import { activeNow, hasUncut } from '../runtime/index.js'
import type { Replicator } from './replicator.js'
import type { StateClient } from './state-client.js'
import type { Allocator } from '../cluster/index.js'
import type { Directory, SwappedRecord } from '../directory/index.js'
import type { Peers } from '../services/peers.js'
import type { AppRegistry, ProcessRecord, Runtime } from '../runtime/index.js'
import type { ImageStore, ProcessImage, ProcessVersion, ReplicaStore } from '../storage/index.js'
import type { ProcessInfo } from '../../protocol/index.js'
import type { AbortOptions, Logger } from '@libp2p/interface'

type Epoch = { term: number, counter: number }

/** The copy of a process a node holds (`Lifecycle.copyHere`, a `probe` answer). */
export interface CopyHere {
  version: ProcessVersion
  /** It is the live process, running there. */
  active: boolean
  /** It is in memory there (the live process or a replica): activating it reads nothing from disk. */
  inMemory: boolean
}
/** How long a swap or a migration waits for the running invocations of a process to end. */
const DRAIN_TIMEOUT_MS = 30_000
/**
 * How long a node asked about a copy of a process may take to answer. One that does not answer
 * counts as silent: the leader waits for its lease, and the restore needs enough others.
 */
const PROBE_TIMEOUT_MS = 1_500
/** The same for the target's second probe, once the epoch is granted (the silent ones were waited for already). */
const REPROBE_TIMEOUT_MS = 750
/** Processes swapped at once when the node stops or the idle policy runs. */
const SWAPS_IN_PARALLEL = 8

export interface LifecycleInit {
  selfId: string
  selfAddrs(): string[]
  runtime: Runtime
  apps: AppRegistry
  images: ImageStore
  replicas: ReplicaStore
  replicator: Replicator
  state: StateClient
  allocator: Allocator
  directory: Directory
  peers: Peers
  /** The live nodes of the mesh, this one excluded. */
  members(): string[]
  /** Gets an app (by name and hash) this node lacks from another node. */
  ensureApp(name: string, hash: string, from: string, options: AbortOptions): Promise<void>
  /** Swap processes idle for this long (ms); 0: never. */
  swapAfterMs: number
  /** Throws UNAVAILABLE unless this node holds a lease (node/cluster/lease.ts): it activates nothing it could not serve. */
  canServe?(): void
  /**
   * Every member of the cluster (this node included), live or not: a restore counts the members it
   * could not ask (not live here) as unreachable, so that the leader waits for their leases.
   */
  clusterMembers?(): string[]
  log: Logger
}

function older (a: Epoch, b: Epoch): boolean {
  return a.term < b.term || (a.term === b.term && a.counter < b.counter)
}

/**
 * Where processes go when they stop running here: swap (an image on local disk and on the
 * replicas, the compute freed), restore (the newest copy anywhere, activated where the allocator
 * says, with a new epoch), live migration (freeze, drain, ship the image, activate there,
 * forward the held calls), and the fencing that keeps one activation per pid.
 */
export class Lifecycle {
  private readonly restoring = new SingleFlight<ProcessInfo>()
  private idleTimer?: ReturnType<typeof setInterval>

  constructor (private readonly init: LifecycleInit) {}

  start (): void {
    const every = this.init.swapAfterMs > 0 ? Math.max(250, Math.min(this.init.swapAfterMs / 2, 30_000)) : 0
    if (every > 0) {
      this.idleTimer = setInterval(() => { void this.swapIdle() }, every)
      this.idleTimer.unref()
    }
  }

  stop (): void {
    clearInterval(this.idleTimer)
  }

  info (record: ProcessRecord): ProcessInfo {
    return { pid: record.pid, app: record.app, status: ProcessStatus.ACTIVE, node: this.init.selfId, addrs: this.init.selfAddrs() }
  }

  /** The processes swapped out with their image on this node's disk (read from disk, one at a time). */
  async * swapped (): AsyncGenerator<ProcessInfo> {
    for await (const record of this.swappedRecords()) yield this.swappedInfo(record)
  }

  /** How many swap images this node holds (after a restore here, its image goes once the new activation is settled). */
  swappedCount (): number {
    return this.init.images.size
  }

  /** `pid` if it is swapped out with its image here. */
  async swappedHere (pid: string): Promise<ProcessInfo | undefined> {
    const record = await this.swappedRecord(pid)
    return record == null ? undefined : this.swappedInfo(record)
  }

  /** What the directory record of `pid` says if it is swapped out with its image here (its manifest, read from disk). */
  async swappedRecord (pid: string): Promise<SwappedRecord | undefined> {
    if (this.init.runtime.get(pid) != null) return undefined
    const m = await this.init.images.manifest(pid)
    return m == null || this.init.runtime.get(pid) != null ? undefined : { pid: m.pid, epoch: m.epoch, app: m.app }
  }

  /** The records of every process swapped out here, read from disk one at a time (the directory refreshes them). */
  async * swappedRecords (): AsyncGenerator<SwappedRecord> {
    for await (const m of this.init.images.list()) {
      if (this.init.runtime.get(m.pid) == null) yield { pid: m.pid, epoch: m.epoch, app: m.app }
    }
  }

  private swappedInfo (record: SwappedRecord): ProcessInfo {
    return { pid: record.pid, app: record.app, status: ProcessStatus.SWAPPED, node: this.init.selfId, addrs: this.init.selfAddrs() }
  }

  private image (record: ProcessRecord, withMessages: boolean): ProcessImage {
    return {
      pid: record.pid,
      app: record.app,
      appHash: this.init.apps.get(record.app)?.hash ?? '',
      epoch: record.epoch,
      seq: record.seq,
      state: record.state,
      messages: withMessages ? (record.mailbox?.unread() ?? []).map(({ id, key, message }) => ({ id, key, from: message.from, data: message.data })) : []
    }
  }

  /**
   * Swaps a process out: new calls wait, running ones end, the image (state and unread
   * messages) goes to local disk (synced), the directory says `swapped`, and the process leaves
   * the runtime. The replicas hold the same version already: its last writes and mailbox changes
   * are committed first. The held calls then restore it, wherever the allocator says.
   */
  async swap (pid: string): Promise<void> {
    const t0 = performance.now()
    const record = await this.init.runtime.freeze(pid, DRAIN_TIMEOUT_MS)
    try {
      // The replicas then hold every write and every message, at record.seq, as the image does.
      await this.init.replicator.commit(record)
      await this.init.replicator.ensureReplicas(record)
      const t1 = performance.now()
      // the image keeps the allocator's grant of the epoch: the directory record is put again from it (refreshSwapped)
      const published = this.init.directory.owns(pid)
      const epoch = published != null && compareEpoch(published, record.epoch) === 0 ? published : record.epoch
      await this.init.images.saveImage({ ...this.image(record, true), epoch })
      this.init.log('swapping %s: drain and commit %d ms, image stored %d ms', pid, Math.round(t1 - t0), Math.round(performance.now() - t1))
    } catch (err) {
      this.init.runtime.thaw(pid)
      throw err
    }
    // Callers that still find this node in the directory are told MOVED, and learn here that it is swapped.
    this.init.directory.markSwapped(pid).catch((err: Error) => {
      this.init.log('could not mark %s swapped in the directory: %s', pid, err.message)
    })
    this.init.runtime.release(pid, new PraasError('MOVED', `process ${pid} was swapped`))
    this.init.log('swapped %s', pid)
  }

  /** Swaps every process idle for longer than the policy allows. */
  private async swapIdle (): Promise<void> {
    const cutoff = activeNow() - this.init.swapAfterMs
    const idle = this.init.runtime.list().filter(r => r.running === 0 && r.gate == null && r.lastActive < cutoff).map(r => r.pid)
    await this.swapMany(idle)
  }

  /** Persists every process hosted here (the node is stopping): nothing is lost. */
  async swapAll (): Promise<void> {
    await this.swapMany(this.init.runtime.list().map(r => r.pid))
  }

  private async swapMany (pids: string[]): Promise<void> {
    await inParallel(pids.length, SWAPS_IN_PARALLEL, async (i) => {
      await this.swap(pids[i]).catch((err: Error) => { this.init.log.error('could not swap %s: %s', pids[i], err.message) })
    })
  }

  /**
   * Which copy of a process this node holds, without reading it: the live process, else the
   * newer of its swap image (by its manifest) and its replica; `inMemory` when it is the live
   * process or the replica (activating it reads nothing from disk). What probes answer.
   */
  async copyHere (pid: string, fence?: Epoch): Promise<CopyHere | undefined> {
    // This node is fenced the moment the probe arrives, whether or not it holds a copy: no batch
    // of an older activation gets in while the image's manifest is read, and a node that holds
    // none now takes none later. The older host may have chosen it as a replica while its lease
    // still held, and its full copy and batches, held up by a cut, may arrive after this answer:
    // taken, the batches' results would be pushed to their clients as acknowledged, and the
    // restore asking now never sees them (the flapping-link test: counts acknowledged twice).
    if (fence != null && this.init.runtime.get(pid) == null) this.init.replicas.fence(pid, fence)
    const stored = this.init.runtime.get(pid) == null ? await this.init.images.manifest(pid) : undefined
    // From here on nothing waits: the live process is looked up again after the read, and the
    // fence is in place before the answer leaves.
    const live = this.init.runtime.get(pid)
    if (live != null) return { version: { pid, app: live.app, appHash: this.init.apps.get(live.app)?.hash ?? '', epoch: live.epoch, seq: live.seq }, active: true, inMemory: true }
    const replica = this.init.replicas.version(pid)
    const copy: CopyHere | undefined = stored != null && (replica == null || compareVersion(stored, replica) > 0)
      ? { version: stored, active: false, inMemory: false }
      : replica != null ? { version: replica, active: false, inMemory: true } : undefined
    if (fence != null) this.init.replicas.fence(pid, fence)
    return copy
  }

  /** The newest copy of a process on this node: the live process, a swap image, or a replica. */
  async newestCopy (pid: string): Promise<ProcessImage | undefined> {
    const live = this.init.runtime.get(pid)
    if (live != null) return this.image(live, true)
    const stored = await this.init.images.manifest(pid)
    const replica = this.init.replicas.get(pid)
    if (stored != null && (replica == null || compareVersion(stored, replica) >= 0)) return await this.init.images.load(pid)
    return replica
  }

  /**
   * Brings a process that runs nowhere back: finds the newest copy among the live nodes, asks
   * the allocator where to run it and for a new epoch, and activates it there. One restore per
   * pid at a time from this node; an older activation that still runs somewhere is fenced.
   */
  async restore (pid: string, options: AbortOptions = {}, silent: string[] = []): Promise<ProcessInfo> {
    return await this.restoring.run(pid, async () => await this.restoreOnce(pid, options, silent))
  }

  /** `silent`: nodes that failed to answer the caller just now, counted silent without being asked again. */
  private async restoreOnce (pid: string, options: AbortOptions, silent: string[]): Promise<ProcessInfo> {
    const { copies, unanswered } = await this.probe(pid, PROBE_TIMEOUT_MS, silent)
    // Only when every node said it holds none is there no such process; otherwise this node cannot tell yet.
    if (copies.length === 0 && unanswered.length > 0) throw new PraasError('UNAVAILABLE', `no copy of ${pid} on the nodes that answered; ${unanswered.length} did not`)
    if (copies.length === 0) throw new PraasError('NOT_FOUND', `no process ${pid}`)
    // It runs somewhere after all (the directory was behind): one activation per pid, so that one it is.
    const live = copies.find(c => c.active)
    if (live != null) {
      const running = this.init.runtime.get(pid)
      return running != null ? this.info(running) : this.runningAt(live)
    }
    this.checkAnswers(pid, unanswered)
    const best = newestOf(copies)
    const holders = copies.map(c => c.node)
    const { epoch, seq } = best.version
    // Where the newest copy is, nothing has to travel: the allocator prefers those nodes, and of
    // them the ones that hold it in memory (a replica), which read nothing from disk.
    const newest = copies.filter(c => compareVersion(c.version, best.version) === 0)
    const inMemory = newest.filter(c => c.inMemory)
    const prefer = (inMemory.length > 0 ? inMemory : newest).map(c => c.node)
    // the nodes that could not say whether they run it: the leader waits for their leases to run out
    const basis = `${epoch.term}.${epoch.counter}.${seq}`
    const placement = await this.init.allocator.allocate({ pid, app: best.version.app, restore: true, basis, prefer, unreachable: unanswered }, options)
    // the chosen node uses its own copy if it holds the newest one
    const holder = prefer.includes(placement.node) ? placement.node : best.node
    this.init.log('restoring %s on %s from the copy on %s (epoch %d.%d, batch %d)', pid, placement.node, holder, epoch.term, epoch.counter, seq)
    if (placement.node === this.init.selfId) return await this.activateFrom(holder, pid, placement.epoch, holders, options)
    try {
      const response = await this.init.peers.request(placement.node, {
        op: CtlRequest.Op.CREATE, pid, app: best.version.app, hash: best.version.appHash, local: true, restore: true, holder, holders, term: placement.epoch.term, counter: placement.epoch.counter, grant: placement.epoch.grant as Uint8Array<ArrayBuffer> | undefined
      }, options)
      const info = response.processes[0]
      if (info == null) throw new PraasError('UNAVAILABLE', `node ${placement.node} did not say where ${pid} runs`)
      return info
    } catch (err) {
      const code = toPraasError(err).code
      if (code !== 'UNAVAILABLE' && code !== 'TIMEOUT') throw err
      // it may have activated it all the same (the answer was lost): then it runs there
      if (await this.runsAt(placement.node, pid, placement.epoch)) {
        return { pid, app: best.version.app, status: ProcessStatus.ACTIVE, node: placement.node, addrs: placement.addrs.map(a => a.toString()) }
      }
      this.init.log('node %s did not restore %s (%s): restoring it here', placement.node, pid, (err as Error).message)
      const here = await this.init.allocator.allocate({ pid, app: best.version.app, node: this.init.selfId, restore: true, basis, unreachable: [...unanswered, placement.node] }, options)
      return await this.activateFrom(best.node, pid, here.epoch, holders, options)
    }
  }

  /**
   * An acknowledged write is on min(R, members) nodes (replicator.ts), and a replica left behind by
   * a reseat keeps an older copy: the newest copy is surely among the answers of a probe only when
   * fewer nodes than that stayed silent. Otherwise the silent ones may hold it: UNAVAILABLE.
   */
  private checkAnswers (pid: string, unanswered: string[]): void {
    const members = this.init.clusterMembers?.().length ?? 0
    const quorum = Math.min(this.init.replicator.copies, members)
    if (quorum > 0 && unanswered.length >= quorum) {
      throw new PraasError('UNAVAILABLE', `${unanswered.length} of ${members} nodes did not answer for ${pid}: one of them may hold its newest copy`)
    }
  }

  /**
   * An activation that steps down (its lease came back after it ran out, or a replica holds a
   * newer one) keeps its state here as a copy: its writes were acknowledged on this node and its
   * replicas, and a restore that cannot reach the replicas must still find them here.
   *
   * Writes and mail not cut into a batch yet are in the state too: the copy is then the version
   * of the next batch (seq + 1), which, if it is ever cut (by a call of this activation that
   * ends), holds exactly them (a released activation takes no more writes). Kept as `seq`, it
   * would be a second state of one version: a restore from it would rebase a replica that holds
   * `seq` without them, and serve writes that a later restore from that replica does not have.
   */
  keepCopy (record: ProcessRecord): void {
    if (!this.init.replicator.tracking) return
    try {
      this.init.replicas.install({ ...this.image(record, true), seq: record.seq + (hasUncut(record) ? 1 : 0) })
    } catch (err) {
      this.init.log.error('could not keep the copy of %s that stepped down: %s', record.pid, (err as Error).message)
    }
  }

  /** Where a probe found the process running. */
  private runningAt (copy: { node: string } & CopyHere): ProcessInfo {
    return { pid: copy.version.pid, app: copy.version.app, status: ProcessStatus.ACTIVE, node: copy.node, addrs: this.init.peers.addrsOf(copy.node).map(a => a.toString()) }
  }

  /** Whether `node` runs the pid with `epoch` or a newer one (false when it cannot say: unreachable). */
  private async runsAt (node: string, pid: string, epoch: Epoch): Promise<boolean> {
    try {
      const b = decodeWriteBatch(await this.init.state.call(node, 'probe', pid, new Uint8Array(0), { timeoutMs: PROBE_TIMEOUT_MS }))
      return b.active && !older({ term: b.term, counter: b.counter }, epoch)
    } catch {
      return false
    }
  }

  /** The node where the process runs now, if any live node runs it (its swap image here may be older). */
  async runningOn (pid: string): Promise<string | undefined> {
    return (await this.probe(pid)).copies.find(c => c.active)?.node
  }

  /**
   * Asks every live node (and this one) which copy of `pid` it holds; `unanswered` counts the
   * nodes that could not say (unreachable, too slow, or failing), as opposed to holding none.
   */
  private async probe (pid: string, timeoutMs = PROBE_TIMEOUT_MS, silent: string[] = [], fence?: Epoch): Promise<{ copies: Array<{ node: string } & CopyHere>, unanswered: string[] }> {
    const found: Array<{ node: string } & CopyHere> = []
    const unanswered: string[] = [...silent]
    const local = await this.copyHere(pid, fence)
    if (local != null) found.push({ node: this.init.selfId, ...local })
    const request = fence == null ? new Uint8Array(0) : StateRequest.encode({ term: fence.term, counter: fence.counter })
    await Promise.all(this.init.members().filter(node => !silent.includes(node)).map(async node => {
      try {
        const answer = await this.init.state.call(node, 'probe', pid, request, { timeoutMs })
        const b = decodeWriteBatch(answer)
        found.push({ node, active: b.active, inMemory: b.inMemory, version: { pid, app: b.app, appHash: b.appHash, epoch: { term: b.term, counter: b.counter }, seq: b.seq } })
      } catch (err) {
        if (toPraasError(err).code !== 'NOT_FOUND') unanswered.push(node)
      }
    }))
    // members this node does not see could run it too: the restore waits for their leases
    const asked = new Set([this.init.selfId, ...this.init.members(), ...silent])
    for (const member of this.init.clusterMembers?.() ?? []) if (!asked.has(member)) unanswered.push(member)
    return { copies: found, unanswered }
  }

  /** Restore target: fetches the image from its holder, and activates it here. */
  async activateFrom (holder: string, pid: string, epoch: Epoch, holders: string[], options: AbortOptions): Promise<ProcessInfo> {
    const running = this.init.runtime.get(pid)
    if (running != null && !older(running.epoch, epoch)) return this.info(running)
    // The copies are asked again now that the epoch is granted: the restoring node asked before
    // the allocator waited for the leases of the members it could not reach, and one of those may
    // have served (and replicated) meanwhile, or another restore may have activated it since.
    // Each holder that answers is fenced with the new epoch first: a batch of the old activation
    // that reaches it later (a cut host's, buffered in the network) is refused, so that no replica
    // takes, and pushes to a client as acknowledged (protocol/results.ts), a write this restore
    // does not see. A quorum answers, so one of the old activation's replicas is among them.
    if (this.init.replicator.tracking) {
      const { copies, unanswered } = await this.probe(pid, REPROBE_TIMEOUT_MS, [], epoch)
      const live = copies.find(c => c.active && c.node !== this.init.selfId)
      if (live != null) return this.runningAt(live)
      this.checkAnswers(pid, unanswered)
      if (copies.length > 0) {
        const best = newestOf(copies)
        const atHolder = copies.find(c => c.node === holder)
        if (atHolder == null || compareVersion(best.version, atHolder.version) > 0) {
          this.init.log('a newer copy of %s than the restore found is on %s (epoch %d.%d, batch %d)', pid, best.node, best.version.epoch.term, best.version.epoch.counter, best.version.seq)
          holder = best.node
        }
        holders = [...new Set([...holders, ...copies.map(c => c.node)])]
      }
    }
    let image: ProcessImage | undefined
    if (holder === this.init.selfId) {
      image = await this.newestCopy(pid)
    } else {
      const { manifest, chunks } = await this.init.state.fetchImage(holder, pid, options)
      image = imageFromChunks(manifest, chunks)
    }
    if (image == null) throw new PraasError('NOT_FOUND', `node ${holder} holds no copy of ${pid} any more`)
    await this.init.ensureApp(image.app, image.appHash, holder, options)
    await this.activate(image, epoch, holders)
    return this.info(this.init.runtime.get(pid)!)
  }

  /**
   * Activates a process from an image with a new epoch: it serves at once; its own replicas get
   * a full copy, and only then are the older copies (the holders) fenced and dropped.
   */
  async activate (image: ProcessImage, epoch: Epoch, holders: string[], options: { seedFirst?: boolean } = {}): Promise<void> {
    this.init.canServe?.()
    const { runtime } = this.init
    const running = runtime.get(image.pid)
    if (running != null && !older(running.epoch, epoch)) return
    if (this.init.apps.get(image.app) == null) throw new PraasError('NOT_FOUND', `no app named ${image.app} on this node`)
    if (older(epoch, image.epoch)) throw new PraasError('UNAVAILABLE', `an activation of ${image.pid} with epoch ${epoch.term}.${epoch.counter} would be older than its copy`)
    if (running != null) runtime.release(image.pid, new PraasError('MOVED', `process ${image.pid} has a newer activation`))
    const record = runtime.adopt(image, epoch)
    this.init.log('activated %s with epoch %d.%d (batch %d), older copies on %s', image.pid, epoch.term, epoch.counter, image.seq, holders.join(' '))
    this.init.directory.publish(record.pid, { epoch, app: record.app }).catch((err: Error) => {
      this.init.log.error('could not advertise %s: %s', record.pid, err.message)
    })
    const seeded = this.init.replicator.seed(record, { epoch: image.epoch, seq: image.seq }, holders)
    void this.settle(record, holders, seeded)
    // A moved process is durable here before its source lets go of it: the target may have been
    // the source's only replica, and would otherwise hold the only copy for a moment.
    if (options.seedFirst === true) await seeded
  }

  /** Gives a new process's replicas their copy (a failed replica is replaced, as for any commit). */
  async seed (record: ProcessRecord): Promise<void> {
    await this.init.replicator.seed(record)
  }

  /** After an activation: copies to the new replicas first, then fences everything older. */
  private async settle (record: ProcessRecord, holders: string[], seeded: Promise<string[]>): Promise<void> {
    try {
      const replicas = await seeded
      const keep = new Set([...replicas, this.init.selfId])
      const fence = StateRequest.encode({ term: record.epoch.term, counter: record.epoch.counter })
      await Promise.all(holders.filter(h => !keep.has(h)).map(async node => {
        await this.init.state.call(node, 'fence', record.pid, fence).catch(() => {})
      }))
      await this.fence(record.pid, record.epoch)
    } catch (err) {
      this.init.log('settling %s after its activation: %s', record.pid, (err as Error).message)
    }
  }

  /** A newer activation of `pid` exists (here or elsewhere): older copies here go, an older activation steps down. */
  async fence (pid: string, epoch: Epoch): Promise<void> {
    const { runtime, images, replicas } = this.init
    const running = runtime.get(pid)
    if (running != null && running.gate == null && older(running.epoch, epoch)) {
      this.init.log('%s has epoch %d.%d elsewhere: stepping down', pid, epoch.term, epoch.counter)
      runtime.release(pid, new PraasError('MOVED', `process ${pid} has a newer activation`))
      this.init.directory.release(pid)
    }
    // the fence first, before anything waits: a batch of the older activation that comes
    // meanwhile must find it (docs/durability.md, the restore's fence)
    const replica = replicas.get(pid)
    if (replica != null && older(replica.epoch, epoch)) replicas.drop(pid)
    replicas.fence(pid, epoch)
    const stored = await images.manifest(pid)
    if (stored != null && older(stored.epoch, epoch)) await images.delete(pid)
  }

  /**
   * Moves a running process to `target` (live migration, pre-copy): while the process keeps
   * serving, `target` gets a full copy of its state and becomes one more replica, so that the
   * writes made meanwhile reach it as batches. Then new calls wait, running ones end, the last
   * writes are committed, and `target` activates from its own copy with a newer epoch: only the
   * unread mail travels during that pause. The held calls then follow the process there. Where
   * the pre-copy cannot be used (replication off, too many writes meanwhile, a copy that fell
   * behind), the whole image travels during the pause instead. No call fails; an error before
   * the target took it leaves it running here.
   */
  async migrate (pid: string, target: string, options: AbortOptions = {}): Promise<ProcessInfo> {
    const { runtime, replicator } = this.init
    const current = runtime.get(pid)
    if (current == null) throw new PraasError('MOVED', `process ${pid} is not hosted on this node`)
    if (target === this.init.selfId) return this.info(current)
    const started = performance.now()
    const placement = await this.init.allocator.allocate({ pid, app: current.app, node: target }, options)
    const allocated = performance.now()
    const before = [...(current.replicas ?? [])]
    let precopied = false
    try {
      precopied = await replicator.precopy(current, target)
    } catch (err) {
      if (toPraasError(err).code === 'MOVED') throw err
      this.init.log('pre-copy of %s to %s failed, moving it whole: %s', pid, target, (err as Error).message)
    }
    const copied = performance.now()
    let record: ProcessRecord
    try {
      record = await runtime.freeze(pid, DRAIN_TIMEOUT_MS)
    } catch (err) {
      replicator.undoPrecopy(current, target, before)
      throw err
    }
    const frozen = performance.now()
    let keep = false
    try {
      // Committed first, the replicas hold exactly the image's state: the target's replicas need only take it over.
      await replicator.commit(record)
      const committed = performance.now()
      const image = this.image(record, true)
      // The nodes that hold exactly this state become the target's replicas (they take it over).
      // The target cannot be its own replica: if it was one, or there are too few, this node
      // keeps a copy and stands in.
      const replicas = (record.replicas ?? []).filter(peer => peer !== target)
      keep = replicator.tracking && replicas.length < replicator.copies - 1
      if (keep) this.init.replicas.install(image)
      const holders = keep ? [...replicas, this.init.selfId] : replicas
      const activation = { term: placement.epoch.term, counter: placement.epoch.counter, grant: placement.epoch.grant as Uint8Array<ArrayBuffer> | undefined, holders }
      let whole = !precopied || record.replicas?.includes(target) !== true
      if (!whole) {
        // the target's replica holds the state and the mail at exactly this epoch and seq: nothing else travels
        const answer = await this.init.state.pushSerialized(target, 'activate', imagePieces({ ...image, state: new Map(), messages: [] }), { ...activation, fromReplica: true }, options)
        whole = answer[0] === RESULT_GAP
        if (whole) this.init.log('the copy of %s on %s fell behind: moving it whole', pid, target)
      }
      if (whole) await this.init.state.pushSerialized(target, 'activate', imagePieces(image), activation, options)
      this.init.log('migrating %s: allocate %d ms, pre-copy %d ms, drain %d ms, commit %d ms, then %s in %d ms', pid, Math.round(allocated - started),
        Math.round(copied - allocated), Math.round(frozen - copied), Math.round(committed - frozen), whole ? 'the whole image' : 'the mail', Math.round(performance.now() - committed))
    } catch (err) {
      // Lost in flight (a timeout, a dropped stream), the target may have activated it all the
      // same: then it runs there, and thawing it here would run it twice.
      const code = toPraasError(err).code
      if ((code !== 'TIMEOUT' && code !== 'UNAVAILABLE') || !await this.runsAt(target, pid, placement.epoch)) {
        if (keep) this.init.replicas.drop(pid)
        replicator.undoPrecopy(record, target, before)
        runtime.thaw(pid)
        throw err
      }
      this.init.log('migration of %s failed in flight (%s), but %s runs it', pid, (err as Error).message, target)
    }
    this.init.directory.release(pid)
    runtime.release(pid, new PraasError('MOVED', `process ${pid} moved to ${target}`), target)
    this.init.log('moved %s to %s', pid, target)
    return { pid, app: record.app, status: ProcessStatus.ACTIVE, node: target, addrs: placement.addrs.map(a => a.toString()) }
  }

  /** Deletes every copy of a process held on this node. */
  async forget (pid: string): Promise<boolean> {
    const deleted = await this.init.images.delete(pid)
    const replica = this.init.replicas.get(pid) != null
    this.init.replicas.drop(pid)
    return deleted || replica
  }
}

/** The copy with the highest version (epoch, then batch); the first of equals. */
function newestOf<T extends { version: ProcessVersion }> (copies: T[]): T {
  return copies.reduce((a, b) => compareVersion(b.version, a.version) > 0 ? b : a)
}
