// A function worker: loads one app module and runs its exported functions on behalf of the
// controller. Every ctx call is a message to the controller, but for state reads it can answer
// from what it read before, while the process's write counter says nothing changed since.
import '../../protocol/polyfill.js'
import { parentPort, threadId, workerData } from 'node:worker_threads'
import { pathToFileURL } from 'node:url'
import { PraasError, isErrorCode, MAX_PAYLOAD_BYTES } from '../../protocol/index.js'
import { markFresh } from '../../protocol/fresh-bytes.js'
import { Doorbell, PollerSlots } from './doorbell.js'
import { exactBytes } from './exact-bytes.js'
import { forTransfer } from './transfer.js'
import { TurnBatcher } from './turn-batcher.js'
import type { ContextOp, FromWorker, ToWorker, WorkerInit } from './worker-messages.js'
import type { Context } from '../../sdk/context.js'

type AppFunction = (input: Uint8Array, ctx: Context) => unknown

const port = parentPort!
const init = workerData as WorkerInit
const encoder = new TextEncoder()
const pendingOps = new Map<number, { resolve(value: unknown): void, reject(err: Error): void, sentAt: number }>()
let nextOpId = 1

/**
 * A hot worker polls its doorbell (doorbell.ts) instead of sleeping in its event loop, for at
 * most init.hotSpinMs, at two moments when the next message is likely a round trip away:
 * - after its last call ended, for the next call of a sequential caller: only when that call
 *   was `solo` (the pool saw its caller make calls one at a time, worker-pool.ts), since under
 *   concurrent load the poll would take a core from the threads that feed it;
 * - while its only call waits for the answer to a ctx call that came quickly last time (a state
 *   read, a message from a process on the same node): whatever else runs, such a wait is short.
 * Both adapt: the worker polls only when the same wait, the last time, ended within the window
 * (a poll that would have caught it), so a caller who comes back every few seconds, or a `recv`
 * that waits long, costs one missed poll and then none. It polls in slices of SPIN_SLICE_MS with a turn of its event loop in between,
 * so the app's own timers and I/O are late by at most a slice.
 */
const SPIN_SLICE_MS = 2
const bell = new Doorbell(init.bell)
const pollers = new PollerSlots(init.pollers, init.maxPollers, threadId)
/** Calls started and not yet answered. */
let running = 0
let hotUntil = 0
let spinQueued = false
/** Whether the last call was `solo`: its caller makes one call at a time. */
let oneAtATime = false
/** When the worker last went idle, and how long it then stayed idle until its next call. */
let idleSince = 0
let lastIdleMs = 0
/** How long the last ctx call waited for its answer. */
let lastOpWaitMs = 0

/**
 * A ctx call's answer is polled for only when the last one came within this (and within
 * hotSpinMs): a short wait is mostly the wake-up that polling saves, while a long one (a message
 * from another node, an invoke) has its answer made by threads that may need this core.
 */
const SHORT_OP_WAIT_MS = 0.25

function heat (lastWaitMs: number, windowMs: number): void {
  if (init.hotSpinMs <= 0 || lastWaitMs > windowMs) return
  hotUntil = performance.now() + init.hotSpinMs
  queueSpin()
}

function queueSpin (): void {
  if (spinQueued) return
  spinQueued = true
  setImmediate(spin)
}

/** Polls while the worker has nothing else to do: no call running, or one waiting on a ctx call. */
function spin (): void {
  spinQueued = false
  const waiting = running === 0 || (running === 1 && pendingOps.size > 0)
  const left = hotUntil - performance.now()
  // with every slot taken, this worker sleeps as usual (its messages wake it)
  if (!waiting || left <= 0 || !pollers.tryAcquire()) return
  try {
    outbox.flush()
    bell.spin(port, Math.min(SPIN_SLICE_MS, left), onBatch)
  } finally {
    pollers.release()
  }
  // the messages just handled may have queued the next spin already (heat)
  queueSpin()
}

function callStarted (solo: boolean): void {
  if (running === 0) lastIdleMs = performance.now() - idleSince
  running++
  oneAtATime = solo
}

function callEnded (): void {
  running--
  if (running > 0) return
  idleSince = performance.now()
  if (oneAtATime) heat(lastIdleMs, init.hotSpinMs)
}

let onBatch: (batch: unknown) => void = () => {}

const replyBell = new Doorbell(init.replyBell)
const outbox = new TurnBatcher<FromWorker>((batch, transfer) => {
  init.replies.postMessage(batch, transfer)
  replyBell.ring()
})

