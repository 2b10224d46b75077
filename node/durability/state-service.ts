import { PraasError, WriteBatch, decodeReplicateRequest, decodeStateRequest, ReplicateResponse } from '../../protocol/index.js'
import { exactBytes, storedBytes } from '../runtime/index.js'
import { checkChunk, compareEpoch, compareVersion, decodeManifest, encodeManifest, imageFromChunks, imageToChunks, sha256 } from '../storage/index.js'
import { RESULT_GAP, RESULT_OK, RESULT_REFUSED, RESULT_STALE } from './replicator.js'
import type { InvokeRequest, PushedResult } from '../../protocol/index.js'
import type { ActivationEpoch, ApplyResult, ImageManifest, ImageStore, ProcessImage, ReplicaStore } from '../storage/index.js'
import type { Runtime } from '../runtime/index.js'
import type { CopyHere } from './lifecycle.js'
import type { Logger } from '@libp2p/interface'

/** Chunks received and not yet used, at most (bytes), and how long one waits for its image. */
const MAX_STAGED_BYTES = 1024 * 1024 * 1024
const STAGED_TTL_MS = 120_000
/** Images prepared for `fetch` (a restore reads the chunks next), and for how long. */
const MAX_EXPORTS = 8
const EXPORT_TTL_MS = 60_000
const SWEEP_INTERVAL_MS = 10_000

export interface StateServiceInit {
  runtime: Runtime
  images: ImageStore
  replicas: ReplicaStore
  /** Activates a process moved or restored to this node (migration target). */
  activate(image: ProcessImage, epoch: ActivationEpoch, holders: string[], options: { seedFirst?: boolean }): Promise<void>
  /** The newest copy of a process this node holds (swap image, replica, or the live process). */
  newestCopy(pid: string): Promise<ProcessImage | undefined>
  /** Which copy that is, without reading it. */
  /** Which copy of `pid` is here; with `fence`, a copy not active here is fenced before this answers. */
  copyHere(pid: string, fence?: { term: number, counter: number }): Promise<CopyHere | undefined>
  /** A newer activation of `pid` exists: drop older copies here, and step down if it runs here. */
  fence(pid: string, epoch: { term: number, counter: number }): Promise<void>
  /** The activation of `pid` here is older than one elsewhere: stop serving and advertising it. */
  stepDown(pid: string): void
  /** Pushes a call's result to its client, if the client opened a result stream here (protocol/results.ts). */
  pushResult?(client: string, pushed: PushedResult): void
  log: Logger
}

const EMPTY = new Uint8Array(0)

/**
 * The serving side of /praas/state/1.0.0, between nodes only: replication batches, full copies
 * (install), the chunks of images (checked against their hash on arrival), a moved process's
 * activation, and reads of the copies this node holds for a restore elsewhere.
 */
export class StateService {
  /** Chunks by hash, with how many images that are on their way still need each (two may share one). */
  private readonly staged = new Map<string, { bytes: Uint8Array, at: number, uses: number }>()
  private stagedBytes = 0
  private readonly exports = new Map<string, { manifest: ImageManifest, chunks: Map<string, Uint8Array>, at: number }>()

  private readonly sweeper: ReturnType<typeof setInterval>

  constructor (private readonly init: StateServiceInit) {
    // chunks whose image never came, and prepared images nobody reads any more, do not stay
    this.sweeper = setInterval(() => { this.sweep() }, SWEEP_INTERVAL_MS)
    this.sweeper.unref()
  }

  stop (): void {
    clearInterval(this.sweeper)
    this.staged.clear()
    this.stagedBytes = 0
    this.exports.clear()
  }

  private sweep (): void {
    const now = Date.now()
    for (const [hash, entry] of this.staged) if (now - entry.at >= STAGED_TTL_MS) this.unstage(hash, true)
    for (const [pid, entry] of this.exports) if (now - entry.at > EXPORT_TTL_MS) this.exports.delete(pid)
  }

  async handle (request: InvokeRequest): Promise<Uint8Array> {
    switch (request.fn) {
      case 'replicate': return this.replicate(request.payload)
      case 'chunk': return this.stage(request.key ?? '', request.payload)
      case 'install': {
        const { image } = this.assemble(request.payload)
        return Uint8Array.of(this.init.replicas.install(image) === 'stale' ? RESULT_STALE : RESULT_OK)
      }
      case 'rebase': {
        // the image carries nothing but its epoch and seq: they name the copy to take over
        const { image, state } = this.assemble(request.payload)
        const basis = { epoch: image.epoch, seq: image.seq }
        const to = { term: state.term, counter: state.counter }
        let result = this.init.replicas.rebase(image.pid, basis, to)
        if (result === 'gap') result = await this.rebaseFromImage(image.pid, basis, to)
        return Uint8Array.of(result === 'ok' ? RESULT_OK : result === 'stale' ? RESULT_STALE : RESULT_GAP)
      }
      case 'activate': {
        const { image, state } = this.assemble(request.payload)
        const whole = state.fromReplica ? this.withReplicaState(image) : image
        if (whole == null) return Uint8Array.of(RESULT_GAP)
        await this.init.activate(whole, { term: state.term, counter: state.counter, grant: state.grant }, state.holders, { seedFirst: true })
        return EMPTY
      }
      case 'probe': return await this.probe(request.pid, request.payload.byteLength > 0 ? decodeStateRequest(request.payload) : undefined)
      case 'fetch': return await this.export(request.pid)
      case 'fetch-chunk': return this.exported(request.pid, request.key ?? '')
      case 'fence': {
        const state = decodeStateRequest(request.payload)
        await this.init.fence(request.pid, { term: state.term, counter: state.counter })
        return EMPTY
      }
      default: throw new PraasError('BAD_REQUEST', `unknown state operation ${request.fn}`)
    }
  }

