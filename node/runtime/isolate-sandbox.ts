import { availableParallelism } from 'node:os'
import { logger } from '@libp2p/logger'
import { Cancellation, MAX_KEY_LENGTH, MAX_PAYLOAD_BYTES, onAbort, PraasError, throwIfAborted, toPraasError } from '../../protocol/index.js'
import { Connections, execProgram, parseGrants } from './capabilities.js'
import { IsolateLane, isTimeout } from './isolate-lane.js'
import { digestNow, parseUrl, randomBytes, setUrl, SubtleHost } from './web-host.js'
import type { Grants } from './capabilities.js'
import type { Entry } from './isolate-lane.js'
import type { Reply } from './guest/bootstrap.js'
import type { CallContext, ProcessOp, Sandbox, SandboxInit } from './sandbox.js'
import type { AbortOptions } from '@libp2p/interface'

export const DEFAULT_MEMORY_MIB = 128
/**
 * A call on the node's thread runs at most this long at a stretch while it has done nothing but
 * read: past it, it is stopped and started again on an isolate of the pool (other threads), and
 * its function's next calls go there directly. So a CPU-bound call holds the event loop up for
 * this long once, not for its whole run.
 */
export const INLINE_SLICE_MS = 10
/** What code of a call that has ended may still run at a stretch (a late answer it awaited). */
const ENDED_SLICE_MS = 10
/** How long a module's top-level code may run. */
const LOAD_TIMEOUT_MS = 5_000
const MAX_TIMERS_PER_CALL = 1000
/** Pooled calls of a long function in a row that ran short before its calls come back inline. */
const SHORT_RUNS_TO_INLINE = 8
const MAX_LOG_CHARS = 8192

/** Operations that only read: run at once even while a call may still be moved to the pool. */
const READS = new Set(['get', 'keys', 'txGet', 'txKeys'])
/** Operations answered at once whatever came before them (a timer's id is returned synchronously). */
const IMMEDIATE = new Set(['timer', 'clearTimer'])
/** Operations of code that runs outside any live call (see onOp). */
const BACKGROUND_OPS = new Set(['timer', 'clearTimer', 'subtle', 'connect', 'connRead', 'connWrite', 'connEnd', 'connClose'])
/**
 * Process operations that wait: started after the running segment, never inside it. (A send or
 * recv is tried at once: a message that goes in, or is there, answers without a wait, and the
 * call goes on in the same segment; one that has to wait answers later like these.)
 */
const WAITING = new Set(['invoke'])

interface Call extends CallContext {
  fn: string
  input: Uint8Array
  lane: IsolateLane
  /** performance.now() at which its time limit passes. */
  deadline: number
  timeoutMs: number
  /** CPU time (ms) used so far: wall time of its inline segments, the isolate's CPU time of pooled ones. */
  cpuMs: number
  /** It did more than read (its writes, messages, calls happened): it can no longer be run again elsewhere. */
  effects: boolean
  resolve(result: Uint8Array): void
  reject(err: PraasError): void
  timer?: ReturnType<typeof setTimeout>
  timers?: Map<number, ReturnType<typeof setTimeout>>
  unlisten(): void
  done: boolean
  /** Set while it moves to the pool: what its stopped first run still does (its leftover microtasks) is refused. */
  moving?: boolean
}

/** The inline segment running now: what its call did beyond reads waits until the segment ends. */
interface Segment {
  call: Call
  sliced: boolean
  deferred: Array<() => void>
  /** The call's state writes held until the segment ends (a sliced segment, before anything else was deferred), in order; undefined: a delete. */
  writes?: Array<[string, Uint8Array | undefined]>
  /** The last held value of each key written. */
  written?: Map<string, Uint8Array | undefined>
}

let nextCallId = 1

/**
 * App code in V8 isolates (isolated-vm), in the node's OS process. Each app version has an
 * inline isolate, entered on the node's own thread (a call and its state operations cost
 * microseconds, no thread hop), and up to one pooled isolate per core, entered through
 * isolated-vm's thread pool, for functions whose calls compute for long: they run on other
 * cores, in parallel, while the event loop goes on. Limits per app: memory per isolate (heap and
 * array buffers), CPU time per call, the time limit; past one, only the calls of that isolate
 * fail (memory) or only that call (time).
 */
