import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads'
import type { MessagePort } from 'node:worker_threads'
import { PraasError } from '../../protocol/index.js'
import type { Cancellation } from '../../protocol/index.js'
import { markFresh } from '../../protocol/fresh-bytes.js'
import { Doorbell, PollerSlots } from './doorbell.js'
import { exactBytes } from './exact-bytes.js'
import { forTransfer } from './transfer.js'
import { TurnBatcher } from './turn-batcher.js'
import { NO_SLOT } from './state-versions.js'
import type { StateSlot } from './state-versions.js'
import type { ContextOp, FromWorker, ToWorker, WorkerInit } from './worker-messages.js'
import type { ResourceLimits } from 'node:worker_threads'

const WORKER_URL = new URL('./worker.js', import.meta.url)

/**
 * Op results that carry bytes (state values, invoke results, received messages), made exact, and
 * moved rather than cloned where that is safe and cheaper (transfer.ts): a state value is never
 * moved (the state keeps it), a received message is when it is fresh (it left the mailbox).
 */
function exactValue (value: unknown, transfer: ArrayBuffer[]): unknown {
  if (value instanceof Uint8Array) return forTransfer(exactBytes(value), transfer)
  const message = value as { from?: unknown, data?: unknown } | null
  if (message?.data instanceof Uint8Array) return { from: message.from, data: forTransfer(exactBytes(message.data), transfer) }
  return value
}

/**
 * The bytes of a ctx call arrive in a buffer of their own, made by postMessage for this thread.
 * Those of `send` and `invoke` go on to exactly one owner (a mailbox, a call, the network), so
 * they are marked fresh and may move on to a worker by transfer; a `put` value stays in the state
 * and is read again by every `get`, so it is not.
 */
function markOwned (request: ContextOp): void {
  if (request.op === 'send' || request.op === 'invoke') markFresh(request.data)
}

export interface CallRecord {
  id: number
  pid: string
  resolve(payload: Uint8Array): void
  reject(err: PraasError): void
  /** Aborted when the call ends early (timeout, cancel, its worker stopped): its ctx calls stop waiting. */
  cancellation: Cancellation
}

export interface WorkerEvents {
  /** A ctx call from a running invocation. */
  onOp(call: CallRecord, request: ContextOp): Promise<unknown>
  /** The worker is gone (terminated, crashed, or out of memory). */
  onExit(worker: FunctionWorker): void
}

/**
 * One worker thread running one app version's code. It may run many invocations at once
 * (they interleave at every await); the controller tracks which calls it holds, so that
 * terminating it fails exactly those.
 */
export class FunctionWorker {
  readonly calls = new Map<number, CallRecord>()
  readonly ready: Promise<string[]>
  private readonly worker: Worker
  private readonly bell?: Doorbell
  /** What the worker sends this side arrives on `replies`, and rings `replyBell`. */
  private readonly replies: MessagePort
  private readonly replyBell = new Doorbell()
  private readonly onReplies: (batch: unknown) => void
  private readonly pongs = new Map<number, () => void>()
  private nextPing = 1
  private exited = false
  /** The call that started alone on the node (`solo`) and is not answered yet, and when it started. */
  private soloCall?: { id: number, startedAt: number }
  /** How long the last solo call took, start to answer, in ms. */
  private lastSoloMs = Number.POSITIVE_INFINITY

  constructor (modulePath: string, resourceLimits: ResourceLimits, private readonly events: WorkerEvents, private readonly hotSpinMs = 0, private readonly pollers = new PollerSlots(), stateVersions?: SharedArrayBuffer) {
    if (hotSpinMs > 0) this.bell = new Doorbell()
    const { port1, port2 } = new MessageChannel()
    this.replies = port1
    const workerData: WorkerInit = { modulePath, bell: this.bell?.buffer ?? new SharedArrayBuffer(4), hotSpinMs, pollers: pollers.buffer, maxPollers: pollers.max, replies: port2, replyBell: this.replyBell.buffer, stateVersions }
    this.worker = new Worker(WORKER_URL, { workerData, transferList: [port2], resourceLimits, stdout: false, stderr: false })
    // -1 once the thread is gone, which may be before 'exit'
    const threadId = this.worker.threadId
    const { promise, resolve, reject } = Promise.withResolvers<string[]>()
    this.ready = promise
    this.ready.catch(() => {})
    const onMessage = (message: FromWorker): void => {
      switch (message.t) {
        case 'ready': resolve(message.functions); break
        case 'loadError': reject(new PraasError('BAD_REQUEST', `the app module does not load: ${message.message}`)); void this.terminate(); break
        case 'result': this.settle(message.id)?.resolve(message.payload); break
        case 'error': this.settle(message.id)?.reject(new PraasError(message.code, message.message)); break
        case 'pong': this.pongs.get(message.seq)?.(); break
        case 'op': this.onOp(message.id, message.opId, message.request); break
      }
    }
    this.onReplies = (batch) => { for (const message of batch as FromWorker[]) onMessage(message) }
    this.replies.on('message', this.onReplies)
    this.worker.on('error', (err) => { reject(new PraasError('BAD_REQUEST', `the app module failed: ${err.message}`)) })
    this.worker.on('exit', () => {
      this.exited = true
      // a worker terminated while it polled gives its slot back here; what it posted last is handled first
      pollers.releaseHeldBy(threadId)
      for (let left = receiveMessageOnPort(this.replies); left !== undefined; left = receiveMessageOnPort(this.replies)) this.onReplies(left.message)
      this.replies.close()
      reject(new PraasError('BAD_REQUEST', 'the app worker exited before it was ready'))
      const error = new PraasError('FUNCTION_ERROR', 'the function worker exited (crash or memory limit)')
      for (const call of this.calls.values()) call.reject(error)
      this.calls.clear()
      this.events.onExit(this)
    })
  }

