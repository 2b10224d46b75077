import { noise } from '@chainsafe/libp2p-noise'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createLibp2p } from 'libp2p'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { clusterServices } from '../../node/cluster/index.js'
import { Ed25519PrivateKey } from '../../protocol/ed25519.js'
import { signGrant } from '../../protocol/grant.js'
import { praasYamux } from '../../protocol/index.js'
import type { ActivationEpoch } from '../../protocol/location.js'
import type { ClusterOptions, ClusterServices } from '../../node/cluster/index.js'
import type { ClusterConfig } from '../../protocol/pb/cluster.js'
import type { Libp2p, PrivateKey } from '@libp2p/interface'

export type MeshNode = Libp2p<ClusterServices & { identify: unknown, ping: unknown }>

export interface MeshNodeOptions extends Partial<ClusterOptions> {
  privateKey?: PrivateKey
  /** The cluster's members (peer ids); default: this node alone. */
  members?: string[]
}

/** A cluster config listing these members, as the leader would have committed it. */
export function configOf (members: string[]): ClusterConfig {
  return { cluster: 'test-cluster', term: 0, version: 1, members: members.map(peerId => ({ peerId, addrs: [] })), revoked: [] }
}

/** One in-process praas peer with the cluster layer, on a loopback TCP port, a member of `members`. */
export async function meshNode (options: MeshNodeOptions = {}): Promise<MeshNode> {
  const privateKey = options.privateKey ?? await generateKeyPair('Ed25519')
  const self = peerIdFromPrivateKey(privateKey).toString()
  const dataDir = mkdtempSync(join(tmpdir(), 'praas-mesh-'))
  const cluster = clusterServices({ ...options, roster: options.roster ?? { dataDir, config: configOf(options.members ?? [self]) } })
  const node = await createLibp2p({
    privateKey,
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [praasYamux()],
    connectionManager: { inboundConnectionThreshold: 10_000, maxIncomingPendingConnections: 1_000 },
    peerDiscovery: cluster.peerDiscovery,
    services: { identify: identify(), ping: ping(), ...cluster.services }
  }) as MeshNode
  keys.set(node, privateKey)
  return node
}

const keys = new WeakMap<MeshNode, PrivateKey>()

/** The identity key of a node made by `meshNode`. */
export function keyOf (node: MeshNode): PrivateKey {
  return keys.get(node)!
}

/** An epoch for `pid` on `node`, granted by `node` itself (a member, as a leader would). */
export function granted (node: MeshNode, pid: string, term: number, counter: number, host: MeshNode = node): ActivationEpoch {
  const signer = new Ed25519PrivateKey(new Uint8Array(keys.get(node)!.raw.subarray(0, 32)))
  return { term, counter, grant: signGrant({ pid, node: host.peerId, term, counter }, node.peerId, signer) }
}

/** `count` nodes of one cluster (all members from the start), each bootstrapped from the first. */
export async function mesh (count: number, options: Partial<ClusterOptions> = {}): Promise<MeshNode[]> {
  const keys = await Promise.all(Array.from({ length: count }, async () => await generateKeyPair('Ed25519')))
  const members = keys.map(k => peerIdFromPrivateKey(k).toString())
  const first = await meshNode({ ...options, privateKey: keys[0], members })
  const bootstrap = first.getMultiaddrs().map(a => a.toString())
  const rest = await Promise.all(keys.slice(1).map(async (privateKey) => await meshNode({ ...options, privateKey, members, bootstrap })))
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
