import type { Cancellation } from '../../protocol/index.js'
import type { AbortOptions, Logger } from '@libp2p/interface'

/**
 * The one seam between the node and whatever runs app code. The node's side is `SandboxHost`
 * (process state, messages, invocations); the sandbox's side is `Sandbox`. The isolate sandbox
 * (isolate-sandbox.ts) implements it with V8 isolates in the node's OS process; a sandbox that
 * hosts isolates in a child process per app could replace it behind the same two interfaces.
 */

/** What an app was granted and limited to at deploy. 0 (or absent) means the node's default. */
export interface AppManifest {
  /** `exec:PROGRAM`, `net:HOST:PORT`. */
  allow: string[]
  /** Memory of one isolate of the app, heap and array buffers together. */
  memoryMiB: number
  /** CPU time one call may use. */
  cpuMs: number
}

/** The running call a ctx operation belongs to. */
export interface CallContext {
  readonly id: number
  readonly pid: string
  /** Aborted when the call ends early (time limit, caller gone): what it waits for stops. */
  readonly cancellation: Cancellation
  /**
   * The activation the call runs in (the runtime's record of the process): the operations of a
   * call whose activation was let go are refused, even once the process is active here again.
   */
  readonly owner?: object
}

/** Operations on the process a call runs in, answered by the node (runtime.ts). */
export type ProcessOp =
  | 'get' | 'put' | 'delete' | 'keys'
  | 'invoke' | 'send' | 'recv'
  | 'txBegin' | 'txGet' | 'txPut' | 'txDelete' | 'txKeys' | 'txCommit' | 'txAbort'

export interface SandboxHost {
  /**
   * A ctx operation: state operations answer at once (a value), the others with a promise. Bad
   * arguments throw a PraasError (the guest's values are checked here, not trusted).
   */
  op(call: CallContext, op: ProcessOp, args: unknown[]): unknown
  /**
   * A write (`put`, `delete`) that may be held by the sandbox and applied a moment later, in
   * order, as if now: its checked key and value (undefined: a delete), or undefined where it must
   * go through `op` in its turn (a transaction holds the process). Bad arguments throw.
   */
  prepareWrite?(call: CallContext, op: 'put' | 'delete', args: unknown[]): [string, Uint8Array | undefined] | undefined
  /** The call is over (answered, failed, or stopped): what it still holds (a transaction) is let go. */
  ended(call: CallContext): void
}

/** The code of one app version, ready to run calls of any of its processes. */
export interface Sandbox {
  readonly functions: string[]
  run(pid: string, fn: string, input: Uint8Array, options: { timeoutMs: number, cancel?: AbortOptions, owner?: object }): Promise<Uint8Array>
  /** Stops taking calls; resolves once the running ones ended (or at the latest after `graceMs`), then frees everything. */
  retire(graceMs?: number): Promise<void>
  /** Frees everything now; running calls fail. */
  stop(): Promise<void>
}

export interface SandboxInit {
  app: string
  source: Uint8Array
  manifest: AppManifest
  host: SandboxHost
  log: Logger
}

export type SandboxFactory = (init: SandboxInit) => Promise<Sandbox>
