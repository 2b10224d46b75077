/**
 * The cluster layer: membership and load (gossipsub heartbeats), leader election with terms,
 * and the thin allocator on the leader (placement, activation epochs). See docs/cluster.md.
 *
 * `clusterServices(options)` gives the libp2p `services` and `peerDiscovery` that assemble it,
 * together with the DHT and the pid directory (node/directory).
 */
export { clusterServices } from './services.js'
export type { ClusterOptions, ClusterServices } from './services.js'
export { Membership } from './membership.js'
export type { Member, MembershipInit, MembershipEvents } from './membership.js'
export { LeaderElection } from './election.js'
export type { LeaderChange, LeaderElectionInit, LeaderElectionEvents } from './election.js'
export { Allocator } from './allocator.js'
export type { AllocateRequest, Placement } from './allocator.js'
export { HEARTBEAT_TOPIC, ELECT_PROTOCOL, ALLOC_PROTOCOL } from './constants.js'
