/**
 * The praas SDK: a `Client` that deploys apps, creates processes and invokes them by pid, the
 * `PraasError` it throws (branch on `code`), and the `Context` type for function authors.
 */
import '../protocol/polyfill.js'
export { Client } from './client.js'
export type { ClientOptions, ClusterStatus, CreateOptions, DeployOptions, InvokeOptions, NodeStatus, ProcessEntry } from './client.js'
export { PraasError } from '../protocol/errors.js'
export type { ErrorCode } from '../protocol/errors.js'
export type { Context, StateApi } from './context.js'