  /**
   * A migrating process's image from this node's replica of exactly the version `head` names
   * (the pre-copy): its state and its unread mail; undefined if the replica is another version.
   */
  private withReplicaState (head: ProcessImage): ProcessImage | undefined {
    const replica = this.init.replicas.get(head.pid)
    if (replica == null || compareVersion(replica, head) !== 0) return undefined
    return replica
  }

  /**
   * A rebase onto this node's swap image of exactly that copy: the process was swapped here and
   * brought back on another node, which now makes this node its replica. The image on disk
   * becomes the replica (read and checked here), rather than the same bytes crossing the network
   * as a full copy; once the replica log holds it, synced, the image goes.
   */
  private async rebaseFromImage (pid: string, basis: { epoch: ActivationEpoch, seq: number }, to: ActivationEpoch): Promise<ApplyResult> {
    const stored = await this.init.images.manifest(pid)
    if (stored == null || compareVersion(stored, basis) !== 0 || compareEpoch(to, basis.epoch) < 0) return 'gap'
    const image = await this.init.images.load(pid).catch(() => undefined)
    if (image == null || compareVersion(image, basis) !== 0) return 'gap'
    const result = this.init.replicas.install({ ...image, epoch: to })
    if (result === 'ok') {
      this.init.log('the swap image of %s here is its replica now', pid)
      void this.init.replicas.flush().then(async () => {
        const still = await this.init.images.manifest(pid)
        if (still != null && compareVersion(still, basis) === 0) await this.init.images.delete(pid)
      }).catch((err: Error) => { this.init.log('keeping the swap image of %s: %s', pid, err.message) })
    }
    return result
  }

  /** A replication call (a ReplicateRequest, as a state call): one result per batch. */
  private replicate (payload: Uint8Array): Uint8Array {
    const { answer, apply } = this.replicateLater(payload)
    apply()
    return answer
  }

  /**
   * A replication call (/praas/replicate/1.0.0): its answer, one result per batch, and the changes
   * the answer promises, to make before anything else touches the replica store (the channel makes
   * them just after the answer left, in the same turn). Batches of one call that follow one another
   * see each other's changes: only the last one waits.
   */
  replicateLater (payload: Uint8Array, host?: string): { answer: Uint8Array, apply: () => void } {
    const { batches, forwards } = decodeReplicateRequest(payload)
    let last: (() => void) | undefined
    const results = batches.map((batch, i) => {
      const { result, commit } = this.prepareOne(batch)
      if (i < batches.length - 1) commit?.()
      else last = commit
      return result
    })
    // this node holds these calls' writes now: their callers hear it from here first, one hop
    // before the host, which hears it from this answer
    if (host != null && this.init.pushResult != null) {
      for (const f of forwards) {
        if (results[f.batch] === RESULT_OK) this.init.pushResult(f.client, { host, call: f.call, result: f.result, copies: f.copies })
      }
    }
    return { answer: ReplicateResponse.encode({ results }), apply: () => { last?.() } }
  }

  private prepareOne (batch: WriteBatch): { result: number, commit?: () => void } {
    const epoch = { term: batch.term, counter: batch.counter }
    // One activation per pid: a batch of a newer activation than one running here means this one is stale.
    const running = this.init.runtime.get(batch.pid)
    if (running != null && running.gate == null) {
      const order = compareEpoch(epoch, running.epoch)
      if (order < 0) return { result: RESULT_STALE }
      if (order > 0) {
        this.init.log('process %s runs with epoch %d.%d elsewhere: stepping down', batch.pid, batch.term, batch.counter)
        this.init.stepDown(batch.pid)
      }
    }
    let prepared
    try {
      prepared = this.init.replicas.prepare({
        pid: batch.pid,
        app: batch.app,
        appHash: batch.appHash,
        epoch,
        seq: batch.seq,
        ops: batch.ops.map(op => ({ key: op.key, value: op.value == null ? undefined : storedBytes(op.value) })),
        puts: batch.puts.map(m => ({ id: m.id, key: m.key, from: m.from, data: storedBytes(m.data) })),
        takes: batch.takes
      })
    } catch (err) {
      // A process grown past what a replica holds: this batch only, the others of the call stand.
      // Anything else (the replica log cannot write) fails the call: the host finds another replica.
      if ((err as PraasError).code !== 'TOO_LARGE') throw err
      this.init.log('batch %d of %s refused: %s', batch.seq, batch.pid, (err as Error).message)
      return { result: RESULT_REFUSED }
    }
    const { result, commit } = prepared
    return { result: result === 'ok' ? RESULT_OK : result === 'stale' ? RESULT_STALE : RESULT_GAP, commit }
  }

