import { MAX_BATCHES_PER_CALL, MAX_REPLICATE_CALL_BYTES, PraasError, ReplicateRequest, decodeReplicateResponse, toPraasError } from '../../protocol/index.js'
import { imagePieces, imageToChunks } from '../storage/index.js'
import { chooseReplicas } from './replica-set.js'
import { NO_WRITES, hasUncut } from '../runtime/index.js'
import type { StateClient } from './state-client.js'
import type { Forward, WriteBatch } from '../../protocol/index.js'
import type { Committer, Forwarding, ProcessRecord } from '../runtime/index.js'
import type { Logger } from '@libp2p/interface'

export const RESULT_OK = 0
export const RESULT_STALE = 1
export const RESULT_GAP = 2
/** The replica cannot hold this batch (the process grew past its limit); the call fails TOO_LARGE, the replica stays. */
export const RESULT_REFUSED = 3

/** A replica that failed is passed over for this long before it is chosen again. */
const SUSPECT_MS = 10_000
/** Replication calls on their way to one replica at once. */
const CALLS_IN_FLIGHT = 4
/** A batch larger than this travels as a full copy, in content-addressed chunks. */
const MAX_INLINE_BATCH_BYTES = 4 * 1024 * 1024
/** Writes a live migration's pre-copy keeps for its target while the full copy travels, at most; past this it gives up. */
const MAX_TAP_BYTES = 64 * 1024 * 1024

export interface ReplicatorInit {
  selfId: string
  /** R: the copies of each process's state, the host's included. 1 turns replication off. */
  copies: number
  /** The live nodes of the mesh, this one excluded. */
  members(): string[]
  appHash(app: string): string
  state: StateClient
  /** A replica holds a newer activation of `pid`: this one must step down. */
  onStale(pid: string): void
  /**
   * The members of the cluster, this node included. A write is acknowledged only once it is on
   * min(R, members) nodes: a host that cannot reach enough replicas fails its calls UNAVAILABLE
   * rather than acknowledge alone (issue 18). Without it, writes are acknowledged with the
   * replicas there are.
   */
  clusterSize?(): number
  log: Logger
}

function tooFewReplicas (pid: string, have: number, needed: number): PraasError {
  return new PraasError('UNAVAILABLE', `process ${pid} reaches ${have} of the ${needed} replicas an acknowledged write needs`)
}

/** A copy a replica may hold already: the version a process was activated from. */
export interface Basis {
  epoch: { term: number, counter: number }
  seq: number
}

/** What a replica link sends: a batch of writes, or a full copy. */
type Work =
  | { kind: 'batch', batch: WriteBatch, bytes: number, record: ProcessRecord, forwards?: Array<Omit<Forward, 'batch'>> }
  | { kind: 'install', record: ProcessRecord, basis?: Basis }

type Item = Work & { resolve(): void, reject(err: PraasError): void }

/**
 * Makes an invocation's writes durable before its result goes out: the writes of a process
 * since its last batch are cut into one batch (absolute values, numbered), and sent to each of
 * its R-1 replicas. One call is in flight per replica at a time; everything that arrives
 * meanwhile rides the next call together (group commit), so that 64 concurrent callers pay
 * about one round trip each, not 64.
 */
export class Replicator implements Committer {
  readonly tracking: boolean
  private readonly links = new Map<string, ReplicaLink>()
  private readonly suspects = new Map<string, number>()
  /**
   * Processes whose writes wait to be cut into a batch at the end of this event-loop turn, or
   * (`turns` left: only deliveries wait) a turn later.
   */
  private readonly pendingCuts = new Map<ProcessRecord, PromiseWithResolvers<void> & { turns: number }>()
  /** Full copies on their way to new replicas, per process and replica: a write is durable only once they are in. */
  private readonly installing = new WeakMap<ProcessRecord, Map<string, Promise<void>>>()
  /** The batches cut while a live migration's pre-copy travels, kept for its target (`precopy`). */
  private readonly taps = new WeakMap<ProcessRecord, { batches: Array<{ batch: WriteBatch, bytes: number }>, bytes: number, overflow: boolean }>()
  private cutScheduled = false

  constructor (private readonly init: ReplicatorInit) {
    this.tracking = init.copies > 1
  }

