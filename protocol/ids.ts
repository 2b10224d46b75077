/** Invocations: one long-lived stream per peer pair, calls multiplexed on it by request id. */
export const INVOKE_PROTOCOL = '/praas/invoke/1.0.0'

/** Control operations (deploy, create, list, locate, delete, app fetch…): one long-lived stream per peer pair, requests multiplexed on it (the invoke framing). */
export const CTL_PROTOCOL = '/praas/ctl/2.0.0'

/** Channel messages (send/recv) between nodes, and between clients and nodes: same framing. */
export const CHANNEL_PROTOCOL = '/praas/channel/1.0.0'

/** Durable state between nodes: replication batches, image chunks, activation of a moved process. */
export const STATE_PROTOCOL = '/praas/state/1.0.0'

/**
 * Replication batches from a host to one replica (node/durability/replica-channel.ts): a stream of
 * their own, length-prefixed ReplicateRequests answered in order, leaner than a state call.
 */
export const REPLICATE_PROTOCOL = '/praas/replicate/1.0.0'

/**
 * The bulk leg of the state protocol: one stream per image, carrying its chunks back to back at
 * the speed of a raw stream (no call framing); the call on /praas/state/1.0.0 that uses them follows.
 */
export const STATE_CHUNKS_PROTOCOL = '/praas/state/1.0.0/chunks'

/** A client presents its token here, once per connection (protocol/auth.ts). */
export const AUTH_PROTOCOL = '/praas/auth/1.0.0'

/**
 * Results of a client's replicated calls, pushed to it by the replicas that hold their writes
 * (protocol/results.ts): the client opens one stream to each replica its hosts name.
 */
export const RESULT_PROTOCOL = '/praas/result/1.0.0'