  get alive (): boolean {
    return !this.exited
  }

  get load (): number {
    return this.calls.size
  }

  start (call: CallRecord, fn: string, app: string, payload: Uint8Array, solo = false, state: StateSlot = NO_SLOT): void {
    this.calls.set(call.id, call)
    const transfer: ArrayBuffer[] = []
    this.post({ t: 'call', id: call.id, pid: call.pid, app, fn, payload: forTransfer(exactBytes(payload), transfer), solo, slot: state.slot, inc: state.inc }, transfer)
    if (!solo || this.bell == null) return
    this.soloCall = { id: call.id, startedAt: performance.now() }
    // A call that ran alone and answered quickly last time likely does again: rather than sleep
    // and be woken by its result (a thread wake-up, 40-60 us on a small VM), poll for it once this
    // turn's work is done, at most twice as long as the last one took.
    if (this.lastSoloMs <= this.hotSpinMs && this.pollers.max > 0) {
      const until = performance.now() + Math.min(this.hotSpinMs, 2 * this.lastSoloMs)
      setImmediate(() => { this.pollReply(call.id, until) })
    }
  }

  /** Polls for the replies of the worker while call `id` waits and `until` has not passed; stops at the first delivery. */
  private pollReply (id: number, until: number): void {
    this.outbox.flush()
    while (!this.exited && this.calls.has(id)) {
      const left = until - performance.now()
      if (left <= 0 || this.replyBell.spin(this.replies, left, this.onReplies) > 0) return
    }
  }

  /** Forgets a call (it timed out or was cancelled): its late result and ctx calls are refused. */
  forget (id: number): void {
    this.calls.delete(id)
    if (this.soloCall?.id === id) {
      this.soloCall = undefined
      this.lastSoloMs = Number.POSITIVE_INFINITY
    }
  }

  private settle (id: number): CallRecord | undefined {
    const call = this.calls.get(id)
    this.calls.delete(id)
    if (this.soloCall?.id === id) {
      this.lastSoloMs = performance.now() - this.soloCall.startedAt
      this.soloCall = undefined
    }
    return call
  }

  private onOp (id: number, opId: number, request: ContextOp): void {
    const call = this.calls.get(id)
    if (call == null) {
      this.post({ t: 'opError', opId, code: 'TIMEOUT', message: 'the invocation has ended' })
      return
    }
    markOwned(request)
    this.events.onOp(call, request).then(
      (value) => {
        const transfer: ArrayBuffer[] = []
        this.post({ t: 'opResult', opId, value: exactValue(value, transfer) }, transfer)
      },
      (err: PraasError) => { this.post({ t: 'opError', opId, code: err.code ?? 'UNAVAILABLE', message: err.message }) }
    )
  }

  /** Resolves true when the worker's event loop answers within `ms`, false when it is stuck. */
  async responsive (ms: number): Promise<boolean> {
    if (this.exited) return false
    const seq = this.nextPing++
    const { promise, resolve } = Promise.withResolvers<boolean>()
    const timer = setTimeout(() => { resolve(false) }, ms)
    this.pongs.set(seq, () => { clearTimeout(timer); resolve(true) })
    this.post({ t: 'ping', seq })
    try {
      return await promise
    } finally {
      this.pongs.delete(seq)
    }
  }

  private readonly outbox = new TurnBatcher<ToWorker>((batch, transfer) => {
    if (this.exited) return
    this.worker.postMessage(batch, transfer)
    this.bell?.ring()
  })

  private post (message: ToWorker, transfer?: ArrayBuffer[]): void {
    if (!this.exited) this.outbox.push(message, transfer != null && transfer.length > 0 ? transfer : undefined)
  }

  async terminate (): Promise<void> {
    if (this.exited) return
    await this.worker.terminate()
  }
}
