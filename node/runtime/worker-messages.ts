import type { ErrorCode } from '../../protocol/index.js'

/** Messages between the controller (the node's main thread) and a function worker. */

export type ContextOp =
  | { op: 'get', key: string }
  | { op: 'put', key: string, value: Uint8Array }
  | { op: 'delete', key: string }
  | { op: 'keys' }
  | { op: 'invoke', pid: string, fn: string, data: Uint8Array }
  | { op: 'send', pid: string, key: string, data: Uint8Array }
  | { op: 'recv', from: string, key: string, timeoutMs: number }

export type ToWorker =
  /** `solo`: no other call of the app was running on this node when this one started (a hot worker polls only then). */
  | { t: 'call', id: number, pid: string, app: string, fn: string, payload: Uint8Array, solo: boolean, slot: number, inc: number }
  | { t: 'opResult', opId: number, value: unknown }
  | { t: 'opError', opId: number, code: ErrorCode, message: string }
  | { t: 'ping', seq: number }

export type FromWorker =
  | { t: 'ready', functions: string[] }
  | { t: 'loadError', message: string }
  | { t: 'result', id: number, payload: Uint8Array }
  | { t: 'error', id: number, code: ErrorCode, message: string }
  | { t: 'op', id: number, opId: number, request: ContextOp }
  | { t: 'pong', seq: number }

/** What the worker is started with. */
export interface WorkerInit {
  modulePath: string
  /** The doorbell's shared memory (doorbell.ts), rung after every post to the worker. */
  bell: SharedArrayBuffer
  /** How long the worker polls its doorbell after its last call ended (0: it never does). */
  hotSpinMs: number
  /** The node's polling slots (doorbell.ts PollerSlots): the shared count, and how many may poll. */
  pollers: SharedArrayBuffer
  maxPollers: number
  /** Where the worker posts everything it sends the controller, and the doorbell it rings after each post. */
  replies: import('node:worker_threads').MessagePort
  replyBell: SharedArrayBuffer
  /** The node's state write counters (state-versions.ts), indexed by a call's `slot`; absent: reads are not cached. */
  stateVersions?: SharedArrayBuffer
}