function post (message: FromWorker, transfer?: ArrayBuffer[]): void {
  outbox.push(message, transfer != null && transfer.length > 0 ? transfer : undefined)
}

function bytes (data: unknown, what: string): Uint8Array {
  // the encoding is ours alone: it may be transferred
  if (typeof data === 'string') return markFresh(encoder.encode(data))
  if (data instanceof Uint8Array) return data
  if (data === undefined || data === null) return new Uint8Array(0)
  throw new PraasError('BAD_REQUEST', `${what} must be a Uint8Array or a string`)
}

/** Checks the size limit, and gives the bytes a buffer of their own before they cross threads. */
function checkSize (data: Uint8Array, what: string): Uint8Array {
  if (data.byteLength > MAX_PAYLOAD_BYTES) throw new PraasError('TOO_LARGE', `${what} of ${data.byteLength} bytes exceeds the limit of ${MAX_PAYLOAD_BYTES}`)
  return exactBytes(data)
}

function key (value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 1024) throw new PraasError('BAD_REQUEST', 'a key is a string of 1 to 1024 characters')
  return value
}

/** The ctx call that `opId` answers, no longer pending; its wait is what the next poll goes by. */
function answered (opId: number): { resolve(value: unknown): void, reject(err: Error): void } | undefined {
  const pending = pendingOps.get(opId)
  if (pending == null) return undefined
  pendingOps.delete(opId)
  lastOpWaitMs = performance.now() - pending.sentAt
  return pending
}

async function request<T> (id: number, op: ContextOp): Promise<T> {
  const opId = nextOpId++
  const { promise, resolve, reject } = Promise.withResolvers<unknown>()
  pendingOps.set(opId, { resolve, reject, sentAt: performance.now() })
  const transfer: ArrayBuffer[] = []
  if (op.op === 'put') op.value = forTransfer(op.value, transfer)
  else if (op.op === 'send' || op.op === 'invoke') op.data = forTransfer(op.data, transfer)
  post({ t: 'op', id, opId, request: op }, transfer)
  // The one call of this worker waits for what it reads (whatever else runs on the node, a short
  // wait is not load). Not for the ack of a write or a send: the slot is better left to whoever
  // waits for that message (with one slot on two cores, a sender polling for its ack left the
  // receiver asleep).
  if (running === 1 && (op.op === 'get' || op.op === 'keys' || op.op === 'recv')) heat(lastOpWaitMs, Math.min(init.hotSpinMs, SHORT_OP_WAIT_MS))
  return await (promise as Promise<T>)
}

// ---- reads of state, cached (state-versions.ts) ----

/** Cached bytes of all processes, at most; past it the cache starts over. Bigger values are not cached. */
const MAX_CACHED_BYTES = 32 * 1024 * 1024
const MAX_CACHED_VALUE_BYTES = 1024 * 1024

/** What this worker read of one process, valid while the process's write counter stays at `version`. */
interface StateCache {
  inc: number
  version: number
  /** null: the key had no value. */
  values: Map<string, Uint8Array | null>
  bytes: number
  /** Writes of this worker to the process not applied by the node yet: reads go to the node meanwhile. */
  writing: number
}

const versions = init.stateVersions != null ? new Int32Array(init.stateVersions) : undefined
const caches = new Map<number, StateCache>()
let cachedBytes = 0

function clearCache (cache: StateCache): void {
  cachedBytes -= cache.bytes
  cache.values.clear()
  cache.bytes = 0
}

/** The process's cache, emptied if the process wrote since (or the slot has a new owner). */
function cacheOf (slot: number, inc: number): StateCache | undefined {
  if (versions == null || slot < 0) return undefined
  let cache = caches.get(slot)
  if (cache == null || cache.inc !== inc) {
    if (cache != null) clearCache(cache)
    cache = { inc, version: Atomics.load(versions, slot), values: new Map(), bytes: 0, writing: 0 }
    caches.set(slot, cache)
  }
  const version = Atomics.load(versions, slot)
  if (version !== cache.version) {
    clearCache(cache)
    cache.version = version
  }
  return cache
}

/**
 * A read: from the cache while nothing wrote to the process since the value was read, else
 * through the node. The node applies writes in the order it gets them and bumps the counter with
 * each, so a value read while the counter stayed at v is the state at v, and every write that
 * happened before this read (another invocation's, even on another worker) has moved the counter.
 * Each read gets its own copy: the app may change what it was given.
 */