  /** R: the copies of each process's state, the host's included. */
  get copies (): number {
    return this.init.copies
  }

  /** Replicas a write needs before it is acknowledged. */
  private needed (): number {
    return this.init.clusterSize == null ? 0 : Math.min(this.init.copies, this.init.clusterSize()) - 1
  }

  /**
   * A process short of replicas (they were out of reach) looks for them again, and new ones get a
   * full copy, before any call of it is acknowledged: UNAVAILABLE while they stay out of reach.
   */
  private async ensureCopies (record: ProcessRecord): Promise<void> {
    if (this.replicasOf(record).length < this.needed()) await this.reseat(record, '')
    if (record.owes != null) await this.repay(record)
  }

  /**
   * An activation that owes its replicas writes (`unreplicated`) gives each of them a full copy
   * of its state, which holds those writes; once every one holds it (and there are enough), it
   * owes nothing, unless more writes failed meanwhile. One at a time per activation: the calls
   * that come meanwhile wait for it.
   */
  private async repay (record: ProcessRecord): Promise<void> {
    let repaying = this.repaying.get(record)
    if (repaying == null) {
      const owed = record.owes
      repaying = (async () => {
        // a replica chosen by a reseat since then got its full copy already
        const repaid = this.repaid.get(record)
        const owing = this.replicasOf(record).filter(peer => repaid?.get(peer) !== owed)
        await Promise.all(owing.map(async peer => { await this.queue(peer, { kind: 'install', record }) }))
        const needed = this.needed()
        if (record.replicas!.length < needed) throw tooFewReplicas(record.pid, record.replicas!.length, needed)
        if (record.owes === owed) {
          record.owes = undefined
          this.repaid.delete(record)
        }
      })()
      this.repaying.set(record, repaying)
      const done = (): void => { if (this.repaying.get(record) === repaying) this.repaying.delete(record) }
      repaying.then(done, done)
    }
    await repaying
  }

  /** Full copies on their way to the replicas of activations that owe them writes (`repay`). */
  private readonly repaying = new WeakMap<ProcessRecord, Promise<void>>()
  /** The replicas that got a full copy from a reseat while their activation owed writes, with `owes` as it was then. */
  private readonly repaid = new WeakMap<ProcessRecord, Map<string, number>>()

  /** The live nodes that keep this activation's replicas, chosen once (and again if one fails). */
  replicasOf (record: ProcessRecord): string[] {
    if (record.replicas == null) record.replicas = this.choose(record.pid)
    return record.replicas
  }

  /**
   * The closest live nodes to the pid; with `holders` (the nodes that hold the copy a moved or
   * restored process came from), those first, so that they only take over the copy they hold.
   */
  private choose (pid: string, holders: string[] = []): string[] {
    const now = Date.now()
    const live = this.init.members().filter(id => (this.suspects.get(id) ?? 0) < now)
    const held = chooseReplicas(pid, this.init.selfId, live.filter(id => holders.includes(id)), this.init.copies - 1)
    const rest = chooseReplicas(pid, this.init.selfId, live.filter(id => !held.includes(id)), this.init.copies - 1 - held.length)
    return [...held, ...rest]
  }

  /**
   * Resolves once every write of the process so far is on its replicas. Writes are cut into a
   * batch once per event-loop turn, so that the invocations that end together share one batch.
   * `lazy` (a delivery, runtime.ts): cut one turn later, unless another commit of the process
   * comes first, so that a message a recv takes at once (its sender is then acknowledged without
   * waiting) never needs to travel.
   */
  async commit (record: ProcessRecord, options: { lazy?: boolean, forward?: Forwarding } = {}): Promise<void> {
    // a call that ran alone (a sequential caller's): its result may be pushed by the replicas
    const alone = record.running === 0
    if (this.tracking && (record.owes != null || this.replicasOf(record).length < this.needed())) {
      try {
        await this.ensureCopies(record)
      } catch (err) {
        if (hasUncut(record)) this.unreplicated(record, err)
        throw err
      }
    }
    if (hasUncut(record)) {
      const lazy = options.lazy === true
      let pending = this.pendingCuts.get(record)
      if (pending == null && ((!lazy && (record.committing == null || record.running === 0)) || this.replicasOf(record).length === 0)) {
        // nothing of the process on its way, or no other call of it running (a sequential
        // caller's call), or no other node holds a copy (a mesh of one): the batch is cut at
        // once (behind the one on its way, if any), and the calls that end meanwhile ride the
        // next one together (group commit). Only the result of a call that ran alone is handed
        // to the replicas to push (`forward`): under concurrent callers a push would split the
        // answers that leave together into more writes and wake-ups than the hops it saves
        await this.cut(record, options.forward != null && alone ? [options.forward] : [])
        return
      }
      if (pending == null) {
        pending = { ...Promise.withResolvers<void>(), turns: lazy ? 1 : 0 }
        pending.promise.catch(() => {})
        this.pendingCuts.set(record, pending)
        this.scheduleCuts()
      } else if (!lazy) {
        pending.turns = 0
      }
      await pending.promise
      return
    }
    await record.committing
  }

