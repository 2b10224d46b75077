import { noise } from '@chainsafe/libp2p-noise'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { clusterServices } from '../../node/cluster/index.js'
import { praasYamux } from '../../protocol/index.js'
import type { ClusterOptions, ClusterServices } from '../../node/cluster/index.js'
import type { Libp2p, PrivateKey } from '@libp2p/interface'

export type MeshNode = Libp2p<ClusterServices & { identify: unknown, ping: unknown }>

export interface MeshNodeOptions extends ClusterOptions {
  privateKey?: PrivateKey
}

/** One in-process praas peer with the cluster layer, on a loopback TCP port. */
export async function meshNode (options: MeshNodeOptions = {}): Promise<MeshNode> {
  const cluster = clusterServices(options)
  return await createLibp2p({
    privateKey: options.privateKey,
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [praasYamux()],
    connectionManager: { inboundConnectionThreshold: 10_000, maxIncomingPendingConnections: 1_000 },
    peerDiscovery: cluster.peerDiscovery,
    services: { identify: identify(), ping: ping(), ...cluster.services }
  }) as MeshNode
}

/** `count` nodes, each bootstrapped from the first. */
export async function mesh (count: number, options: ClusterOptions = {}): Promise<MeshNode[]> {
  const first = await meshNode(options)
  const bootstrap = first.getMultiaddrs().map(a => a.toString())
  const rest = await Promise.all(Array.from({ length: count - 1 }, async () => await meshNode({ ...options, bootstrap })))
  return [first, ...rest]
}

export async function stopAll (nodes: Array<{ stop(): unknown }>): Promise<void> {
  await Promise.allSettled(nodes.map(async n => { await n.stop() }))
}

/** Resolves once `predicate` holds (polled every 20 ms); rejects after `ms`. */
export async function until (predicate: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
