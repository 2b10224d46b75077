/**
 * The cluster layer: the member set (roster), membership over SWIM (who is reachable, and a
 * small record per node), leader election with terms, leases, and the thin allocator on the
 * leader (placement, activation epochs). See docs/cluster.md.
 *
 * `clusterServices(options)` gives the libp2p `services` and `peerDiscovery` that assemble it,
 * together with the DHT and the pid directory (node/directory).
 */
export { clusterServices } from './services.js'
export type { ClusterOptions, ClusterServices } from './services.js'
export { Membership } from './membership.js'
export type { Member, Figures, MembershipInit, MembershipEvents, MembershipComponents, MembershipRoster, SwimView } from './membership.js'
export { LeaderElection } from './election.js'
export type { LeaderChange, LeaderElectionInit, LeaderElectionEvents, LeaderElectionComponents, ElectionRoster } from './election.js'
export { Libp2pVotes } from './votes.js'
export type { VoteTransport } from './votes.js'
export { Allocator } from './allocator.js'
export type { AllocateRequest, Placement } from './allocator.js'
export { ELECT_PROTOCOL, ALLOC_PROTOCOL } from './constants.js'
