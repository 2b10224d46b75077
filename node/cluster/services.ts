import { bootstrap } from '@libp2p/bootstrap'
import { gossipsub } from '@libp2p/gossipsub'
import { kadDHT } from '@libp2p/kad-dht'
import { praasDhtInit } from '../../protocol/dht.js'
import { Directory } from '../directory/directory.js'
import { Allocator } from './allocator.js'
import { DHT_PROTOCOL } from '../../protocol/dht.js'
import { STATE_CHUNKS_PROTOCOL, STATE_PROTOCOL } from '../../protocol/ids.js'
import { ALLOC_PROTOCOL, ELECT_PROTOCOL, HEARTBEAT_TOPIC, LEASE_PROTOCOL } from './constants.js'
import { LeaderElection } from './election.js'
import { Leases } from './lease.js'
import { Membership } from './membership.js'
import { Roster } from './roster.js'
import type { RosterInit } from './roster.js'
import type { AllocatorComponents } from './allocator.js'
import type { LeaderElectionComponents, LeaderElectionInit } from './election.js'
import type { LeasesComponents, LeasesInit } from './lease.js'
import type { MembershipInit } from './membership.js'
import type { DirectoryComponents, DirectoryInit } from '../directory/directory.js'
import type { GossipSub } from '@libp2p/gossipsub'
import type { KadDHT } from '@libp2p/kad-dht'
import type { PeerDiscovery } from '@libp2p/interface'

export interface ClusterOptions {
  /** Multiaddrs (with /p2p/) of nodes to join; dialled at start by @libp2p/bootstrap. */
  bootstrap?: string[]
  /** The cluster config this node holds, and where it keeps it. */
  roster: RosterInit
  directory?: DirectoryInit
  membership?: MembershipInit
  election?: LeaderElectionInit
  leases?: LeasesInit
}

/** The services `clusterServices` adds, as they appear on `libp2p.services` (a type, so that it fits libp2p's ServiceMap). */

export type ClusterServices = {
  roster: Roster
  dht: KadDHT
  pubsub: GossipSub
  directory: Directory
  membership: Membership
  election: LeaderElection
  leases: Leases
  allocator: Allocator
}

type Factories<T> = { [K in keyof T]: (components: any) => T[K] }

/**
 * The libp2p configuration of a node's cluster layer, to merge into `createLibp2p`:
 * `services` (after `identify` and `ping`, which the DHT needs) and `peerDiscovery`.
 * Services are created in this order and each finds the ones before it among its components.
 */
/**
 * The protocols only members speak, both ways (refused before a byte is read otherwise): the
 * DHT, gossipsub, election, allocation, and the state protocols.
 */
export const MEMBER_PROTOCOLS = [
  DHT_PROTOCOL, ELECT_PROTOCOL, ALLOC_PROTOCOL, LEASE_PROTOCOL, STATE_PROTOCOL, STATE_CHUNKS_PROTOCOL,
  '/meshsub/1.0.0', '/meshsub/1.1.0', '/meshsub/1.2.0', '/floodsub/1.0.0'
]

export function clusterServices (options: ClusterOptions): {
  services: Factories<ClusterServices>
  peerDiscovery: Array<(components: any) => PeerDiscovery>
} {
  const list = options.bootstrap ?? []
  let roster: Roster | undefined
  return {
    services: {
      roster: (components: any) => (roster = new Roster(components, { ...options.roster, memberProtocols: [...MEMBER_PROTOCOLS, ...(options.roster.memberProtocols ?? [])] })),
      dht: kadDHT(praasDhtInit('server', (peerId) => roster?.isMember(peerId) === true)),
      pubsub: gossipsub({
        allowPublishToZeroTopicPeers: true,
        allowedTopics: [HEARTBEAT_TOPIC],
        // a heartbeat is tiny and frequent: no gossip about it, straight to every subscriber
        floodPublish: true,
        // Many nodes of one cluster share a host (and on loopback, one IP): gossipsub's IP
        // colocation penalty would graylist every node past the tenth on an address, and the
        // mesh would fall apart into single-node clusters. The swarm key is the trust boundary.
        scoreParams: { IPColocationFactorWeight: 0 },
        // Every node receives each heartbeat from several peers; without a fast id, gossipsub
        // verifies the signature of every copy before it notices the duplicate (measured: 7% of
        // an idle node's CPU in a 16-node mesh). Sender and sequence number identify a message.
        fastMsgIdFn: (msg) => `${Buffer.from(msg.from ?? []).toString('base64')}:${Buffer.from(msg.seqno ?? []).toString('base64')}`
      }),
      directory: (components: DirectoryComponents) => new Directory(components, options.directory),
      membership: (components: any) => new Membership(components, options.membership),
      election: (components: LeaderElectionComponents) => new LeaderElection(components, options.election),
      leases: (components: LeasesComponents) => new Leases(components, options.leases),
      allocator: (components: AllocatorComponents) => new Allocator(components)
    },
    peerDiscovery: list.length > 0 ? [bootstrap({ list, timeout: 0 })] : []
  }
}