export class IsolateSandbox implements Sandbox {
  functions: string[] = []
  private inline?: IsolateLane
  private inlineLoading?: Promise<IsolateLane>
  private readonly pooled: IsolateLane[] = []
  private pooledLoading = 0
  private readonly maxPooled = Math.max(2, availableParallelism())
  private readonly calls = new Map<number, Call>()
  private readonly long = new Map<string, { long: boolean, shortRuns: number }>()
  private readonly grants: Grants
  private readonly connections: Connections
  private readonly subtle = new SubtleHost()
  private readonly memoryMiB: number
  private readonly cpuMs: number
  private readonly appLog
  private segment?: Segment
  private nextOpId = 1
  private nextTimerId = 1
  private retired = false

  private constructor (private readonly init: SandboxInit) {
    this.grants = parseGrants(init.manifest.allow)
    this.connections = new Connections(this.grants)
    this.memoryMiB = init.manifest.memoryMiB > 0 ? init.manifest.memoryMiB : DEFAULT_MEMORY_MIB
    this.cpuMs = init.manifest.cpuMs > 0 ? init.manifest.cpuMs : Number.POSITIVE_INFINITY
    this.appLog = logger(`praas:app:${init.app}`)
  }

  static async create (init: SandboxInit): Promise<IsolateSandbox> {
    const sandbox = new IsolateSandbox(init)
    const lane = await sandbox.inlineLane()
    sandbox.functions = lane.functions
    return sandbox
  }

  private async newLane (inline: boolean): Promise<IsolateLane> {
    if (this.memoryMiB < 8) throw new PraasError('BAD_REQUEST', 'an app needs at least 8 MiB of memory')
    return await IsolateLane.create({
      app: this.init.app,
      source: new TextDecoder().decode(this.init.source),
      memoryMiB: this.memoryMiB,
      config: { maxPayloadBytes: MAX_PAYLOAD_BYTES, maxKeyLength: MAX_KEY_LENGTH, exec: this.grants.exec.size > 0, connect: this.grants.net.size > 0 },
      inline,
      loadTimeoutMs: LOAD_TIMEOUT_MS,
      onOp: (lane, id, name, args) => this.onOp(lane, id, name, args),
      onLog: (level, text) => { this.appLog(`${level}: %s`, String(text).slice(0, MAX_LOG_CHARS)) }
    })
  }

  private async inlineLane (): Promise<IsolateLane> {
    if (this.inline != null && !this.inline.disposed) return this.inline
    this.inlineLoading ??= this.newLane(true).then(lane => {
      this.inline = lane
      return lane
    }).finally(() => { this.inlineLoading = undefined })
    return await this.inlineLoading
  }

  /**
   * The least busy pooled isolate, or a new one while none is idle and the pool is below its
   * size; its load counts the caller already.
   */
  private async pooledLane (): Promise<IsolateLane> {
    let best: IsolateLane | undefined
    for (const lane of this.pooled) if (!lane.disposed && (best == null || lane.load < best.load)) best = lane
    if (best != null && (best.load === 0 || this.pooled.length + this.pooledLoading >= this.maxPooled)) {
      best.load++
      return best
    }
    if (this.pooled.length + this.pooledLoading >= this.maxPooled) {
      // every isolate of the pool is being made: wait for one
      await new Promise(resolve => setTimeout(resolve, 5))
      return await this.pooledLane()
    }
    this.pooledLoading++
    try {
      const lane = await this.newLane(false)
      this.pooled.push(lane)
      lane.load++
      return lane
    } finally {
      this.pooledLoading--
    }
  }

