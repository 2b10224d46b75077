import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import ivm from 'isolated-vm'
import { PraasError } from '../../protocol/index.js'
import { guestBootstrap } from './guest/bootstrap.js'
import { guestWeb } from './guest/web.js'
import type { GuestConfig, Reply } from './guest/bootstrap.js'

const require = createRequire(import.meta.url)
/** Well-kept polyfills evaluated in every isolate before the app: TextEncoder/TextDecoder (UTF-8), and web streams for ctx.connect. */
const TEXT_ENCODING = readFileSync(require.resolve('fast-text-encoding/text.min.js'), 'utf8')
const WEB_STREAMS = readFileSync(require.resolve('web-streams-polyfill/dist/polyfill.js'), 'utf8')

/** The guest entry points the host calls. */
export type Entry = 'start' | 'settle' | 'fire' | 'forget'

export interface LaneInit {
  app: string
  /** The app's ES module. */
  source: string
  memoryMiB: number
  config: GuestConfig
  /** Runs on the node's thread; an inline lane is entered only from there, synchronously. */
  inline: boolean
  /** A ctx call (or a web global's host part) of guest code running in this lane. */
  onOp(lane: IsolateLane, id: number, name: string, args: unknown[]): Reply
  onLog(level: string, text: string): void
  /** How long the module's top-level code may run. */
  loadTimeoutMs: number
}

/** isolated-vm's message when a run passed its `timeout`. */
const TIMED_OUT = 'Script execution timed out.'

export function isTimeout (err: unknown): boolean {
  return (err as Error)?.message === TIMED_OUT
}

/**
 * One V8 isolate running one app version: its own heap, limited to `memoryMiB` (array buffers
 * included), the web globals, and the app's module. It reaches the node only through `onOp`,
 * whose arguments and results are copied. An inline lane is entered on the node's own thread
 * (a call costs microseconds); a pooled lane is entered through isolated-vm's thread pool, so
 * that long computations run on other cores while the event loop goes on.
 */
export class IsolateLane {
  readonly inline: boolean
  /** Calls running in this lane. */
  load = 0
  functions: string[] = []
  private readonly isolate: ivm.Isolate
  private entries?: Record<Entry, ivm.Reference<Function>>

  private constructor (private readonly init: LaneInit) {
    this.inline = init.inline
    this.isolate = new ivm.Isolate({ memoryLimit: init.memoryMiB })
  }

  static async create (init: LaneInit): Promise<IsolateLane> {
    const lane = new IsolateLane(init)
    try {
      await lane.load_()
    } catch (err) {
      lane.dispose()
      throw err
    }
    return lane
  }

  get disposed (): boolean {
    return this.isolate.isDisposed
  }

  /** CPU time the isolate has used, in ms. */
  get cpuMs (): number {
    if (this.isolate.isDisposed) return this.lastCpuMs
    this.lastCpuMs = Number(this.isolate.cpuTime) / 1e6
    return this.lastCpuMs
  }

  private lastCpuMs = 0

  private async load_ (): Promise<void> {
    const { init } = this
    const context = await this.isolate.createContext()
    context.evalSync(TEXT_ENCODING, { filename: 'fast-text-encoding.js' })
    if (init.config.connect) context.evalSync(WEB_STREAMS, { filename: 'web-streams-polyfill.js' })
    const op = new ivm.Callback((id: number, name: string, ...args: unknown[]) => init.onOp(this, id, name, args))
    const log = new ivm.Callback((level: string, text: string) => { init.onLog(level, text) })
    // Nothing that could lead back to the node stays on the global object.
    context.evalClosureSync(`(${guestWeb.toString()})($0)`, [op])
    const entries = context.evalClosureSync(`return (${guestBootstrap.toString()})($0, $1, $2)`, [op, log, JSON.stringify(init.config)], { result: { reference: true } }) as ivm.Reference<Record<Entry | 'register', Function>>
    let module: ivm.Module
    try {
      module = await this.isolate.compileModule(init.source, { filename: `${init.app}.mjs` })
    } catch (err) {
      throw new PraasError('BAD_REQUEST', `the app module does not compile: ${(err as Error).message}`)
    }
    const imports = module.dependencySpecifiers
    if (imports.length > 0) throw new PraasError('BAD_REQUEST', `the app module imports ${imports.join(', ')}: an app is one ES module that imports nothing (bundle its dependencies)`)
    module.instantiateSync(context, (specifier) => { throw new Error(`import of ${specifier} is not allowed`) })
    try {
      // Its top-level code runs here, inside the sandbox, within a time limit.
      await module.evaluate({ timeout: init.loadTimeoutMs })
    } catch (err) {
      const why = isTimeout(err) ? `its top-level code ran past ${init.loadTimeoutMs} ms` : this.disposed ? `its top-level code ran out of its ${init.memoryMiB} MiB` : (err as Error).message
      throw new PraasError('BAD_REQUEST', `the app module does not load: ${why}`)
    }
    const register = entries.getSync('register', { reference: true })
    this.functions = register.applySync(undefined, [module.namespace.derefInto()], { result: { copy: true } }) as string[]
    if (this.functions.length === 0) throw new PraasError('BAD_REQUEST', 'the app module does not load: it exports no functions')
    this.entries = {
      start: entries.getSync('start', { reference: true }),
      settle: entries.getSync('settle', { reference: true }),
      fire: entries.getSync('fire', { reference: true }),
      forget: entries.getSync('forget', { reference: true })
    }
  }

  /** Runs a guest entry on the node's thread, stopped after `timeoutMs` (inline lanes). Throws what the run threw. */
  enterSync (entry: Entry, args: unknown[], timeoutMs: number): void {
    this.entries![entry].applySync(undefined, args, { arguments: { copy: true }, timeout: Math.max(1, Math.ceil(timeoutMs)) })
  }

  /** Runs a guest entry on a thread of isolated-vm's pool (pooled lanes). */
  async enter (entry: Entry, args: unknown[], timeoutMs: number): Promise<void> {
    await this.entries![entry].apply(undefined, args, { arguments: { copy: true }, timeout: Math.max(1, Math.ceil(timeoutMs)) })
  }

  dispose (): void {
    if (!this.isolate.isDisposed) this.isolate.dispose()
  }
}
