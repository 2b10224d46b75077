import { Cancellation, isAborted, onAbort } from './cancellation.js'
import { errorFromWire, errorToWire, markUnsent, PraasError, toPraasError } from './errors.js'
import { FrameReader, writeFrame, writeMessage, writerFor } from './frames.js'
import { InvokeFrame } from './pb/messages.js'
import { sendLazily } from './patches/connection-tuning.js'
import { CHUNK_BYTES, MAX_INFLIGHT_PER_STREAM, MAX_PAYLOAD_BYTES } from './limits.js'
import type { InboundLimits } from './budget.js'
import type { InvokeMessage, WriteProgress } from './frames.js'
import type { AbortOptions, Stream } from '@libp2p/interface'

/** Frames on an idle invoke stream keep it open: libp2p's default inactivity timeout is 2 min. */
const STREAM_INACTIVITY_TIMEOUT_MS = 24 * 60 * 60 * 1000

export interface InvokeRequest {
  pid: string
  fn: string
  payload: Uint8Array
  /** The caller's time limit in ms, 0 for none (the node's own limit applies). */
  timeoutMs: number
  /** Channel protocol only: the mailbox key, and the sender (a pid, or a client's peer id). */
  key?: string
  from?: string
}

export interface InvokeCallOptions extends AbortOptions {
  /** Fail with TIMEOUT (and cancel the call on the callee) after this many ms. */
  timeoutMs?: number
  /**
   * What cancels the call, instead of `signal`: a Cancellation (a running call's, on a node) is
   * listened to without making its AbortSignal, which costs about 10 us a call.
   */
  cancel?: AbortOptions
}

interface Pending {
  resolve(payload: Uint8Array): void
  reject(err: PraasError): void
  /** The replicas that pushed this call's result so far (protocol/results.ts). */
  pushedBy?: Set<string>
}

/** Calls settled by their replicas' pushes whose host answer is still to come, at most (the oldest are forgotten). */
const MAX_EARLY = 4096
/** Replicas are named to the caller again after this long, so that a result stream that broke is opened again. */
const RENAME_REPLICAS_MS = 1000

/** The peer id at the end of a multiaddr string (`…/p2p/ID`), or undefined. */
function peerOfAddr (addr: string): string | undefined {
  const at = addr.lastIndexOf('/p2p/')
  return at < 0 ? undefined : addr.slice(at + 5)
}

/**
 * The caller's end of one invoke stream: calls are multiplexed on it by request id. When the
 * stream dies, every call on it fails with UNAVAILABLE and the next call opens a new one.
 */
export class InvokeChannel {
  /**
   * Ids start anywhere below 2^24 (a result pushed for a call of an earlier stream to the same
   * host names an id this one is unlikely to use) and stay below 2^30, where V8 keeps integers
   * unboxed (map keys of larger ones cost an allocation per call).
   */
  private nextId = 1 + Math.floor(Math.random() * 0xffffff)
  private readonly pending = new Map<number, Pending>()
  /** Calls settled by their replicas' pushes whose answer from the host is still due (then dropped). */
  private readonly early = new Set<number>()
  /** The replicas the host named: only their pushes count. */
  private readonly pushers = new Set<string>()
  private closed = false

  /**
   * `onReplicas`: the host named the replicas that push results of this stream's calls
   * (multiaddrs with /p2p/); the caller opens a result stream to each (protocol/results.ts).
   */
  constructor (readonly stream: Stream, private readonly onClose?: () => void, private readonly onReplicas?: (addrs: string[]) => void) {
    stream.inactivityTimeout = STREAM_INACTIVITY_TIMEOUT_MS
    const reader = new FrameReader(stream, {
      onMessage: (message) => {
        if (message.head.replicas.length > 0) this.named(message.head.replicas)
        this.settle(message.head.id, message)
      },
      onRefused: (head, error) => { this.settle(head.id, error) },
      onControl: () => {},
      onMalformed: () => {},
      expects: (id) => this.pending.has(id) || this.early.has(id)
    })
    stream.addEventListener('close', (evt) => {
      this.closed = true
      reader.clear()
      const error = new PraasError('UNAVAILABLE', `invoke stream closed${evt.error != null ? `: ${evt.error.message}` : ''}`)
      for (const pending of this.pending.values()) pending.reject(error)
      this.pending.clear()
      this.onClose?.()
    })
  }

  get isOpen (): boolean {
    return !this.closed && this.stream.status === 'open'
  }

  get inflight (): number {
    return this.pending.size
  }

  private named (addrs: string[]): void {
    this.pushers.clear()
    for (const addr of addrs) {
      const peer = peerOfAddr(addr)
      if (peer != null) this.pushers.add(peer)
    }
    this.onReplicas?.(addrs)
  }