  async run (pid: string, fn: string, input: Uint8Array, options: { timeoutMs: number, cancel?: AbortOptions, owner?: object }): Promise<Uint8Array> {
    if (this.retired) throw new PraasError('UNAVAILABLE', `app ${this.init.app} was replaced`)
    const cancel = options.cancel ?? {}
    throwIfAborted(cancel)
    const stats = this.long.get(fn)
    // a lane is taken (its load counted) before anything awaits, so that calls arriving together spread over the pool
    const lane = this.inline != null && !this.inline.disposed && stats?.long !== true ? this.inline : await (stats?.long === true ? this.pooledLane() : this.inlineLane())
    if (lane.inline) lane.load++
    const { promise, resolve, reject } = Promise.withResolvers<Uint8Array>()
    const call: Call = {
      id: nextCallId++,
      pid,
      owner: options.owner,
      fn,
      input,
      lane,
      deadline: performance.now() + options.timeoutMs,
      timeoutMs: options.timeoutMs,
      cpuMs: 0,
      effects: false,
      resolve,
      reject,
      done: false,
      cancellation: new Cancellation(),
      unlisten: () => {}
    }
    this.calls.set(call.id, call)
    call.timer = setTimeout(() => { this.stopCall(call, new PraasError('TIMEOUT', `${fn} ran past its time limit of ${options.timeoutMs} ms`)) }, options.timeoutMs)
    call.unlisten = onAbort(cancel, () => { this.stopCall(call, new PraasError('TIMEOUT', `${fn} was cancelled by its caller`)) })
    this.enter(call, 'start', [call.id, fn, input, pid, this.init.app])
    return await promise
  }

  /** Runs guest code of `call`: inline, on this thread within its slice or budget, or pooled. */
  private enter (call: Call, entry: Entry, args: unknown[]): void {
    const lane = call.lane
    if (lane.disposed) {
      this.laneLost(lane)
      return
    }
    let budget = call.done ? this.endedBudget(lane) : Math.min(call.deadline - performance.now(), this.cpuMs - call.cpuMs)
    if (budget <= 0) {
      this.stopCall(call, this.pastLimit(call))
      return
    }
    if (!lane.inline) {
      const before = lane.cpuMs
      lane.enter(entry, args, budget).then(() => { call.cpuMs += lane.cpuMs - before }, (err) => {
        call.cpuMs += lane.cpuMs - before
        this.failed(call, lane, err, false)
      })
      return
    }
    if (this.segment != null) {
      // never inside another run of the inline isolate (a ctx call answered synchronously)
      queueMicrotask(() => { this.enter(call, entry, args) })
      return
    }
    const sliced = !call.effects && !call.done && budget > INLINE_SLICE_MS
    if (sliced) budget = INLINE_SLICE_MS
    const segment: Segment = { call, sliced, deferred: [] }
    this.segment = segment
    const start = performance.now()
    let error: unknown
    try {
      lane.enterSync(entry, args, budget)
    } catch (err) {
      error = err
    } finally {
      this.segment = undefined
      call.cpuMs += performance.now() - start
    }
    if (error != null && (lane.disposed || isTimeout(error))) {
      this.failed(call, lane, error, sliced)
      return
    }
    // anything else out of a run is an unhandled rejection (see failed): the run itself went through
    if (error != null) this.unhandled(error)
    if (segment.writes != null) {
      call.effects = true
      this.applyWrites(call, segment.writes)
    }
    if (segment.deferred.length > 0) {
      call.effects = true
      for (const run of segment.deferred) run()
    }
  }

  /** A lane's pseudo-call for code outside live calls: it runs as long as the longest live call of the lane may, at least ENDED_SLICE_MS. */
  private backgroundOf (lane: IsolateLane): Call {
    let call = this.backgrounds.get(lane)
    if (call == null) {
      call = {
        id: 0,
        pid: '',
        fn: '(background)',
        input: new Uint8Array(0),
        lane,
        deadline: 0,
        timeoutMs: 0,
        cpuMs: 0,
        effects: true,
        resolve: () => {},
        reject: () => {},
        done: true,
        cancellation: new Cancellation(),
        unlisten: () => {}
      }
      this.backgrounds.set(lane, call)
    }
    return call
  }

  private readonly backgrounds = new Map<IsolateLane, Call>()

  /** How long code of an ended call (or of no call) may run at a stretch. */
  private endedBudget (lane: IsolateLane): number {
    let budget = ENDED_SLICE_MS
    const now = performance.now()
    for (const call of this.calls.values()) if (call.lane === lane) budget = Math.max(budget, call.deadline - now)
    return budget
  }

  private pastLimit (call: Call): PraasError {
    if (performance.now() >= call.deadline - 1) return new PraasError('TIMEOUT', `${call.fn} ran past its time limit of ${call.timeoutMs} ms`)
    return new PraasError('FUNCTION_ERROR', `${call.fn} ran past its CPU limit of ${this.cpuMs} ms`)
  }

