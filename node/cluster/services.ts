import { bootstrap } from '@libp2p/bootstrap'
import { kadDHT } from '@libp2p/kad-dht'
import { praasDhtInit } from '../../protocol/dht.js'
import { Directory } from '../directory/directory.js'
import { Allocator } from './allocator.js'
import { DHT_PROTOCOL } from '../../protocol/dht.js'
import { STATE_CHUNKS_PROTOCOL, STATE_PROTOCOL } from '../../protocol/ids.js'
import { ALLOC_PROTOCOL, ELECT_PROTOCOL, LEASE_PROTOCOL } from './constants.js'
import { LeaderElection } from './election.js'
import { Leases } from './lease.js'
import { Membership } from './membership.js'
import { Roster } from './roster.js'
import { SWIM_PROTOCOL, swim } from './swim/index.js'
import { Libp2pVotes } from './votes.js'
import type { RosterInit } from './roster.js'
import type { AllocatorComponents } from './allocator.js'
import type { LeaderElectionInit } from './election.js'
import type { LeasesComponents, LeasesInit } from './lease.js'
import type { MembershipInit } from './membership.js'
import type { DirectoryComponents, DirectoryInit } from '../directory/directory.js'
import type { SwimInit, SwimService, SwimTransportInit } from './swim/index.js'
import type { KadDHT } from '@libp2p/kad-dht'
import type { PeerDiscovery } from '@libp2p/interface'

export interface ClusterOptions {
  /** Multiaddrs (with /p2p/) of nodes to join; dialled at start by @libp2p/bootstrap. */
  bootstrap?: string[]
  /** The cluster config this node holds, and where it keeps it. */
  roster: RosterInit
  directory?: DirectoryInit
  membership?: MembershipInit
  swim?: SwimInit & { transport?: SwimTransportInit }
  election?: LeaderElectionInit
  leases?: LeasesInit
}

/** The services `clusterServices` adds, as they appear on `libp2p.services` (a type, so that it fits libp2p's ServiceMap). */

export type ClusterServices = {
  roster: Roster
  dht: KadDHT
  swim: SwimService
  directory: Directory
  membership: Membership
  election: LeaderElection
  leases: Leases
  allocator: Allocator
}

const NO_MEMBERS: ReadonlySet<string> = new Set()

type Factories<T> = { [K in keyof T]: (components: any) => T[K] }

/**
 * The protocols only members speak, both ways (refused before a byte is read otherwise): the
 * DHT, SWIM, election, allocation, leases, and the state protocols.
 */
export const MEMBER_PROTOCOLS = [
  DHT_PROTOCOL, SWIM_PROTOCOL, ELECT_PROTOCOL, ALLOC_PROTOCOL, LEASE_PROTOCOL, STATE_PROTOCOL, STATE_CHUNKS_PROTOCOL
]

/**
 * The libp2p configuration of a node's cluster layer, to merge into `createLibp2p`:
 * `services` (after `identify` and `ping`, which the DHT needs) and `peerDiscovery`.
 * Services are created in this order and each finds the ones before it among its components.
 */
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
      // failure detection and the node records (membership.ts reads them): the roster is the member set
      swim: swim({ ...options.swim, roster: () => roster?.memberIds ?? NO_MEMBERS, addrsOf: (id) => roster?.addrsOf(id) ?? [] }),
      directory: (components: DirectoryComponents) => new Directory(components, options.directory),
      membership: (components: any) => new Membership({
        peerId: components.peerId,
        logger: components.logger,
        addressManager: components.addressManager,
        roster: components.roster,
        swim: components.swim
      }, options.membership),
      election: (components: any) => new LeaderElection({
        peerId: components.peerId,
        logger: components.logger,
        membership: components.membership,
        roster: components.roster,
        // a member's addresses: its SWIM record, else what it said when it joined
        votes: new Libp2pVotes({
          registrar: components.registrar,
          connectionManager: components.connectionManager,
          addrsOf: (id) => {
            const live = (components.membership as Membership).get(id)?.addrs ?? []
            return live.length > 0 ? live : (components.roster as Roster).addrsOf(id)
          }
        })
      }, options.election),
      leases: (components: LeasesComponents) => new Leases(components, options.leases),
      allocator: (components: AllocatorComponents) => new Allocator(components)
    },
    peerDiscovery: list.length > 0 ? [bootstrap({ list, timeout: 0 })] : []
  }
}
