// The test's side of a client OS process running in a host of a test network
// (netns-client-main.ts): requests with time limits, and the calls of its caller loops.
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import { PraasError } from '../../protocol/errors.js'
import type { ClientAnswer, ClientCommand, ClientLine } from './netns-client-main.js'
import type { TestNetwork } from './netns.js'
import type { ChildProcess } from 'node:child_process'

const MAIN = fileURLToPath(new URL('./netns-client-main.js', import.meta.url))
const CONNECT_TIMEOUT_MS = 30_000
const REQUEST_TIMEOUT_MS = 60_000

/** One call of a caller loop, as the client saw it; times in us on the machine's monotonic clock. */
export interface LoopCall {
  /** Which client made it (the label given to `startNetnsClient`). */
  client: string
  run: string
  caller: number
  /** An increment, or a read between two. */
  kind: 'incr' | 'read'
  key: string
  ok: boolean
  /** The function's answer, if it was acknowledged. */
  value?: string
  /** The error code and message, if it failed. */
  code?: string
  message?: string
  start: number
  end: number
}

/** The answer to a request, with when it was sent and answered (us, monotonic). */
export interface Timed<T> {
  result: T
  start: number
  end: number
}

type Command = ClientCommand extends infer C ? C extends { id: number } ? Omit<C, 'id'> : never : never
type Pending = { resolve: (line: ClientAnswer) => void, reject: (err: Error) => void }

export class NetnsClient {
  /** Every loop call so far, in the order the lines arrived. */
  readonly calls: LoopCall[] = []
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private stderr = ''
  private readonly listeners = new Set<(call: LoopCall) => void>()

  constructor (readonly label: string, readonly host: string, private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => { this.take(JSON.parse(line) as ClientLine) })
    child.stderr!.on('data', (chunk: Buffer) => { this.stderr = (this.stderr + chunk.toString()).slice(-20_000) })
    child.once('exit', (code, signal) => {
      const err = new Error(`client ${label} exited (${signal ?? code}):\n${this.stderr}`)
      for (const p of this.pending.values()) p.reject(err)
      this.pending.clear()
    })
  }

  private take (line: ClientLine): void {
    if ('ev' in line) {
      const { run, caller, kind, key, ok, value, code, message, start, end } = line
      const call: LoopCall = { client: this.label, run, caller, kind, key, ok, value, code, message, start, end }
      this.calls.push(call)
      for (const listener of this.listeners) listener(call)
      return
    }
    const pending = this.pending.get(line.re)
    this.pending.delete(line.re)
    pending?.resolve(line)
  }

  /** Waits for the line answering request `id` (0: the client's "connected"). */
  async answer (id: number, timeoutMs: number, what: string): Promise<ClientAnswer> {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`client ${this.label}: no answer to ${what} within ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, {
        resolve: (line) => { clearTimeout(timer); resolve(line) },
        reject: (err) => { clearTimeout(timer); reject(err) }
      })
    })
  }

  /** Sends a request; rejects with a PraasError carrying the client's error code, or after `timeoutMs`. */
  async timed<T = unknown> (command: Command, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Timed<T>> {
    const id = this.nextId++
    const answer = this.answer(id, timeoutMs, command.op)
    this.child.stdin!.write(JSON.stringify({ ...command, id }) + '\n')
    const line = await answer
    if (!line.ok) throw Object.assign(new PraasError(line.code as any, line.message), { start: line.start, end: line.end })
    return { result: line.result as T, start: line.start, end: line.end }
  }

  async request<T = unknown> (command: Command, timeoutMs = REQUEST_TIMEOUT_MS): Promise<T> {
    return (await this.timed<T>(command, timeoutMs)).result
  }

  /** Calls `listener` with every loop call from now on; returns the function that stops it. */
  onCall (listener: (call: LoopCall) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /**
   * Starts `keys.length` callers, caller i calling `incr(keys[i])` back to back until `stopLoop`,
   * each followed by a `get(reads[i])` where `reads` names a key for caller i.
   */
  async startLoop (run: string, pid: string, keys: string[], options: { reads?: string[], timeoutMs?: number, pauseAfterErrorMs?: number } = {}): Promise<void> {
    await this.request({ op: 'loop', run, pid, keys, reads: options.reads, timeoutMs: options.timeoutMs ?? 5000, pauseAfterErrorMs: options.pauseAfterErrorMs ?? 100 })
  }

  /** Stops a loop; resolves once each of its callers' last call ended. */
  async stopLoop (run: string): Promise<{ acked: number, failed: number }> {
    return await this.request({ op: 'stop', run })
  }

  get running (): boolean {
    return this.child.exitCode == null && this.child.signalCode == null
  }

  /** Ends the client (closing its stdin is its signal) and waits for it, killing it after a while. */
  async close (): Promise<void> {
    if (!this.running) return
    const exited = new Promise(resolve => this.child.once('exit', resolve))
    this.child.stdin!.end()
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }
}

export interface NetnsClientOptions {
  /** A name for messages and histories (default `<host>-client`). */
  label?: string
  /** The SDK Client's limit for control calls and for dialling a node (its default: 30 s). */
  timeoutMs?: number
  /** What the client may do (the cluster's admin token in the tests). */
  token?: string
}

/** Starts a client OS process in `host`'s namespace, bootstrapped at `bootstrap`; resolves once it connected. */
export async function startNetnsClient (net: TestNetwork, host: string, bootstrap: string[], options: NetnsClientOptions = {}): Promise<NetnsClient> {
  const label = options.label ?? `${host}-client`
  const sdkOptions = { ...(options.timeoutMs != null ? { timeoutMs: options.timeoutMs } : {}), ...(options.token != null ? { token: options.token } : {}) }
  const child = net.spawn(host, process.execPath, [MAIN, JSON.stringify(bootstrap), JSON.stringify(sdkOptions)], { stdio: ['pipe', 'pipe', 'pipe'] })
  const client = new NetnsClient(label, host, child)
  try {
    const hello = await client.answer(0, CONNECT_TIMEOUT_MS, 'connect')
    if (!hello.ok) throw new Error(`client ${label} could not connect: ${hello.message}`)
  } catch (err) {
    child.kill('SIGKILL')
    throw err
  }
  return client
}