  private scheduleCuts (): void {
    if (this.cutScheduled) return
    this.cutScheduled = true
    setImmediate(() => { this.cutAll() })
  }

  private cutAll (): void {
    this.cutScheduled = false
    for (const [record, pending] of [...this.pendingCuts]) {
      if (pending.turns-- > 0) continue
      this.pendingCuts.delete(record)
      this.cut(record).then(pending.resolve, pending.reject)
    }
    if (this.pendingCuts.size > 0) this.scheduleCuts()
  }

  /**
   * Cuts the process's writes and mailbox changes so far into one numbered batch and sends it to
   * each replica. A version (epoch, seq) thus names one state and one mailbox on every copy.
   */
  private cut (record: ProcessRecord, forwarding: Forwarding[] = []): Promise<void> {
    if (!hasUncut(record)) return record.committing ?? Promise.resolve()
    const ops = [...record.dirty].map(([key, value]) => ({ key, value: value as Uint8Array<ArrayBuffer> | undefined }))
    record.dirty = NO_WRITES
    const { puts, takes } = record.mailbox?.cutJournal() ?? { puts: [], takes: [] }
    const batch: WriteBatch = {
      pid: record.pid,
      app: record.app,
      appHash: this.init.appHash(record.app),
      term: record.epoch.term,
      counter: record.epoch.counter,
      seq: ++record.seq,
      ops,
      active: false,
      inMemory: false,
      puts: puts as WriteBatch['puts'],
      takes
    }
    const bytes = ops.reduce((sum, op) => sum + op.key.length + (op.value?.byteLength ?? 0) + 8, 64) +
      puts.reduce((sum, m) => sum + m.key.length + m.from.length + m.data.byteLength + 16, 8 * takes.length)
    const tap = this.taps.get(record)
    if (tap != null && !tap.overflow) {
      tap.bytes += bytes
      if (tap.bytes > MAX_TAP_BYTES) tap.overflow = true
      tap.batches.push({ batch, bytes })
    }
    const replicas = this.replicasOf(record)
    // the results of the calls whose writes this is, for the replicas to push to their callers:
    // given away now, as an answer would leave now (the lease held since each call came)
    const forwards = forwarding.filter(f => f.result != null && replicas.length > 0 && f.answerable()).map(f => {
      f.to = replicas
      return { client: f.client, call: f.call, result: f.result as Uint8Array<ArrayBuffer>, copies: replicas.length }
    })
    // Fewer replicas than an acknowledged write needs (a reseat found none after this batch's
    // calls were waiting for it, the group commit's cut): their calls fail rather than resolve
    // on no copy at all. They were acknowledged with the write on this node alone, which a
    // restore from the replicas' older copy then counted again (the flapping-link test).
    const needed = this.tracking ? this.needed() : 0
    const done = replicas.length < needed
      ? Promise.reject(tooFewReplicas(record.pid, replicas.length, needed))
      : Promise.all(replicas.map(async peer => {
        await this.queue(peer, { kind: 'batch', batch, bytes, record, forwards })
      })).then(() => {})
    record.committing = done
    const clear = (): void => { if (record.committing === done) record.committing = undefined }
    done.then(clear, (err) => {
      clear()
      this.unreplicated(record, err)
    })
    return done
  }