async function readState (id: number, slot: number, inc: number, k: string): Promise<Uint8Array | undefined> {
  const cache = cacheOf(slot, inc)
  if (cache == null || cache.writing > 0) return await request<Uint8Array | undefined>(id, { op: 'get', key: k })
  const hit = cache.values.get(k)
  if (hit !== undefined) return hit === null ? undefined : hit.slice()
  const before = cache.version
  const value = await request<Uint8Array | undefined>(id, { op: 'get', key: k })
  if (caches.get(slot) !== cache || cache.writing > 0 || Atomics.load(versions!, slot) !== before) return value
  if ((value?.byteLength ?? 0) > MAX_CACHED_VALUE_BYTES) return value
  const size = (value?.byteLength ?? 0) + k.length
  if (cachedBytes + size > MAX_CACHED_BYTES) for (const c of caches.values()) clearCache(c)
  cache.values.set(k, value == null ? null : value.slice())
  cache.bytes += size
  cachedBytes += size
  return value
}

/** A write: reads of the process skip the cache until the node has applied it (and moved the counter). */
async function writeState (id: number, slot: number, inc: number, op: ContextOp): Promise<void> {
  const cache = cacheOf(slot, inc)
  if (cache != null) cache.writing++
  try {
    await request(id, op)
  } finally {
    if (cache != null) cache.writing--
  }
}

function contextFor (id: number, pid: string, app: string, slot: number, inc: number): Context {
  return {
    pid,
    app,
    state: {
      get: async (k) => await readState(id, slot, inc, key(k)),
      put: async (k, value) => { await writeState(id, slot, inc, { op: 'put', key: key(k), value: checkSize(bytes(value, 'a state value'), 'a state value') }) },
      delete: async (k) => { await writeState(id, slot, inc, { op: 'delete', key: key(k) }) },
      keys: async () => await request<string[]>(id, { op: 'keys' })
    },
    invoke: async (target, fn, data) => await request<Uint8Array>(id, { op: 'invoke', pid: target, fn, data: checkSize(bytes(data, 'data'), 'data') }),
    send: async (target, k, data) => { await request(id, { op: 'send', pid: target, key: key(k), data: checkSize(bytes(data, 'a message'), 'a message') }) },
    recv: async (from, k, options) => await request(id, { op: 'recv', from, key: key(k), timeoutMs: options?.timeoutMs ?? 0 })
  }
}

async function main (): Promise<void> {
  let functions: Map<string, AppFunction>
  try {
    const mod = await import(pathToFileURL(init.modulePath).href) as Record<string, unknown>
    functions = new Map(Object.entries(mod).filter((entry): entry is [string, AppFunction] => typeof entry[1] === 'function'))
    if (functions.size === 0) throw new Error('the module exports no functions')
  } catch (err) {
    post({ t: 'loadError', message: (err as Error)?.message ?? String(err) })
    return
  }

  const run = async (call: Extract<ToWorker, { t: 'call' }>): Promise<void> => {
    const fn = functions.get(call.fn)
    if (fn == null) {
      post({ t: 'error', id: call.id, code: 'NOT_FOUND', message: `app ${call.app} has no function ${call.fn}` })
      callEnded()
      return
    }
    try {
      const output = await fn(call.payload, contextFor(call.id, call.pid, call.app, call.slot, call.inc))
      const transfer: ArrayBuffer[] = []
      post({ t: 'result', id: call.id, payload: forTransfer(checkSize(bytes(output, 'a function result'), 'the result'), transfer) }, transfer)
    } catch (err) {
      const code = (err as { code?: unknown })?.code
      const message = err instanceof Error ? err.message : String(err)
      if (err instanceof PraasError || (isErrorCode(code) && (err as Error).name === 'PraasError')) {
        // A ctx call that failed and was not caught: its code tells the caller what happened.
        post({ t: 'error', id: call.id, code: code as PraasError['code'], message })
      } else {
        post({ t: 'error', id: call.id, code: 'FUNCTION_ERROR', message })
      }
    } finally {
      callEnded()
    }
  }

  const onMessage = (message: ToWorker): void => {
    switch (message.t) {
      case 'call':
        callStarted(message.solo)
        void run(message)
        break
      case 'ping': post({ t: 'pong', seq: message.seq }); break
      case 'opResult': answered(message.opId)?.resolve(message.value); break
      case 'opError': answered(message.opId)?.reject(new PraasError(message.code, message.message)); break
    }
  }
  onBatch = (batch) => { for (const message of batch as ToWorker[]) onMessage(message) }
  port.on('message', onBatch)
  post({ t: 'ready', functions: [...functions.keys()] })
}

void main()
