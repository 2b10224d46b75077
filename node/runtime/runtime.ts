import { randomBytes } from 'node:crypto'
import { checkPid, MAX_FORWARDED_RESULT_BYTES, MAX_KEY_LENGTH, MAX_PAYLOAD_BYTES, PraasError, toPraasError } from '../../protocol/index.js'
import { isWholeBuffer } from '../../protocol/fresh-bytes.js'
import { ANY_SENDER, Mailbox } from './mailbox.js'
import { neverWritten } from './mail-journal.js'
import { ProcessState } from './process-state.js'
import { Transactions } from './transactions.js'
import type { AppRegistry } from './apps.js'
import type { Message } from './mailbox.js'
import type { CallContext, ProcessOp, SandboxHost } from './sandbox.js'
import type { AbortOptions } from '@libp2p/interface'

/**
 * The writes of a process that wrote nothing since its last batch: one shared empty map, never
 * written (a node holds thousands of idle processes; an empty Map costs about 200 bytes).
 */
export const NO_WRITES = neverWritten<string, Uint8Array | undefined>('writes')

/** A process hosted here: the node is its controller and owns its state. */
export interface ProcessRecord {
  pid: string
  app: string
  state: Map<string, Uint8Array>
  /** Made by its first message or recv (`Runtime.mailboxOf`): most processes never use one. */
  mailbox?: Mailbox
  /** The activation epoch the allocator issued for this activation. */
  epoch: { term: number, counter: number }
  /**
   * When an invocation last ended (the idle policy swaps processes idle for long): whole ms of
   * `performance.now()`, a small integer that V8 keeps in the record itself for the first 12
   * days of a node (a `Date.now()` is a boxed number of its own, per record).
   */
  lastActive: number
  /** Invocations running now. */
  running: number
  /** Writes since the last replicated batch (absolute values; undefined: deleted); NO_WRITES until the first. */
  dirty: Map<string, Uint8Array | undefined>
  /** The number of the last batch cut from `dirty`. */
  seq: number
  /** The last batch's replication, while it runs: a later commit waits for it. */
  committing?: Promise<void>
  /** Set while the process is frozen (swap, migration): new calls wait for it. */
  gate?: Gate
  /** The nodes that hold this activation's replicas (chosen on first commit). */
  replicas?: string[]
  /** Set when the process left this node for another (migration): its held calls follow it there. */
  movedTo?: string
  /** Its transactions, once one began (transactions.ts). */
  tx?: Transactions
  /**
   * Set (and counted up) when writes it holds could not reach enough replicas: nothing it
   * answers, reads included, leaves before its replicas hold a full copy (replicator.ts `repay`).
   */
  owes?: number
}

/** Holds the calls that arrive while a process is frozen, until it thaws or moves. */
export interface Gate {
  opened: Promise<void>
  open(): void
  /** Resolves when no invocation of the process runs any more. */
  drained?: () => void
}

/** Makes an invocation's writes durable before its result is acknowledged (replication). */
export interface Committer {
  /** Whether writes are replicated at all (R > 1): the runtime tracks them only then. */
  readonly tracking: boolean
  /**
   * `lazy`: for a delivery, which a recv may settle first (`Mailbox.settled`). `forward`: the
   * call's result, for the replicas to push to its caller as soon as they hold its writes.
   */
  commit(record: ProcessRecord, options?: { lazy?: boolean, forward?: Forwarding }): Promise<void>
}

/**
 * A client's call whose result the replicas that hold its writes may push to the client
 * (protocol/results.ts). The runtime sets `result` (if small enough to forward); the committer
 * sets `to`: the replicas it handed the result to.
 */
export interface Forwarding {
  /** The client's peer id, and the call's id on its invoke stream. */
  client: string
  call: number
  /** Whether the result may still be answered now (the node's lease has held since the call came). */
  answerable(): boolean
  result?: Uint8Array
  to?: string[]
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
  /** Replication of writes; without it, state lives in this node's memory until swapped. */
  committer?: Committer
}

/** How long, and for how many pids, a node remembers where its processes moved to. */
const MOVED_TTL_MS = 120_000
const MAX_MOVED = 10_000

/** Clients that processes here may hold unread messages for, at most. */
const MAX_CLIENT_MAILBOXES = 10_000

function checkFrom (from: unknown): asserts from is string {
  if (from !== ANY_SENDER) checkPid(from)
}