  /**
   * Gives each replica of a new activation its copy, before older copies are fenced: a replica
   * that holds the copy it was activated from (`basis`) only takes over that copy (rebase);
   * any other gets a full copy.
   */
  async seed (record: ProcessRecord, basis?: Basis, holders: string[] = []): Promise<string[]> {
    if (!this.tracking) return []
    record.replicas ??= this.choose(record.pid, holders)
    const replicas = record.replicas
    await Promise.all(replicas.map(async peer => {
      await this.queue(peer, { kind: 'install', record, basis })
    }))
    return replicas
  }

  /**
   * Before a process leaves this node (swap): makes sure it has its replicas among the live
   * nodes, each with its copy. A replica chosen while it was dying, or none chosen while no
   * other node looked alive, would leave the swap image on this node's disk as the only copy;
   * replicas that are no longer members are replaced, and missing ones chosen again, each
   * getting a full copy first.
   */
  async ensureReplicas (record: ProcessRecord): Promise<void> {
    if (!this.tracking) return
    const members = new Set(this.init.members())
    const current = record.replicas ?? []
    const gone = current.filter(peer => !members.has(peer))
    if (gone.length === 0 && current.length >= this.init.copies - 1) return
    // The live members get another chance (one failed call made them suspect for a while); one
    // that fails again is passed over as any failed replica is.
    for (const peer of members) this.suspects.delete(peer)
    for (const peer of gone) this.suspects.set(peer, Date.now() + SUSPECT_MS)
    this.init.log('process %s leaves with replicas %s: choosing them again', record.pid, current.join(' ') || 'none')
    await this.reseatOnce(record, gone[0] ?? '')
  }

  /**
   * The pre-copy of a live migration: gives `target` a full copy of the process while it keeps
   * serving, then makes `target` one more of its replicas, first with the batches cut while the
   * copy travelled. Resolves true once `target` holds every write cut so far and receives the
   * next ones as any replica does; false (nothing changed) if the process wrote more than
   * MAX_TAP_BYTES meanwhile, or replication is off. `undoPrecopy` makes `target` an extra replica no more.
   */
  async precopy (record: ProcessRecord, target: string): Promise<boolean> {
    if (!this.tracking) return false
    const replicas = this.replicasOf(record)
    if (replicas.includes(target)) return true
    const tap = { batches: [] as Array<{ batch: WriteBatch, bytes: number }>, bytes: 0, overflow: false }
    this.taps.set(record, tap)
    let from: number
    try {
      from = await this.install(target, record)
    } finally {
      this.taps.delete(record)
    }
    if (tap.overflow || record.replicas !== replicas) return false
    // From here on (no await in between) every cut goes to the target too, behind the tapped ones.
    record.replicas = [...replicas, target]
    await Promise.all(tap.batches.filter(({ batch }) => batch.seq > from).map(async ({ batch, bytes }) => { await this.queue(target, { kind: 'batch', batch, bytes, record }) }))
    return true
  }

  /** A migration that pre-copied to `target` did not happen: `target` is no replica of the process. */
  undoPrecopy (record: ProcessRecord, target: string, before: string[]): void {
    if (record.replicas?.includes(target) === true && !before.includes(target)) record.replicas = record.replicas.filter(peer => peer !== target)
  }

  /**
   * Asks a replica to make the copy it holds at `basis` (state and mail) the copy of the
   * process's current activation. Answers RESULT_OK, or RESULT_GAP if it holds another copy.
   */
  async rebase (peer: string, record: ProcessRecord, basis: Basis): Promise<number> {
    const { manifest, chunks } = imageToChunks({
      pid: record.pid, app: record.app, appHash: this.init.appHash(record.app), epoch: basis.epoch, seq: basis.seq, state: new Map(), messages: []
    })
    const answer = await this.init.state.pushImage(peer, 'rebase', manifest, chunks, { term: record.epoch.term, counter: record.epoch.counter })
    if (answer[0] === RESULT_STALE) throw this.stale(record)
    return answer[0]
  }

  /**
   * Sends a full copy of a process (state and unread mail) to one replica, as content-addressed
   * chunks; resolves with the batch it holds up to. What changed since the last batch is cut
   * first (and sent to the replicas behind this copy), so that the copy is exactly one version.
   */
  async install (peer: string, record: ProcessRecord): Promise<number> {
    if (hasUncut(record)) this.cut(record).catch(() => {})
    const seq = record.seq
    // the pieces refer to the values as they are now (a value is never changed in place), and the mail is numbered
    const image = imagePieces({
      pid: record.pid,
      app: record.app,
      appHash: this.init.appHash(record.app),
      epoch: record.epoch,
      seq,
      state: record.state,
      messages: (record.mailbox?.unread() ?? []).map(({ id, key, message }) => ({ id, key, from: message.from, data: message.data }))
    })
    const answer = await this.init.state.pushSerialized(peer, 'install', image, {})
    if (answer[0] === RESULT_STALE) throw this.stale(record)
    return seq
  }