  /**
   * A run of guest code threw: the isolate ran out of memory, the run was stopped at its limit,
   * or app code left a promise rejected with no handler.
   */
  private failed (call: Call, lane: IsolateLane, err: unknown, sliced: boolean): void {
    if (lane.disposed) {
      this.laneLost(lane)
      return
    }
    if (!isTimeout(err)) {
      this.unhandled(err)
      return
    }
    if (call.done) return
    if (sliced) void this.moveToPool(call)
    else this.stopCall(call, this.pastLimit(call))
  }

  /**
   * isolated-vm throws the first promise rejection of a run that no handler took out of the run
   * (IsolateEnvironment::TaskEpilogue), whichever code it came from: a promise a function did not
   * await, or code of a call that ended or moved, run at the end of another call's run. It is not
   * that call's failure (each entry point catches what its own call throws, and a call's outcome
   * is its result or error): it goes to the app's log, as a browser or worker reports it.
   */
  private unhandled (err: unknown): void {
    this.appLog('error: a promise rejection no code handled: %s', String((err as Error)?.message ?? err).slice(0, MAX_LOG_CHARS))
  }

  /** A call that computed past its slice on the node's thread, having only read, runs again from the start on the pool. */
  private async moveToPool (call: Call): Promise<void> {
    this.long.set(call.fn, { long: true, shortRuns: 0 })
    this.init.log('%s of app %s computes for long: its calls run on the pool', call.fn, this.init.app)
    this.clearTimers(call)
    call.lane.load--
    call.moving = true
    try {
      call.lane = await this.pooledLane()
    } catch (err) {
      call.lane.load++
      this.stopCall(call, toPraasError(err))
      return
    } finally {
      call.moving = false
    }
    if (call.done) return
    this.enter(call, 'start', [call.id, call.fn, call.input, call.pid, this.init.app])
  }

  /** An isolate ran out of memory (and was disposed): its calls fail, the next calls get a new one. */
  private laneLost (lane: IsolateLane): void {
    const background = this.backgrounds.get(lane)
    if (background != null) this.clearTimers(background)
    this.backgrounds.delete(lane)
    if (lane === this.inline) this.inline = undefined
    const index = this.pooled.indexOf(lane)
    if (index >= 0) this.pooled.splice(index, 1)
    const error = new PraasError('FUNCTION_ERROR', `app ${this.init.app} ran out of its memory limit of ${this.memoryMiB} MiB`)
    for (const call of this.calls.values()) if (call.lane === lane) this.stopCall(call, error)
    this.init.log.error('an isolate of app %s ran out of its memory limit of %d MiB', this.init.app, this.memoryMiB)
  }

  private stopCall (call: Call, err: PraasError): void {
    if (call.done) return
    call.cancellation.abort(err)
    this.finish(call, err)
  }

  private finish (call: Call, outcome: Uint8Array | PraasError): void {
    if (call.done) return
    call.done = true
    clearTimeout(call.timer)
    call.unlisten()
    this.calls.delete(call.id)
    call.lane.load--
    this.clearTimers(call)
    this.init.host.ended(call)
    if (!call.lane.inline) {
      const stats = this.long.get(call.fn)
      if (stats != null && call.cpuMs < INLINE_SLICE_MS / 2 && ++stats.shortRuns >= SHORT_RUNS_TO_INLINE) this.long.delete(call.fn)
      else if (stats != null && call.cpuMs >= INLINE_SLICE_MS / 2) stats.shortRuns = 0
    }
    if (outcome instanceof PraasError) call.reject(outcome)
    else call.resolve(outcome)
  }

  private clearTimers (call: Call): void {
    if (call.timers == null || call.timers.size === 0) return
    const ids = [...call.timers.keys()]
    for (const handle of call.timers.values()) clearTimeout(handle)
    call.timers.clear()
    const lane = call.lane
    queueMicrotask(() => {
      if (lane.disposed) return
      if (lane.inline && this.segment == null) {
        try { lane.enterSync('forget', [ids], ENDED_SLICE_MS) } catch {}
      } else if (!lane.inline) {
        lane.enter('forget', [ids], ENDED_SLICE_MS).catch(() => {})
      }
    })
  }

  // ---- what guest code asks of the host ----

