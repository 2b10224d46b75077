/** The process runtime: app modules in their sandboxes, and the table of hosted processes. */
export { AppRegistry, laterVersion, manifestOf, sourceHash, versionHash, NO_MANIFEST } from './apps.js'
export type { AppVersion } from './apps.js'
export { NO_WRITES, Runtime, activeNow, hasUncut, newPid } from './runtime.js'
export type { ProcessRecord, InvokeOptions, RemoteInvoker, RemoteSender, Committer, Forwarding, Gate } from './runtime.js'
export { Mailbox, ANY_SENDER } from './mailbox.js'
export type { MailJournal, Message } from './mailbox.js'
export type { AppManifest, Sandbox, SandboxFactory, SandboxHost } from './sandbox.js'
export { exactBytes, storedBytes } from './exact-bytes.js'
