import { randomBytes } from 'node:crypto'
import { checkPid, MAX_PAYLOAD_BYTES, PraasError } from '../../protocol/index.js'
import type { AppRegistry } from './apps.js'
import type { ContextOp } from './worker-messages.js'
import type { AbortOptions } from '@libp2p/interface'

/** A process hosted here: the node is its controller and owns its state. */
export interface ProcessRecord {
  pid: string
  app: string
  state: Map<string, Uint8Array>
  createdAt: number
}

export interface InvokeOptions extends AbortOptions {
  /** The caller's limit in ms (0: none); the node's own function timeout caps it. */
  timeoutMs?: number
}

/** Routes a ctx.invoke to a process that is not hosted here. */
export interface RemoteInvoker {
  (pid: string, fn: string, data: Uint8Array, options: AbortOptions): Promise<Uint8Array>
}

export interface RuntimeInit {
  apps: AppRegistry
  functionTimeoutMs: number
  maxProcesses: number
  remoteInvoke: RemoteInvoker
}

export function newPid (): string {
  return randomBytes(12).toString('base64url')
}

/**
 * The process table of a node and the controller side of every function call: state
 * operations run here, on the node's event loop, one at a time, so each is atomic and every
 * later invocation sees it.
 */
export class Runtime {
  private readonly processes = new Map<string, ProcessRecord>()

  constructor (private readonly init: RuntimeInit) {}

  get (pid: string): ProcessRecord | undefined {
    return this.processes.get(pid)
  }

  list (): ProcessRecord[] {
    return [...this.processes.values()]
  }

  get load (): number {
    return this.processes.size
  }

  create (app: string, pid: string = newPid()): ProcessRecord {
    checkPid(pid)
    if (this.init.apps.get(app) == null) throw new PraasError('NOT_FOUND', `no app named ${app}`)
    if (this.processes.has(pid)) throw new PraasError('BAD_REQUEST', `process ${pid} exists already`)
    if (this.processes.size >= this.init.maxProcesses) throw new PraasError('UNAVAILABLE', `this node hosts its limit of ${this.init.maxProcesses} processes`)
    const record: ProcessRecord = { pid, app, state: new Map(), createdAt: Date.now() }
    this.processes.set(pid, record)
    return record
  }

  delete (pid: string): boolean {
    return this.processes.delete(pid)
  }

  /** Runs a function of a process hosted here. A pid hosted elsewhere is MOVED. */
  async invoke (pid: string, fn: string, payload: Uint8Array, options: InvokeOptions = {}): Promise<Uint8Array> {
    const record = this.processes.get(pid)
    if (record == null) throw new PraasError('MOVED', `process ${pid} is not hosted on this node`)
    const app = this.init.apps.get(record.app)
    if (app == null) throw new PraasError('NOT_FOUND', `no app named ${record.app}`)
    if (!app.functions.includes(fn)) throw new PraasError('NOT_FOUND', `app ${record.app} has no function ${fn}`)
    if (payload.byteLength > MAX_PAYLOAD_BYTES) throw new PraasError('TOO_LARGE', 'payload exceeds the limit')
    const limit = this.init.functionTimeoutMs
    const timeoutMs = options.timeoutMs != null && options.timeoutMs > 0 ? Math.min(options.timeoutMs, limit) : limit
    return await app.pool.run(pid, fn, payload, { timeoutMs, signal: options.signal })
  }

  /** A ctx call of a running invocation of `pid`. */
  async onContextOp (pid: string, request: ContextOp, signal: AbortSignal): Promise<unknown> {
    const record = this.processes.get(pid)
    if (record == null) throw new PraasError('NOT_FOUND', `process ${pid} is gone`)
    switch (request.op) {
      case 'get': return record.state.get(request.key)
      case 'put': record.state.set(request.key, request.value); return undefined
      case 'delete': record.state.delete(request.key); return undefined
      case 'keys': return [...record.state.keys()]
      case 'invoke':
        checkPid(request.pid)
        if (this.processes.has(request.pid)) return await this.invoke(request.pid, request.fn, request.data, { signal })
        return await this.init.remoteInvoke(request.pid, request.fn, request.data, { signal })
      case 'send':
      case 'recv':
        throw new PraasError('UNAVAILABLE', 'channels (ctx.send / ctx.recv) are not available on this node version yet')
    }
  }
}