  private onOp (lane: IsolateLane, id: number, name: string, args: unknown[]): Reply {
    switch (name) {
      case 'now': return [0, performance.now()]
      case 'random': return [0, randomBytes(args[0])]
      case 'url': return [0, parseUrl(args[0], args[1])]
      case 'urlSet': return [0, setUrl(args[0], args[1], args[2])]
      case 'clone': return [0, args[0]]
      case 'subtle': {
        // a small digest is pure and quick: answered now, even in a segment that may yet be run again
        const digest = digestNow(args[0], args[1])
        if (digest !== undefined) return [0, digest]
      }
    }
    let call = this.calls.get(id)
    if (call == null || call.lane !== lane || call.moving === true) {
      // Code that runs after its call ended, or in a continuation of another call (a promise two
      // calls share, a connection kept between calls): it may use what belongs to the isolate.
      if (!BACKGROUND_OPS.has(name)) return [2, 'TIMEOUT', 'the invocation has ended']
      call = this.backgroundOf(lane)
    }
    const segment = this.segment
    if (segment?.sliced === true && segment.call === call && segment.deferred.length === 0) {
      const held = this.holdWrite(segment, call, name, args)
      if (held != null) return held
    }
    if (segment?.sliced === true && segment.call === call && !IMMEDIATE.has(name) && (!READS.has(name) || segment.deferred.length > 0)) {
      // The call may yet be stopped and run again on the pool: what it does beyond reading waits
      // for the end of this segment (and so do its reads after that, to see it).
      if (name === 'result' || name === 'error') {
        segment.deferred.push(() => { this.perform(call, name, args) })
        return [0, undefined]
      }
      const opId = this.nextOpId++
      segment.deferred.push(() => { this.answerLater(call, opId, this.perform(call, name, args)) })
      return [1, opId]
    }
    return this.perform(call, name, args)
  }

  /**
   * State writes of a segment that may yet be run again are held and answered at once (so a call
   * that reads, writes and returns finishes in one entry): applied in order when the segment
   * ends, dropped with it if it is stopped. Reads in the segment see them. Only while nothing else
   * waits for the segment's end, so that everything keeps its order; undefined: not handled here.
   */
  private holdWrite (segment: Segment, call: Call, name: string, args: unknown[]): Reply | undefined {
    try {
      if (name === 'put' || name === 'delete') {
        const write = this.init.host.prepareWrite?.(call, name, args)
        if (write === undefined) return undefined
        ;(segment.writes ??= []).push(write)
        ;(segment.written ??= new Map()).set(write[0], write[1])
        return [0, undefined]
      }
      const written = segment.written
      if (written == null) return undefined
      if (name === 'get' && typeof args[0] === 'string' && written.has(args[0])) return [0, written.get(args[0])]
      if (name === 'keys') {
        // the keys as they will be once the held writes apply (a Map keeps a rewritten key in place)
        const keys = new Set(this.init.host.op(call, 'keys', []) as string[])
        for (const [key, value] of segment.writes!) {
          if (value === undefined) keys.delete(key)
          else keys.add(key)
        }
        return [0, [...keys]]
      }
      return undefined
    } catch (err) {
      const error = toPraasError(err, 'BAD_REQUEST')
      return [2, error.code, error.message]
    }
  }

  private applyWrites (call: Call, writes: Array<[string, Uint8Array | undefined]>): void {
    for (const [key, value] of writes) {
      try {
        if (value === undefined) this.init.host.op(call, 'delete', [key])
        else this.init.host.op(call, 'put', [key, value])
      } catch (err) {
        this.init.log.error('a held write of %s failed: %s', call.fn, (err as Error).message)
      }
    }
  }

  /** Settles a deferred op with what performing it replied. */
  private answerLater (call: Call, opId: number, reply: Reply): void {
    if (reply[0] === 1) {
      // it waits in turn: its own op id settles; pass the value on under ours
      const inner = reply[1]
      this.relays.set(inner, opId)
      return
    }
    if (reply[0] === 0) this.settle(call, opId, true, reply[1])
    else this.settle(call, opId, false, [reply[1], reply[2]])
  }

  /** Op ids of deferred ops that wait, by the op id of the wait that answers them. */
  private readonly relays = new Map<number, number>()

