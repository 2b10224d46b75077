import { Cancellation, onAbort, PraasError, throwIfAborted } from '../../protocol/index.js'
import type { PollerSlots } from './doorbell.js'
import { NO_SLOT } from './state-versions.js'
import type { StateSlot } from './state-versions.js'
import { FunctionWorker } from './function-worker.js'
import type { CallRecord } from './function-worker.js'
import type { ContextOp } from './worker-messages.js'
import type { AbortOptions, Logger } from '@libp2p/interface'
import type { ResourceLimits } from 'node:worker_threads'

/** How long a worker has to answer a ping before a timed-out call counts as runaway code. */
const RESPONSIVE_WITHIN_MS = 100

export interface PoolInit {
  app: string
  modulePath: string
  maxWorkers: number
  resourceLimits: ResourceLimits
  /** How long a worker polls for its next call after its last one ended (doorbell.ts); 0: never. */
  hotSpinMs?: number
  /** The node's polling slots, shared by every worker of every app (doorbell.ts). */
  pollers?: PollerSlots
  /** The node's state write counters (state-versions.ts): with them, workers cache state reads. */
  stateVersions?: SharedArrayBuffer
  log: Logger
  /** `cancel.signal` is made only when read: most ctx calls (state reads and writes) never wait on it. */
  onOp(pid: string, request: ContextOp, cancel: { readonly signal: AbortSignal }): Promise<unknown>
}

let nextCallId = 1

/**
 * Calls in a row that each ran alone (no other call of the app started or ran during it) before
 * the pool takes its caller for a sequential one, whose workers may poll (`solo`, doorbell.ts).
 * A burst of calls from a busy client can begin with a call that starts alone; polling then
 * took a core from the threads that feed the burst (a fifth of the throughput at 64 in flight).
 */
const ALONE_STREAK = 3

/**
 * The warm workers of one app version. Any idle worker runs any invocation of any of the app's
 * processes; when none is idle and the pool is below its size another is started. A call past
 * its time limit fails with TIMEOUT; if its worker's event loop is stuck too (runaway code),
 * the worker is terminated, failing only the calls it held, and replaced on demand.
 */
export class WorkerPool {
  private readonly workers: FunctionWorker[] = []
  /** Workers whose call just timed out, left out of scheduling until they answer a ping. */
  private readonly suspects = new Set<FunctionWorker>()
  private retired = false
  /** Calls started, and how many calls in a row ran alone (see ALONE_STREAK). */
  private started = 0
  private aloneStreak = 0
  functions: string[] = []

  constructor (private readonly init: PoolInit) {}

  /** Starts the first worker and resolves with the app's function names once it loaded. */
  async warm (): Promise<string[]> {
    const worker = this.spawn()
    this.functions = await worker.ready
    return this.functions
  }

  private spawn (): FunctionWorker {
    const worker = new FunctionWorker(this.init.modulePath, this.init.resourceLimits, {
      onOp: async (call, request) => await this.init.onOp(call.pid, request, call.cancellation),
      onExit: (gone) => {
        const index = this.workers.indexOf(gone)
        if (index >= 0) this.workers.splice(index, 1)
      }
    }, this.init.hotSpinMs, this.init.pollers, this.init.stateVersions)
    this.workers.push(worker)
    return worker
  }

  /**
   * An idle worker if there is one, else a new one while the pool is below its size, else the
   * least busy. Returns synchronously when it can, so that a call reaches its worker within the
   * event that brought it, before the network stack finishes its own work.
   */
  private pick (): FunctionWorker | Promise<FunctionWorker> {
    let live = 0
    let leastBusy: FunctionWorker | undefined
    for (const worker of this.workers) {
      if (!worker.alive || this.suspects.has(worker)) continue
      if (worker.load === 0) return worker
      live++
      if (leastBusy == null || worker.load < leastBusy.load) leastBusy = worker
    }
    if (live < this.init.maxWorkers) {
      const worker = this.spawn()
      return worker.ready.then(() => worker)
    }
    if (leastBusy == null) throw new PraasError('UNAVAILABLE', `every worker of app ${this.init.app} is busy past its limit`)
    return leastBusy
  }

  /**
   * Runs `fn` on a worker within `timeoutMs`. `options` is only listened to (onAbort), so a
   * Cancellation passed as options never has to make its AbortSignal.
   */
  async run (pid: string, fn: string, payload: Uint8Array, timeoutMs: number, options: AbortOptions = {}, state: StateSlot = NO_SLOT): Promise<Uint8Array> {
    if (this.retired) throw new PraasError('UNAVAILABLE', `app ${this.init.app} was replaced`)
    throwIfAborted(options)
    const picked = this.pick()
    const worker = picked instanceof FunctionWorker ? picked : await picked
    const { promise, resolve, reject } = Promise.withResolvers<Uint8Array>()
    // the signal its ctx calls wait on is made only when a ctx call needs one
    const call: CallRecord = { id: nextCallId++, pid, resolve, reject, cancellation: new Cancellation() }
    const stop = (reason: PraasError): void => {
      if (!worker.calls.has(call.id)) return
      worker.forget(call.id)
      call.cancellation.abort(reason)
      reject(reason)
      void this.stopIfStuck(worker)
    }
    const timer = setTimeout(() => {
      stop(new PraasError('TIMEOUT', `${fn} ran past its time limit of ${timeoutMs} ms`))
    }, timeoutMs)
    const unlisten = onAbort(options, () => { stop(new PraasError('TIMEOUT', `${fn} was cancelled by its caller`)) })
    const alone = this.workers.every(w => w.load === 0)
    const startedBefore = this.started++
    if (!alone) this.aloneStreak = 0
    worker.start(call, fn, this.init.app, payload, alone && this.aloneStreak >= ALONE_STREAK, state)
    try {
      return await promise
    } finally {
      clearTimeout(timer)
      unlisten()
      if (alone && this.started === startedBefore + 1) this.aloneStreak++
      else this.aloneStreak = 0
    }
  }

  private async stopIfStuck (worker: FunctionWorker): Promise<void> {
    if (this.suspects.has(worker)) return
    this.suspects.add(worker)
    const responsive = await worker.responsive(RESPONSIVE_WITHIN_MS)
    this.suspects.delete(worker)
    if (responsive) return
    this.init.log('terminating a stuck worker of app %s holding %d calls', this.init.app, worker.load)
    const error = new PraasError('TIMEOUT', 'the function worker was stopped: runaway code past its time limit')
    for (const call of worker.calls.values()) {
      worker.forget(call.id)
      call.cancellation.abort(error)
      call.reject(error)
    }
    await worker.terminate()
  }

  get size (): number {
    return this.workers.length
  }

  /** Stops taking calls; workers end once their running calls are done. */
  async retire (): Promise<void> {
    this.retired = true
    const deadline = Date.now() + 60_000
    while (this.workers.some(w => w.load > 0) && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    await this.stop()
  }

  async stop (): Promise<void> {
    this.retired = true
    await Promise.all(this.workers.map(async w => { await w.terminate() }))
    this.workers.length = 0
  }
}