  /**
   * A batch (or writes waiting to be cut) that cannot reach enough replicas: the calls that wrote
   * it fail UNAVAILABLE, but the activation's state and mailbox hold it, and its next calls would
   * read it. Answered at once, a read of it could be followed by a restore from the replicas'
   * older copy (a partition's other side): a count the process had shown going back (the
   * flapping-link test). So the activation owes its replicas those writes: every call of it,
   * reads included, waits until each replica holds a full copy (`repay`), and fails UNAVAILABLE
   * while they cannot be reached. It keeps serving once they can: a host on the majority side of
   * a split that cut off its replica goes on with a new replica there, rather than step down
   * (a restore would wait for the other side).
   */
  private unreplicated (record: ProcessRecord, err: unknown): void {
    const error = toPraasError(err)
    if (!this.tracking || error.code !== 'UNAVAILABLE') return
    record.owes = (record.owes ?? 0) + 1
    if (record.owes === 1) this.init.log('writes of %s did not reach enough replicas (%s): its calls wait for full copies on them', record.pid, error.message)
  }

  stale (record: ProcessRecord): PraasError {
    this.init.onStale(record.pid)
    return new PraasError('MOVED', `process ${record.pid} has a newer activation elsewhere`)
  }

  /**
   * A replica failed: choose the replicas again without it, and give the new ones a full copy.
   * With no other live node, the process keeps fewer copies until one joins.
   */
  async reseat (record: ProcessRecord, failed: string): Promise<void> {
    await this.reseatOnce(record, failed)
  }

  private async reseatOnce (record: ProcessRecord, failed: string): Promise<void> {
    if (failed !== '') {
      this.suspects.set(failed, Date.now() + SUSPECT_MS)
      this.init.state.drop(failed)
    }
    let installing = this.installing.get(record)
    if (installing == null) {
      installing = new Map()
      this.installing.set(record, installing)
    }
    // A full copy to the failed replica will not come: nothing waits for it (its own failure
    // reseats through here, and must not wait for itself).
    installing.delete(failed)
    const before = new Set(record.replicas ?? [])
    record.replicas = this.choose(record.pid)
    if (record.replicas.length < this.init.copies - 1) this.init.log('process %s has %d of %d replicas', record.pid, record.replicas.length, this.init.copies - 1)
    for (const peer of record.replicas.filter(peer => !before.has(peer))) {
      const owed = record.owes
      const copy = this.queue(peer, { kind: 'install', record })
      installing.set(peer, copy)
      const done = (): void => { if (installing.get(peer) === copy) installing.delete(peer) }
      copy.then(() => {
        done()
        if (owed == null) return
        let repaid = this.repaid.get(record)
        if (repaid == null) this.repaid.set(record, repaid = new Map())
        repaid.set(peer, owed)
      }, done)
    }
    // Writes that failed on the same replica together all wait for the replacement's copy,
    // whichever of their reseats chose it.
    await Promise.all(record.replicas.flatMap(peer => installing.get(peer) ?? []))
    const needed = this.needed()
    if (record.replicas.length < needed) {
      throw tooFewReplicas(record.pid, record.replicas.length, needed)
    }
  }

  /** Sends `work` to `peer` behind what its link holds; resolves once the replica has it. */
  private async queue (peer: string, work: Work): Promise<void> {
    await new Promise<void>((resolve, reject) => { this.link(peer).push({ ...work, resolve, reject }) })
  }

  private link (peer: string): ReplicaLink {
    let link = this.links.get(peer)
    if (link == null) {
      link = new ReplicaLink(peer, this)
      this.links.set(peer, link)
    }
    return link
  }

  get log (): Logger {
    return this.init.log
  }

  get state (): StateClient {
    return this.init.state
  }
}