function checkKey (key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) throw new PraasError('BAD_REQUEST', `a key is a string of 1 to ${MAX_KEY_LENGTH} characters`)
  return key
}

/** Bytes from the sandbox (copied into buffers of their own), checked. */
function checkBytes (value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new PraasError('BAD_REQUEST', `${what} must be bytes`)
  if (value.byteLength > MAX_PAYLOAD_BYTES) throw new PraasError('TOO_LARGE', `${what} exceeds the limit`)
  return value
}

/** Whether a process holds writes or mailbox changes not cut into a batch yet. */
export function hasUncut (record: ProcessRecord): boolean {
  return record.dirty.size > 0 || record.mailbox?.journaled === true
}

/** The clock of `lastActive`. */
export function activeNow (): number {
  return Math.floor(performance.now())
}

/**
 * Typed arrays up to this size V8 keeps on its heap, with no buffer of their own in native
 * memory (V8's typed_array_max_size_in_heap), until something asks for their `.buffer`.
 */
const ON_HEAP_BYTES = 64

/**
 * A small state value as the state keeps it: a copy on V8's heap. The one the sandbox handed in
 * has a buffer of its own in native memory (malloc'd, with V8's bookkeeping: about 190 B for a
 * 1-byte value), kept as long as the value: most of a small process's state (a count, a flag).
 */
function kept (value: Uint8Array): Uint8Array {
  if (value.byteLength > ON_HEAP_BYTES) return value
  const copy = new Uint8Array(value.byteLength)
  copy.set(value)
  return copy
}

/**
 * A value handed to the sandbox, which copies it: a view is copied alone, not with the buffer it
 * sits in; a small value always (reading the `.buffer` of one kept on the heap would move it to
 * native memory for good).
 */
function whole (value: Uint8Array | undefined): Uint8Array | undefined {
  if (value == null) return value
  if (value.byteLength <= ON_HEAP_BYTES) return kept(value)
  return isWholeBuffer(value) ? value : new Uint8Array(value)
}

/**
 * The error of a call that ran (or of a message that went into a mailbox) whose commit failed.
 * MOVED from a commit means that a newer activation exists (a replica was fenced by it), and the
 * newer one may hold these writes: it may have come from the copy this activation kept when it
 * stepped down, or from a replica that took the batch first. MOVED tells callers that the call
 * provably did not run, and they send it again (the SDK, the router): counted twice. Such a
 * call fails UNAVAILABLE, which promises nothing either way, like any call whose answer was lost.
 */
function mayHaveRun (err: unknown): PraasError {
  const error = toPraasError(err)
  return error.code === 'MOVED' ? new PraasError('UNAVAILABLE', `${error.message}; the call ran, and its writes may be there`) : error
}

/** A random pid: 16 base64url characters, never starting with '-' (a CLI would take it for an option). */
export function newPid (): string {
  for (;;) {
    const pid = randomBytes(12).toString('base64url')
    if (!pid.startsWith('-')) return pid
  }
}

/**
 * The process table of a node and the controller side of every function call: state
 * operations run here, on the node's event loop, one at a time, so each is atomic and every
 * later invocation sees it.
 */
export class Runtime implements SandboxHost {
  private readonly processes = new Map<string, ProcessRecord>()
  private readonly clientMailboxes = new Map<string, Mailbox>()

  private readonly tracking: boolean
  /** Where processes that left this node went, for a while (their callers are told where). */
  private readonly moved = new Map<string, { node: string, until: number }>()

  constructor (private readonly init: RuntimeInit) {
    this.tracking = init.committer?.tracking === true
  }

