import { PraasError } from '../../protocol/index.js'
import { FunctionWorker } from './function-worker.js'
import type { CallRecord } from './function-worker.js'
import type { ContextOp } from './worker-messages.js'
import type { Logger } from '@libp2p/interface'
import type { ResourceLimits } from 'node:worker_threads'

/** How long a worker has to answer a ping before a timed-out call counts as runaway code. */
const RESPONSIVE_WITHIN_MS = 100

export interface PoolInit {
  app: string
  modulePath: string
  maxWorkers: number
  resourceLimits: ResourceLimits
  log: Logger
  onOp(pid: string, request: ContextOp, signal: AbortSignal): Promise<unknown>
}

export interface RunOptions {
  timeoutMs: number
  signal?: AbortSignal
}

let nextCallId = 1

/** An AbortController made on first use: most calls make no ctx call that waits. */
class CallSignal {
  private controller?: AbortController
  private reason?: unknown

  get signal (): AbortSignal {
    if (this.controller == null) {
      this.controller = new AbortController()
      if (this.reason !== undefined) this.controller.abort(this.reason)
    }
    return this.controller.signal
  }

  abort (reason: unknown): void {
    if (this.controller != null) this.controller.abort(reason)
    else this.reason = reason
  }
}

/**
 * The warm workers of one app version. Any idle worker runs any invocation of any of the app's
 * processes; when none is idle and the pool is below its size another is started. A call past
 * its time limit fails with TIMEOUT; if its worker's event loop is stuck too (runaway code),
 * the worker is terminated, failing only the calls it held, and replaced on demand.
 */
export class WorkerPool {
  private readonly workers: FunctionWorker[] = []
  /** Per running call: the signal its ctx calls wait on, made only when a ctx call needs one. */
  private readonly signals = new Map<number, CallSignal>()
  /** Workers whose call just timed out, left out of scheduling until they answer a ping. */
  private readonly suspects = new Set<FunctionWorker>()
  private retired = false
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
      onOp: async (call, request) => {
        const signal = this.signals.get(call.id)?.signal ?? AbortSignal.abort()
        return await this.init.onOp(call.pid, request, signal)
      },
      onExit: (gone) => {
        const index = this.workers.indexOf(gone)
        if (index >= 0) this.workers.splice(index, 1)
      }
    })
    this.workers.push(worker)
    return worker
  }

  /**
   * An idle worker if there is one, else a new one while the pool is below its size, else the
   * least busy. Returns synchronously when it can, so that a call reaches its worker within the
   * event that brought it, before the network stack finishes its own work.
   */
  private pick (): FunctionWorker | Promise<FunctionWorker> {
    const live = this.workers.filter(w => w.alive && !this.suspects.has(w))
    const idle = live.find(w => w.load === 0)
    if (idle != null) return idle
    if (live.length < this.init.maxWorkers) {
      const worker = this.spawn()
      return worker.ready.then(() => worker)
    }
    if (live.length === 0) throw new PraasError('UNAVAILABLE', `every worker of app ${this.init.app} is busy past its limit`)
    return live.reduce((a, b) => (b.load < a.load ? b : a))
  }

  async run (pid: string, fn: string, payload: Uint8Array, options: RunOptions): Promise<Uint8Array> {
    if (this.retired) throw new PraasError('UNAVAILABLE', `app ${this.init.app} was replaced`)
    options.signal?.throwIfAborted()
    const picked = this.pick()
    const worker = picked instanceof FunctionWorker ? picked : await picked
    const id = nextCallId++
    const controller = new CallSignal()
    this.signals.set(id, controller)
    const { promise, resolve, reject } = Promise.withResolvers<Uint8Array>()
    const call: CallRecord = { id, pid, resolve, reject }
    const stop = (reason: PraasError): void => {
      if (!worker.calls.has(id)) return
      worker.forget(id)
      controller.abort(reason)
      reject(reason)
      void this.stopIfStuck(worker)
    }
    const timer = setTimeout(() => {
      stop(new PraasError('TIMEOUT', `${fn} ran past its time limit of ${options.timeoutMs} ms`))
    }, options.timeoutMs)
    const onAbort = (): void => { stop(new PraasError('TIMEOUT', `${fn} was cancelled by its caller`)) }
    options.signal?.addEventListener('abort', onAbort, { once: true })
    worker.start(call, fn, this.init.app, payload)
    try {
      return await promise
    } finally {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
      this.signals.delete(id)
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
      this.signals.get(call.id)?.abort(error)
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