  /**
   * A replica `from` pushed the result of call `id`: the call is settled once `copies` of the
   * replicas the host named pushed it (each holds the call's writes), before the host's answer.
   */
  pushed (id: number, from: string, copies: number, result: Uint8Array): boolean {
    const pending = this.pending.get(id)
    if (pending == null || !this.pushers.has(from)) return false
    pending.pushedBy ??= new Set()
    pending.pushedBy.add(from)
    if (pending.pushedBy.size < copies) return false
    this.pending.delete(id)
    if (this.early.size >= MAX_EARLY) this.early.delete(this.early.values().next().value!)
    this.early.add(id)
    pending.resolve(result)
    return true
  }

  private settle (id: number, outcome: InvokeMessage | PraasError): void {
    const pending = this.pending.get(id)
    if (pending == null) {
      this.early.delete(id)
      return
    }
    this.pending.delete(id)
    if (outcome instanceof PraasError) {
      pending.reject(outcome)
    } else if (outcome.head.error != null) {
      pending.reject(errorFromWire(outcome.head.error))
    } else {
      pending.resolve(outcome.payload)
    }
  }

  /**
   * Sends one call and waits for its result. The signal, or `timeoutMs` passing (a clearable
   * timer: AbortSignal.timeout costs ~7 us and lives until it fires), cancels it on both ends.
   * A call that fails UNAVAILABLE before its request's last frame was handed to the stream
   * (the stream was closed, or closed while the frame waited in the writer) never left this
   * peer: its error is marked so (`wasUnsent`), and the caller may send it again.
   */
  async call (request: InvokeRequest, options: InvokeCallOptions = {}): Promise<Uint8Array> {
    if (request.payload.byteLength > MAX_PAYLOAD_BYTES) {
      throw new PraasError('TOO_LARGE', `payload of ${request.payload.byteLength} bytes exceeds the limit of ${MAX_PAYLOAD_BYTES}`)
    }
    if (!this.isOpen) throw markUnsent(new PraasError('UNAVAILABLE', 'invoke stream is closed'))
    if (this.pending.size >= MAX_INFLIGHT_PER_STREAM) throw new PraasError('UNAVAILABLE', 'too many calls in flight on one stream')
    const cancelledBy = options.cancel ?? options
    if (isAborted(cancelledBy)) throw toPraasError(cancelledBy instanceof Cancellation ? cancelledBy.reason : cancelledBy.signal?.reason, 'TIMEOUT')
    const id = this.nextId
    this.nextId = this.nextId >= 0x3ffffff0 ? 1 : this.nextId + 1
    const { promise, resolve, reject } = Promise.withResolvers<Uint8Array>()
    this.pending.set(id, { resolve, reject })
    // Only a payload of several chunks can wait for drain long enough to need its own signal.
    const controller = request.payload.byteLength > CHUNK_BYTES ? new AbortController() : undefined
    const cancel = (reason: unknown): void => {
      controller?.abort(reason)
      if (!this.pending.has(id)) return
      this.pending.delete(id)
      if (this.isOpen) writeFrame(this.stream, { id, kind: InvokeFrame.Kind.CANCEL })
      reject(toPraasError(reason, 'TIMEOUT'))
    }
    const unlisten = onAbort(cancelledBy, cancel)
    const timer = options.timeoutMs != null
      ? setTimeout(() => { cancel(new PraasError('TIMEOUT', `no result within ${options.timeoutMs} ms`)) }, options.timeoutMs)
      : undefined
    const progress: WriteProgress = { last: 0 }
    try {
      await writeMessage(this.stream, { id, kind: InvokeFrame.Kind.REQUEST, pid: request.pid, fn: request.fn, timeoutMs: request.timeoutMs, key: request.key, from: request.from },
        request.payload, controller != null ? { signal: controller.signal } : cancelledBy, progress)
      return await promise
    } catch (err) {
      this.pending.delete(id)
      // the stream's close rejects the call too, and a failed write leaves that rejection unawaited
      promise.catch(() => {})
      const error = toPraasError(err)
      if (error.code !== 'UNAVAILABLE' || (progress.last > 0 && writerFor(this.stream).handed >= progress.last)) throw error
      // a new error: the stream's close fails every call on it with one, and some of them had left
      throw markUnsent(new PraasError(error.code, error.message))
    } finally {
      clearTimeout(timer)
      unlisten()
    }
  }

  close (): void {
    this.stream.abort(new PraasError('UNAVAILABLE', 'invoke channel closed'))
  }
}

/**
 * The options a handler gets with a request: the caller's time limit, and the call's
 * cancellation (the caller's CANCEL, the stream closing). Its `signal` is made only when read,
 * so a handler that passes the options on to code that listens with `onAbort` costs no
 * AbortSignal.
 */