  private perform (call: Call, name: string, args: unknown[]): Reply {
    try {
      switch (name) {
        case 'result': this.finish(call, args[0] as Uint8Array); return [0, undefined]
        case 'error': {
          let message = String(args[1])
          // V8's words for an array buffer over the isolate's limit
          if (message === 'Array buffer allocation failed') message += `: the app's memory limit of ${this.memoryMiB} MiB`
          this.finish(call, new PraasError(toPraasError({ code: args[0] }, 'FUNCTION_ERROR').code, message))
          return [0, undefined]
        }
        case 'timer': return [0, this.timer(call, Number(args[0]), args[1] === true)]
        case 'clearTimer': {
          const handle = call.timers?.get(args[0] as number)
          if (handle != null) {
            clearTimeout(handle)
            call.timers!.delete(args[0] as number)
          }
          return [0, undefined]
        }
        case 'subtle': return this.waitFor(call, async () => await this.subtle.call(args[0], args[1]))
        case 'exec': {
          if (!this.grants.exec.has(String(args[0]))) throw new PraasError('UNAUTHORIZED', `this app may not run ${String(args[0])}: deploy it with --allow exec:${String(args[0])}`)
          const left = Math.max(1, call.deadline - performance.now())
          const limit = Number(args[4]) > 0 ? Math.min(Number(args[4]), left) : left
          return this.waitFor(call, async () => await execProgram(this.grants, String(args[0]), args[1] as string[], args[2] as Array<[string, Uint8Array]>, args[3] as string[], limit, call.cancellation.signal))
        }
        case 'connect': return this.waitFor(call, async () => await this.connections.connect(String(args[0])))
        case 'connRead': return this.waitFor(call, async () => await this.connections.read(args[0]))
        case 'connWrite': return this.waitFor(call, async () => { await this.connections.write(args[0], args[1]) })
        case 'connEnd': this.connections.end(args[0]); return [0, undefined]
        case 'connClose': this.connections.close(args[0]); return [0, undefined]
      }
      if (WAITING.has(name)) return this.waitFor(call, async () => await this.init.host.op(call, name as ProcessOp, args))
      const value = this.init.host.op(call, name as ProcessOp, args)
      if (!(value instanceof Promise)) return [0, value]
      value.catch(() => {}) // handled where it is awaited (waitFor), a microtask later
      return this.waitFor(call, async () => await value)
    } catch (err) {
      const error = toPraasError(err, 'BAD_REQUEST')
      return [2, error.code, error.message]
    }
  }

  /** An op answered later: started after the running guest code (never inside it), settled when done. */
  private waitFor (call: Call, work: () => Promise<unknown>): Reply {
    const opId = this.nextOpId++
    queueMicrotask(() => {
      work().then(
        (value) => { this.settle(call, opId, true, value) },
        (err) => { const e = toPraasError(err); this.settle(call, opId, false, [e.code, e.message]) }
      )
    })
    return [1, opId]
  }

  private settle (call: Call, opId: number, ok: boolean, value: unknown): void {
    const relayed = this.relays.get(opId)
    if (relayed != null) this.relays.delete(opId)
    this.enter(call, 'settle', [call.id, relayed ?? opId, ok, value])
  }

  private timer (call: Call, ms: number, repeat: boolean): number {
    call.timers ??= new Map()
    if (call.timers.size >= MAX_TIMERS_PER_CALL) throw new PraasError('UNAVAILABLE', `a call holds at most ${MAX_TIMERS_PER_CALL} timers`)
    const timerId = this.nextTimerId++
    const delay = Math.min(Math.max(repeat ? 1 : 0, ms || 0), 2 ** 31 - 1)
    const fire = (): void => {
      if (!repeat) call.timers?.delete(timerId)
      this.enter(call, 'fire', [call.id, timerId])
    }
    call.timers.set(timerId, repeat ? setInterval(fire, delay) : setTimeout(fire, delay))
    return timerId
  }

  async retire (graceMs = 60_000): Promise<void> {
    this.retired = true
    const deadline = Date.now() + graceMs
    while (this.calls.size > 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
    await this.stop_()
  }

  async stop (): Promise<void> {
    await this.stop_()
  }

  private async stop_ (): Promise<void> {
    this.retired = true
    const error = new PraasError('UNAVAILABLE', `app ${this.init.app} was stopped`)
    for (const call of [...this.calls.values()]) this.stopCall(call, error)
    this.connections.closeAll()
    this.inline?.dispose()
    for (const lane of this.pooled) lane.dispose()
    this.pooled.length = 0
  }
}
