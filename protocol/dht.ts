import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { LOCATION_NAMESPACE, locationValidator, selectLocationRecord } from './location.js'
import type { KadDHT, KadDHTInit } from '@libp2p/kad-dht'

/** praas's private DHT: its peers never mix with a public one. */
export const DHT_PROTOCOL = '/praas/kad/1.0.0'

/**
 * The kad-dht settings of every praas peer. On loopback and private networks the defaults do
 * not work (see DESIGN.md): private addresses must pass the peer-info mapper, and the first
 * self-query must not wait its usual second.
 *
 * - `server`: nodes answer DHT queries and store records. A node alone in its cluster must
 *   still publish and resolve, so its queries do not wait for a first peer.
 * - `client`: SDK clients only ask; their first query waits (bounded by its signal) until the
 *   bootstrap node is in the routing table, rather than finding nothing.
 *
 * Each call makes a fresh stale-record guard (see `locationValidator`): call it once per peer.
 */
/** Where the DHT keeps its data in the node's datastore; its stored records are under `${DHT_DATASTORE_PREFIX}/record`. */
export const DHT_DATASTORE_PREFIX = '/praas-dht'

export function praasDhtInit (mode: 'server' | 'client', isMember?: (peerId: string) => boolean): KadDHTInit {
  return {
    protocol: DHT_PROTOCOL,
    clientMode: mode === 'client',
    peerInfoMapper: passthroughMapper,
    validators: { [LOCATION_NAMESPACE]: locationValidator(isMember) },
    selectors: { [LOCATION_NAMESPACE]: selectLocationRecord },
    initialQuerySelfInterval: 0,
    allowQueryWithZeroPeers: mode === 'server',
    logPrefix: 'praas:dht',
    datastorePrefix: DHT_DATASTORE_PREFIX,
    metricsPrefix: 'praas_dht'
  }
}

/** The libp2p services an SDK client needs to resolve pids through the DHT itself. */
export function clientServices (): {
  identify: ReturnType<typeof identify>
  ping: ReturnType<typeof ping>
  dht: (components: any) => KadDHT
} {
  return {
    identify: identify(),
    ping: ping(),
    dht: kadDHT(praasDhtInit('client'))
  }
}