  /** The node a process recently moved to from here, if it did. */
  movedTo (pid: string): string | undefined {
    const entry = this.moved.get(pid)
    if (entry == null) return undefined
    if (entry.until > Date.now() && !this.processes.has(pid)) return entry.node
    this.moved.delete(pid)
    return undefined
  }

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
    const version = this.init.apps.get(app)
    if (version == null) throw new PraasError('NOT_FOUND', `no app named ${app}`)
    if (this.processes.has(pid)) throw new PraasError('BAD_REQUEST', `process ${pid} exists already`)
    if (this.processes.size >= this.init.maxProcesses) throw new PraasError('UNAVAILABLE', `this node hosts its limit of ${this.init.maxProcesses} processes`)
    const record: ProcessRecord = {
      // the epoch alone: its grant (a caller's epoch may carry one) is the directory's to keep
      // the app's name as the registry holds it: one string for all its processes, not one per record
      pid, app: version.name, state: new ProcessState(), epoch: { term: epoch.term, counter: epoch.counter }, lastActive: activeNow(), running: 0, dirty: NO_WRITES, seq: 0
    }
    this.processes.set(pid, record)
    this.moved.delete(pid)
    return record
  }

  /**
   * Activates a process from a copy of its state (a swap image, a replica, a migration): the
   * state, the unread messages in order, the batch number it was replicated up to.
   */
  adopt (image: { pid: string, app: string, seq: number, state: Map<string, Uint8Array>, messages: Array<{ id: number, key: string, from: string, data: Uint8Array }> }, epoch: { term: number, counter: number }): ProcessRecord {
    const record = this.create(image.app, image.pid, epoch)
    // a small state (a key, say) as a new process keeps it
    record.state = image.state.size <= 1 ? new ProcessState(image.state) : image.state
    record.seq = image.seq
    for (const m of image.messages) this.mailboxOf(record).restore(m.key, { from: m.from, data: m.data }, m.id)
    return record
  }

  /**
   * Stops new calls of a process (they wait) and resolves once its running invocations have
   * ended, or rejects with UNAVAILABLE (and thaws it) if they do not end within `timeoutMs`.
   */
  async freeze (pid: string, timeoutMs: number): Promise<ProcessRecord> {
    const record = this.processes.get(pid)
    if (record == null) throw new PraasError('MOVED', `process ${pid} is not hosted on this node`)
    if (record.gate != null) throw new PraasError('UNAVAILABLE', `process ${pid} is already being swapped or moved`)
    const { promise, resolve } = Promise.withResolvers<void>()
    const gate: Gate = { opened: promise, open: resolve }
    record.gate = gate
    if (record.running > 0) {
      const drained = Promise.withResolvers<void>()
      gate.drained = drained.resolve
      const timer = setTimeout(() => { drained.reject(new PraasError('UNAVAILABLE', `process ${pid} still runs invocations after ${timeoutMs} ms`)) }, timeoutMs)
      try {
        await drained.promise
      } catch (err) {
        this.thaw(pid)
        throw err
      } finally {
        clearTimeout(timer)
      }
    }
    return record
  }

  /** Lets the held calls of a frozen process run again (here, or, if it left, wherever it went). */
  thaw (pid: string, record = this.processes.get(pid)): void {
    const gate = record?.gate
    if (record == null || gate == null) return
    record.gate = undefined
    gate.open()
  }

  /**
   * Removes a process that now lives elsewhere (moved, swapped, or superseded by a newer
   * activation): its held calls are released and find it wherever it is.
   */
  release (pid: string, reason: PraasError, movedTo?: string): ProcessRecord | undefined {
    const record = this.processes.get(pid)
    if (record == null) return undefined
    this.processes.delete(pid)
    record.movedTo = movedTo
    // Where it went last: a process that comes back here and leaves again (swap) must not point at an old home.
    this.moved.delete(pid)
    if (movedTo != null) {
      if (this.moved.size >= MAX_MOVED) this.moved.delete(this.moved.keys().next().value!)
      this.moved.set(pid, { node: movedTo, until: Date.now() + MOVED_TTL_MS })
    }
    record.mailbox?.close(reason)
    this.thaw(pid, record)
    return record
  }

  delete (pid: string): boolean {
    const record = this.processes.get(pid)
    if (record == null) return false
    record.mailbox?.close(new PraasError('NOT_FOUND', `process ${pid} was deleted`))
    this.processes.delete(pid)
    this.thaw(pid, record)
    return true
  }

  /** Puts a message into the mailbox of a process hosted here; a pid hosted elsewhere is MOVED. */
  async deliver (pid: string, key: string, message: Message, options: AbortOptions = {}): Promise<void> {
    const record = this.processes.get(pid)
    if (record == null) throw new PraasError('MOVED', `process ${pid} is not hosted on this node`)
    if (record.gate != null) {
      return await this.afterGate(record, async () => await this.deliver(pid, key, message, options),
        async () => { await this.init.remoteSend(pid, key, message, options) })
    }
    await this.acknowledged(record, key, await this.mailboxOf(record).put(key, message, options))
  }

  /** Resolves once message `id`, put into `record`'s mailbox under `key`, may be acknowledged to its sender. */
  private async acknowledged (record: ProcessRecord, key: string, id: number): Promise<void> {
    // Acknowledged means durable: a queued message is on the replicas first, unless a recv takes it
    // sooner. One handed to a recv is in a call of this (leased, hence current) activation.
    const mailbox = this.mailboxOf(record)
    if (!mailbox.uncut(id)) return
    try {
      await mailbox.settled(id, this.init.committer!.commit(record, { lazy: true }))
    } catch (err) {
      // not acknowledged: taken back, so that no copy is left here; a copy may be elsewhere all the same
      mailbox.withdraw(key, id)
      throw mayHaveRun(err)
    }
  }

  /**
   * The mailbox of a process, made at its first use (a message, a recv, a restored image's
   * unread mail). A process without one has no waiter to fail when it leaves.
   */
  mailboxOf (record: ProcessRecord): Mailbox {
    record.mailbox ??= new Mailbox(this.init.mailboxBytes, { journaled: this.tracking })
    return record.mailbox
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

  /**
   * Runs a function of a process hosted here. A pid hosted elsewhere is MOVED. `forward`: a
   * client's call, whose result the replicas that hold its writes may push to the client.
   */
  async invoke (pid: string, fn: string, payload: Uint8Array, options: InvokeOptions = {}, forward?: Forwarding): Promise<Uint8Array> {
    const record = this.processes.get(pid)
    if (record == null) throw new PraasError('MOVED', `process ${pid} is not hosted on this node`)
    const app = this.init.apps.get(record.app)
    if (app == null) throw new PraasError('NOT_FOUND', `no app named ${record.app}`)
    if (!app.functions.includes(fn)) throw new PraasError('NOT_FOUND', `app ${record.app} has no function ${fn}`)
    if (payload.byteLength > MAX_PAYLOAD_BYTES) throw new PraasError('TOO_LARGE', 'payload exceeds the limit')
    const limit = this.init.functionTimeoutMs
    const timeoutMs = options.timeoutMs != null && options.timeoutMs > 0 ? Math.min(options.timeoutMs, limit) : limit
    if (record.gate != null) {
      return await this.afterGate(record, async () => await this.invoke(pid, fn, payload, options, forward),
        async () => await this.init.remoteInvoke(pid, fn, payload, { signal: options.signal }))
    }
    record.running++
    let result: Uint8Array
    try {
      result = await app.sandbox.run(pid, fn, payload, { timeoutMs, cancel: options, owner: record })
    } finally {
      this.invocationEnded(record)
    }
    // Acknowledged means durable: the writes of this call (and of any call that ran beside it) are replicated first.
    if (hasUncut(record) || record.committing != null || record.owes != null) {
      if (forward != null && result.byteLength <= MAX_FORWARDED_RESULT_BYTES) forward.result = result
      await this.init.committer!.commit(record, { forward }).catch((err: unknown) => { throw mayHaveRun(err) })
    }
    return result
  }

  private invocationEnded (record: ProcessRecord): void {
    record.running--
    record.lastActive = activeNow()
    if (record.running === 0) record.gate?.drained?.()
  }

  /** Waits while a process is frozen, then runs the call again: here, or where the process went. */
  private async afterGate<T> (record: ProcessRecord, again: () => Promise<T>, forward: () => Promise<T>): Promise<T> {
    await record.gate!.opened
    return record.movedTo != null && this.processes.get(record.pid) == null ? await forward() : await again()
  }

  /** Writes a value (undefined: deletes it), tracked for replication. */
  private write (record: ProcessRecord, key: string, value: Uint8Array | undefined): void {
    if (value === undefined) record.state.delete(key)
    else record.state.set(key, value = kept(value))
    if (this.tracking) {
      if (record.dirty === NO_WRITES) record.dirty = new Map()
      record.dirty.set(key, value)
    }
  }

  private transactions (record: ProcessRecord): Transactions {
    record.tx ??= new Transactions({
      get: (key) => record.state.get(key),
      keys: () => record.state.keys(),
      apply: (writes) => { for (const [key, value] of writes) this.write(record, key, value) }
    })
    return record.tx
  }

  /**
   * A ctx call of a running invocation (SandboxHost): state operations answer at once, on this
   * thread, so each is atomic; the others answer with a promise.
   */
  op (call: CallContext, op: ProcessOp, args: unknown[]): unknown {
    const record = this.activationOf(call)
    if (record == null) throw new PraasError('NOT_FOUND', `process ${call.pid} is gone`)
    const cancel = call.cancellation
    switch (op) {
      case 'get': return whole(record.state.get(checkKey(args[0])))
      case 'keys': return [...record.state.keys()]
      case 'put': {
        const key = checkKey(args[0])
        const value = checkBytes(args[1], 'a state value')
        return record.tx == null ? this.write(record, key, value) : record.tx.write(call.id, () => { this.write(record, key, value) })
      }
      case 'delete': {
        const key = checkKey(args[0])
        return record.tx == null ? this.write(record, key, undefined) : record.tx.write(call.id, () => { this.write(record, key, undefined) })
      }
      case 'txBegin': return this.transactions(record).begin(call.id)
      case 'txGet': return whole(this.transactions(record).get(call.id, args[0], checkKey(args[1])))
      case 'txKeys': return this.transactions(record).keys(call.id, args[0])
      case 'txPut': return this.transactions(record).put(call.id, args[0], checkKey(args[1]), checkBytes(args[2], 'a state value'))
      case 'txDelete': return this.transactions(record).put(call.id, args[0], checkKey(args[1]), undefined)
      case 'txCommit': return this.transactions(record).commit(call.id, args[0])
      case 'txAbort': return record.tx?.abort(call.id, args[0])
      case 'invoke': {
        const [pid, fn, data] = args
        checkPid(pid)
        if (typeof fn !== 'string') throw new PraasError('BAD_REQUEST', 'a function name is a string')
        const payload = checkBytes(data, 'data')
        // the call's Cancellation as it is: nothing on the way makes its AbortSignal unless it must wait on one
        if (this.processes.has(pid)) return this.invoke(pid, fn, payload, cancel)
        return this.init.remoteInvoke(pid, fn, payload, cancel)
      }
      case 'send': {
        const [pid, key, data] = args
        checkPid(pid)
        const message = { from: call.pid, data: checkBytes(data, 'a message') }
        const target = this.processes.get(pid)
        if (target == null) return this.init.remoteSend(pid, checkKey(key), message, cancel)
        // a message that goes in at once answers at once (no promise: the call goes on without waiting a turn)
        const to = checkKey(key)
        if (target.gate == null) {
          const mailbox = this.mailboxOf(target)
          const id = mailbox.putNow(to, message)
          if (id != null) return mailbox.uncut(id) ? this.acknowledged(target, to, id) : undefined
        }
        return this.deliver(pid, to, message, cancel)
      }
      case 'recv': {
        const [from, key, timeoutMs] = args
        checkFrom(from)
        const mailbox = this.mailboxOf(record)
        return mailbox.takeNow(from, checkKey(key)) ??
          mailbox.take(from, checkKey(key), { signal: cancel.signal, timeoutMs: Number(timeoutMs) || 0 })
      }
      default: throw new PraasError('BAD_REQUEST', `no ctx operation ${String(op)}`)
    }
  }

  /** A write that the sandbox may hold for a moment and apply through `op` (SandboxHost.prepareWrite). */
  prepareWrite (call: CallContext, op: 'put' | 'delete', args: unknown[]): [string, Uint8Array | undefined] | undefined {
    const record = this.activationOf(call)
    if (record == null || record.tx != null) return undefined
    return [checkKey(args[0]), op === 'put' ? checkBytes(args[1], 'a state value') : undefined]
  }

  /** A call is over: a transaction it left open is dropped. */
  ended (call: CallContext): void {
    const record = (call.owner as ProcessRecord | undefined) ?? this.processes.get(call.pid)
    const tx = record?.tx
    if (tx == null) return
    tx.endCall(call.id)
    if (tx.idle) record!.tx = undefined
  }

  /**
   * The activation a call runs in, while it is the one here: a call that outlived its activation
   * (stepped down, swapped, moved) must not read or write the next one, which may have come back
   * from another copy meanwhile.
   */
  private activationOf (call: CallContext): ProcessRecord | undefined {
    const record = this.processes.get(call.pid)
    return call.owner == null || call.owner === record ? record : undefined
  }
}
