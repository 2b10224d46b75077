/** Durable processes: replication of writes (group commit), swap, restore, live migration, fencing. */
export { Lifecycle } from './lifecycle.js'
export type { LifecycleInit } from './lifecycle.js'
export { Replicator } from './replicator.js'
export type { ReplicatorInit } from './replicator.js'
export { StateClient } from './state-client.js'
export { StateService } from './state-service.js'
export { chooseReplicas } from './replica-set.js'
export { receiveChunks, sendChunks } from './chunk-stream.js'
