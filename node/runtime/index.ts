/** The process runtime: app modules, their worker pools, and the table of hosted processes. */
export { AppRegistry, sourceHash } from './apps.js'
export type { AppVersion } from './apps.js'
export { Runtime, newPid } from './runtime.js'
export type { ProcessRecord, InvokeOptions, RemoteInvoker, RemoteSender, Committer, Gate } from './runtime.js'
export { Mailbox, ANY_SENDER } from './mailbox.js'
export { StateVersions } from './state-versions.js'
export type { Message } from './mailbox.js'
export { exactBytes, storedBytes } from './exact-bytes.js'