export class InboundCallOptions extends Cancellation {
  /**
   * Set by the handler: the replicas that were handed this call's result to push to the caller
   * (peer ids); the response names them once per stream (ServeOptions `replicaAddrs`).
   */
  pushedFrom?: string[]

  /** `caller`: the caller's peer id, on a stream whose results replicas may push (ServeOptions `caller`). */
  constructor (readonly timeoutMs: number, readonly call = 0, readonly caller?: string) {
    super()
  }
}

export interface InvokeHandler {
  (request: InvokeRequest, options: InboundCallOptions): Promise<Uint8Array>
}

export interface ServeOptions {
  /**
   * Successful responses without a payload (the acknowledgement of a message) are sent lazily
   * (patches/connection-tuning.ts sendLazily): with the next eager write on the connection, or at
   * the end of this burst of work.
   */
  lazyAcks?: boolean
  /** The caller's peer id, when replicas may push results to it (a client; protocol/results.ts). */
  caller?: string
  /** Multiaddrs (with /p2p/) to name replicas by in a response, or undefined if unknown. */
  replicaAddrs?: (peers: string[]) => string[] | undefined
}

/**
 * The callee's end of an invoke stream: runs each request through the handler concurrently and
 * writes each response as soon as it is ready. Past MAX_INFLIGHT_PER_STREAM running calls the
 * stream is paused, so a flooding caller meets yamux's flow control rather than our memory.
 */
export function serveInvokeStream (stream: Stream, handler: InvokeHandler, limits: InboundLimits = {}, options: ServeOptions = {}): void {
  stream.inactivityTimeout = STREAM_INACTIVITY_TIMEOUT_MS
  const running = new Map<number, Cancellation>()
  let paused = false
  /** The replicas last named to the caller on this stream (peer ids, joined), and when. */
  let named = ''
  let namedAt = 0
  /**
   * The replicas to name in a response: once per stream and set of replicas, and again every
   * RENAME_REPLICAS_MS (the caller opens a result stream to each it has none to).
   */
  const replicasToName = (pushedFrom: string[] | undefined): string[] | undefined => {
    if (pushedFrom == null || options.replicaAddrs == null) return undefined
    const key = pushedFrom.join(' ')
    const now = performance.now()
    if (key === named && now - namedAt < RENAME_REPLICAS_MS) return undefined
    const addrs = options.replicaAddrs(pushedFrom)
    if (addrs != null) {
      named = key
      namedAt = now
    }
    return addrs
  }

  const respondError = (id: number, err: unknown): void => {
    if (stream.status !== 'open') return
    writeFrame(stream, { id, kind: InvokeFrame.Kind.RESPONSE, error: errorToWire(toPraasError(err, 'FUNCTION_ERROR')) })
  }

  const run = async (message: InvokeMessage): Promise<void> => {
    const { head, payload } = message
    const cancellation = new InboundCallOptions(head.timeoutMs, head.id, options.caller)
    running.set(head.id, cancellation)
    if (running.size >= MAX_INFLIGHT_PER_STREAM && !paused) {
      paused = true
      stream.pause()
    }
    try {
      const result = await handler({ pid: head.pid, fn: head.fn, payload, timeoutMs: head.timeoutMs, key: head.key, from: head.from }, cancellation)
      if (cancellation.aborted || stream.status !== 'open') return
      if (result.byteLength > MAX_PAYLOAD_BYTES) {
        respondError(head.id, new PraasError('TOO_LARGE', `result of ${result.byteLength} bytes exceeds the limit of ${MAX_PAYLOAD_BYTES}`))
        return
      }
      const replicas = replicasToName(cancellation.pushedFrom)
      const respond = async (): Promise<void> => { await writeMessage(stream, { id: head.id, kind: InvokeFrame.Kind.RESPONSE, replicas }, result, cancellation) }
      await (options.lazyAcks === true && result.byteLength === 0 ? sendLazily(respond) : respond())
    } catch (err) {
      if (!cancellation.aborted) respondError(head.id, err)
    } finally {
      running.delete(head.id)
      if (message.held != null && message.held > 0) limits.budget?.give(message.held)
      if (paused && running.size < MAX_INFLIGHT_PER_STREAM / 2) {
        paused = false
        stream.resume()
      }
    }
  }

  const reader = new FrameReader(stream, {
    onMessage: (message) => {
      if (message.head.kind !== InvokeFrame.Kind.REQUEST) return
      void run(message)
    },
    onRefused: (head, error) => { respondError(head.id, error) },
    onControl: (frame) => { running.get(frame.id)?.abort(new PraasError('TIMEOUT', 'cancelled by the caller')) },
    onMalformed: () => {}
  }, limits)

  stream.addEventListener('close', () => {
    reader.clear()
    for (const cancellation of running.values()) cancellation.abort(new PraasError('UNAVAILABLE', 'invoke stream closed'))
    running.clear()
  })
}
