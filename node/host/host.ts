import { noise } from '@chainsafe/libp2p-noise'
import { identify, identifyPush } from '@libp2p/identify'
import { preSharedKey } from '@libp2p/pnet'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { praasYamux } from '../../protocol/index.js'
import { clusterServices } from '../cluster/index.js'
import { nodeDatastore } from './datastore.js'
import type { ClusterOptions, ClusterServices } from '../cluster/index.js'
import type { ComponentLogger, Libp2p, Metrics, PrivateKey, Transport } from '@libp2p/interface'

export interface HostInit {
  privateKey: PrivateKey
  listen: string[]
  /** Multiaddrs (with /p2p/) of nodes to join through. */
  bootstrap?: string[]
  cluster: Omit<ClusterOptions, 'bootstrap'>
  /** A pnet swarm key (the `/key/swarm/psk/1.0.0/` file): only peers holding it can connect. */
  swarmKey?: Uint8Array
  /** libp2p's metrics (node/http: @libp2p/prometheus-metrics into the node's registry). */
  metrics?: (components: { logger: ComponentLogger }) => Metrics
  /** A folder for the DHT records this node stores (emptied at start); in memory without one. */
  recordsDir?: string
}

export type Host = Libp2p<{ identify: unknown, identifyPush: unknown, ping: unknown } & ClusterServices>

/**
 * QUIC comes from a native package that exists for a few platforms only, so it is loaded when
 * present and skipped otherwise. pnet cannot protect QUIC (QUIC brings its own encryption and
 * bypasses connection protectors), so a swarm key turns QUIC off.
 */
async function loadQuic (): Promise<((components: any) => Transport) | undefined> {
  try {
    const { quic } = await import('@chainsafe/libp2p-quic')
    return quic() as (components: any) => Transport
  } catch {
    return undefined
  }
}

/** How often libp2p's connection monitor pings each connection. */
const CONNECTION_PING_MS = 300_000

export async function createHost (init: HostInit): Promise<Host> {
  const quic = init.swarmKey == null ? await loadQuic() : undefined
  const listen = quic == null ? init.listen.filter(addr => !addr.includes('/quic')) : init.listen
  const cluster = clusterServices({ ...init.cluster, bootstrap: init.bootstrap ?? [] })
  return await createLibp2p({
    datastore: await nodeDatastore(init.recordsDir),
    privateKey: init.privateKey,
    addresses: { listen },
    transports: quic == null ? [tcp()] : [tcp(), quic],
    connectionEncrypters: [noise()],
    streamMuxers: [praasYamux()],
    connectionProtector: init.swarmKey == null ? undefined : preSharedKey({ psk: init.swarmKey }),
    metrics: init.metrics,
    // libp2p pings every connection every 10 s by default, a new stream each time (the largest
    // part of an idle node's traffic in a mesh of 16): SWIM probes every member already, and closes
    // connections to members it declares dead, so every 5 minutes is enough for the rest (a client
    // that vanished). Once a minute, it was a burst of 80-140 ms of CPU on every node of an idle
    // mesh of 16, a fifth to a third of what a member spent (docs/cluster.md)
    connectionMonitor: { pingInterval: CONNECTION_PING_MS },
    connectionManager: {
      inboundConnectionThreshold: 10_000,
      maxIncomingPendingConnections: 1_000
    },
    peerDiscovery: cluster.peerDiscovery,
    services: {
      identify: identify(),
      // A node that connected before it served all its protocols (its DHT dials at once) tells its peers when it does.
      identifyPush: identifyPush(),
      // before the DHT, which needs it
      ping: ping(),
      // dht, pubsub, directory, membership, election, allocator, in this order
      ...cluster.services
    }
  }) as Host
}
