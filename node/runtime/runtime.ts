import { randomBytes } from 'node:crypto'
import { checkPid, MAX_PAYLOAD_BYTES, PraasError } from '../../protocol/index.js'
import { ANY_SENDER, Mailbox } from './mailbox.js'
import type { AppRegistry } from './apps.js'
import type { Message } from './mailbox.js'
import type { ContextOp } from './worker-messages.js'
import type { AbortOptions } from '@libp2p/interface'

/** A process hosted here: the node is its controller and owns its state. */
export interface ProcessRecord {
  pid: string
  app: string
  state: Map<string, Uint8Array>
  mailbox: Mailbox
  /** The activation epoch the allocator issued for this activation. */
  epoch: { term: number, counter: number }
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

/** Routes a ctx.send to a mailbox that is not on this node (another node's process, or a client). */
export interface RemoteSender {
  (to: string, key: string, message: Message, options: AbortOptions): Promise<void>
}

export interface RuntimeInit {
  apps: AppRegistry
  functionTimeoutMs: number
  maxProcesses: number
  /** The byte limit of one process's mailbox (and of one client's mailbox on this node). */
  mailboxBytes: number
  remoteInvoke: RemoteInvoker
  remoteSend: RemoteSender
}

/** Clients that processes here may hold unread messages for, at most. */
const MAX_CLIENT_MAILBOXES = 10_000

/** Runs `fn` with a signal that fires when `parent` does or after `ms` (0: never). */
export async function withDeadline<T> (ms: number, parent: AbortSignal | undefined, fn: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
  if (ms <= 0) return await fn(parent)
  const controller = new AbortController()
  const timer = setTimeout(() => { controller.abort(new PraasError('TIMEOUT', `nothing within ${ms} ms`)) }, ms)
  const onAbort = (): void => { controller.abort(parent?.reason) }
  parent?.addEventListener('abort', onAbort, { once: true })
  try {
    return await fn(controller.signal)
  } finally {
    clearTimeout(timer)
    parent?.removeEventListener('abort', onAbort)
  }
}

function checkFrom (from: unknown): asserts from is string {
  if (from !== ANY_SENDER) checkPid(from)
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
  private readonly clientMailboxes = new Map<string, Mailbox>()

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

  create (app: string, pid: string = newPid(), epoch = { term: 0, counter: 0 }): ProcessRecord {
    checkPid(pid)
    if (this.init.apps.get(app) == null) throw new PraasError('NOT_FOUND', `no app named ${app}`)
    if (this.processes.has(pid)) throw new PraasError('BAD_REQUEST', `process ${pid} exists already`)
    if (this.processes.size >= this.init.maxProcesses) throw new PraasError('UNAVAILABLE', `this node hosts its limit of ${this.init.maxProcesses} processes`)
    const record: ProcessRecord = { pid, app, state: new Map(), mailbox: new Mailbox(this.init.mailboxBytes), epoch, createdAt: Date.now() }
    this.processes.set(pid, record)
    return record
  }

  delete (pid: string): boolean {
    const record = this.processes.get(pid)
    record?.mailbox.close(new PraasError('NOT_FOUND', `process ${pid} was deleted`))
    return this.processes.delete(pid)
  }

  /** Puts a message into the mailbox of a process hosted here; a pid hosted elsewhere is MOVED. */
  async deliver (pid: string, key: string, message: Message, options: AbortOptions = {}): Promise<void> {
    const record = this.processes.get(pid)
    if (record == null) throw new PraasError('MOVED', `process ${pid} is not hosted on this node`)
    await record.mailbox.put(key, message, options)
  }

  /** The mailbox on this node that holds what processes here sent to a client. */
  clientMailbox (clientId: string): Mailbox {
    let mailbox = this.clientMailboxes.get(clientId)
    if (mailbox == null) {
      if (this.clientMailboxes.size >= MAX_CLIENT_MAILBOXES) throw new PraasError('UNAVAILABLE', 'too many client mailboxes on this node')
      mailbox = new Mailbox(this.init.mailboxBytes)
      this.clientMailboxes.set(clientId, mailbox)
    }
    return mailbox
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
      case 'send': {
        checkPid(request.pid)
        const message = { from: pid, data: request.data }
        if (this.processes.has(request.pid)) return await this.deliver(request.pid, request.key, message, { signal })
        return await this.init.remoteSend(request.pid, request.key, message, { signal })
      }
      case 'recv':
        checkFrom(request.from)
        return await withDeadline(request.timeoutMs, signal, async (s) => await record.mailbox.take(request.from, request.key, { signal: s }))
    }
  }
}