  /** Keeps a received chunk (checked against its hash) until the call that uses it arrives. */
  private stage (hash: string, payload: Uint8Array): Uint8Array {
    checkChunk(hash, payload)
    return this.stageHashed(hash, payload)
  }

  /** Keeps a chunk of a chunk stream (a buffer of its own), under the hash computed here as it arrived. */
  stageChunk (chunk: Uint8Array): void {
    this.stageHashed(sha256(chunk), chunk, false)
  }

  /** Room for chunks now, in bytes. */
  get stageRoom (): number {
    return MAX_STAGED_BYTES - this.stagedBytes
  }

  private stageHashed (hash: string, payload: Uint8Array, copy = true): Uint8Array {
    const now = Date.now()
    for (const [key, entry] of this.staged) {
      if (now - entry.at >= STAGED_TTL_MS) this.unstage(key, true)
    }
    const held = this.staged.get(hash)
    if (held != null) {
      held.uses++
      held.at = now
      return EMPTY
    }
    if (this.stagedBytes + payload.byteLength > MAX_STAGED_BYTES) throw new PraasError('UNAVAILABLE', 'too many image chunks wait on this node')
    this.staged.set(hash, { bytes: copy ? exactBytes(payload) : payload, at: now, uses: 1 })
    this.stagedBytes += payload.byteLength
    return EMPTY
  }

  /** One image used the chunk (or, `all`, it waited too long): it goes once no image on its way needs it. */
  private unstage (hash: string, all = false): void {
    const entry = this.staged.get(hash)
    if (entry == null) return
    if (!all && --entry.uses > 0) return
    this.staged.delete(hash)
    this.stagedBytes -= entry.bytes.byteLength
  }

  /** The image a state request names, from the chunks staged for it (each checked again by imageFromChunks). */
  private assemble (payload: Uint8Array): { image: ProcessImage, state: ReturnType<typeof decodeStateRequest> } {
    const state = decodeStateRequest(payload)
    const manifest = decodeManifest(state.manifest)
    if (state.chunks.length > 0) {
      // a small image, carried in the call
      if (state.chunks.length !== manifest.chunks.length) throw new PraasError('BAD_REQUEST', `${state.chunks.length} chunks came with a manifest of ${manifest.chunks.length}`)
      state.chunks.forEach((chunk, i) => { checkChunk(manifest.chunks[i], chunk) })
      return { image: imageFromChunks(manifest, state.chunks, true), state }
    }
    const chunks = manifest.chunks.map(hash => {
      const entry = this.staged.get(hash)
      if (entry == null) throw new PraasError('BAD_REQUEST', `chunk ${hash} of ${manifest.pid}'s image never arrived`)
      return entry.bytes
    })
    // every staged chunk was checked against its hash as it arrived
    const image = imageFromChunks(manifest, chunks, true)
    for (const hash of manifest.chunks) this.unstage(hash)
    return { image, state }
  }

  /** Which activation and batch of `pid` this node holds (NOT_FOUND: none). */
  /**
   * Which copy of `pid` this node holds. With `fence` (a restore's new epoch), a copy that is not
   * active here is fenced first: batches of older activations are refused from then on.
   */
  private async probe (pid: string, fence?: { term: number, counter: number }): Promise<Uint8Array> {
    const here = await this.init.copyHere(pid, fence)
    if (here == null) throw new PraasError('NOT_FOUND', `no copy of ${pid} here`)
    const { version: copy, active, inMemory } = here
    return WriteBatch.encode({ pid, app: copy.app, appHash: copy.appHash, term: copy.epoch.term, counter: copy.epoch.counter, seq: copy.seq, ops: [], active, inMemory })
  }

  /** Prepares the newest copy of `pid` for a restore elsewhere: its manifest now, its chunks by hash next. */
  private async export (pid: string): Promise<Uint8Array> {
    const copy = await this.init.newestCopy(pid)
    if (copy == null) throw new PraasError('NOT_FOUND', `no copy of ${pid} here`)
    const { manifest, chunks } = imageToChunks(copy)
    const now = Date.now()
    for (const [key, entry] of this.exports) if (now - entry.at > EXPORT_TTL_MS) this.exports.delete(key)
    if (this.exports.size >= MAX_EXPORTS) this.exports.delete(this.exports.keys().next().value!)
    this.exports.set(pid, { manifest, chunks: new Map(manifest.chunks.map((hash, i) => [hash, chunks[i]])), at: now })
    return encodeManifest(manifest)
  }

  private exported (pid: string, hash: string): Uint8Array {
    const chunk = this.exports.get(pid)?.chunks.get(hash)
    if (chunk == null) throw new PraasError('NOT_FOUND', `chunk ${hash} of ${pid} is not prepared here`)
    return chunk
  }
}