/** The queue of batches and full copies bound for one replica, sent one call at a time. */
class ReplicaLink {
  private readonly queue: Item[] = []
  private busy = false
  /** Replication calls on their way: a few at once, so that a batch cut meanwhile need not wait a whole round trip. */
  private readonly inflight = new Set<Promise<void>>()

  constructor (private readonly peer: string, private readonly replicator: Replicator) {}

  push (item: Item): void {
    this.queue.push(item)
    if (!this.busy) void this.pump()
  }

  private async pump (): Promise<void> {
    this.busy = true
    try {
      while (this.queue.length > 0) {
        const first = this.queue[0]
        if (first.kind === 'install' || first.bytes > MAX_INLINE_BATCH_BYTES) {
          this.queue.shift()
          // a full copy follows every batch sent before it
          await Promise.all(this.inflight)
          await this.settle(first, async () => {
            const started = performance.now()
            if (first.kind === 'install' && first.basis != null && await this.replicator.rebase(this.peer, first.record, first.basis) === RESULT_OK) {
              this.replicator.log('replica %s took over its copy of %s', this.peer, first.record.pid)
              return
            }
            await this.replicator.install(this.peer, first.record)
            this.replicator.log('replica %s got a full copy of %s in %d ms', this.peer, first.record.pid, Math.round(performance.now() - started))
          })
          continue
        }
        // Calls are answered in order (the replica applies each as it arrives), and a batch
        // that is applied implies the ones before it (seq), so several may be on their way.
        const call = this.sendBatches(this.takeBatches())
        this.inflight.add(call)
        void call.finally(() => {
          this.inflight.delete(call)
          if (!this.busy && this.queue.length > 0) void this.pump()
        })
        if (this.inflight.size >= CALLS_IN_FLIGHT) await Promise.race(this.inflight)
      }
    } finally {
      this.busy = false
    }
  }

  private takeBatches (): Array<Item & { kind: 'batch' }> {
    const group: Array<Item & { kind: 'batch' }> = []
    let bytes = 0
    while (this.queue.length > 0 && group.length < MAX_BATCHES_PER_CALL) {
      const next = this.queue[0]
      if (next.kind !== 'batch' || next.bytes > MAX_INLINE_BATCH_BYTES || (group.length > 0 && bytes + next.bytes > MAX_REPLICATE_CALL_BYTES)) break
      bytes += next.bytes
      group.push(next)
      this.queue.shift()
    }
    return group
  }

  private async sendBatches (group: Array<Item & { kind: 'batch' }>): Promise<void> {
    let results: number[]
    try {
      const forwards = group.flatMap((item, i) => item.forwards?.map(f => ({ ...f, batch: i })) ?? [])
      const payload = ReplicateRequest.encode({ batches: group.map(item => item.batch), forwards })
      results = decodeReplicateResponse(await this.replicator.state.replicate(this.peer, payload), group.length).results
    } catch (err) {
      await this.failed(group, err)
      return
    }
    for (let i = 0; i < group.length; i++) {
      const item = group[i]
      if (results[i] === RESULT_OK) item.resolve()
      else if (results[i] === RESULT_STALE) item.reject(this.replicator.stale(item.record))
      else if (results[i] === RESULT_REFUSED) item.reject(new PraasError('TOO_LARGE', `replica ${this.peer} cannot hold process ${item.record.pid}`))
      else await this.settle(item, async () => { await this.replicator.install(this.peer, item.record) })
    }
  }

  /** Runs a full copy for an item; a failing replica is replaced, a stale activation steps down. */
  private async settle (item: Item, task: () => Promise<void>): Promise<void> {
    try {
      await task()
      item.resolve()
    } catch (err) {
      await this.failed([item], err)
    }
  }

  private async failed (items: Item[], err: unknown): Promise<void> {
    const error = toPraasError(err)
    if (error.code === 'MOVED') {
      for (const item of items) item.reject(error)
      return
    }
    // The replica is gone or broken: the items' processes get new replicas (each with a full copy, which holds these writes).
    const records = new Set(items.map(item => item.record))
    for (const record of records) {
      try {
        await this.replicator.reseat(record, this.peer)
      } catch (reseatErr) {
        for (const item of items) if (item.record === record) item.reject(toPraasError(reseatErr))
      }
    }
    for (const item of items) item.resolve()
  }
}
