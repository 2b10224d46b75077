import { mkdir, open, readFile, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { Ed25519PrivateKey } from '../../protocol/ed25519.js'
import { PraasError } from '../../protocol/errors.js'
import { clusterIdOf, issueToken } from '../../protocol/token.js'
import type { ClusterConfig } from '../../protocol/pb/cluster.js'

/**
 * The files of a node's data dir that say which cluster it belongs to (SPEC "Trust"):
 * - `cluster.key`: the owner key (32-byte Ed25519 seed), only on the node that created the cluster;
 * - `admin.token`: a token with every right, issued by that key when the cluster was created;
 * - `cluster.json`: the cluster config this node holds (members, revocations; node/cluster/roster.ts).
 * Secrets are written with mode 0600.
 */

export const CLUSTER_KEY_FILE = 'cluster.key'
export const ADMIN_TOKEN_FILE = 'admin.token'
export const CLUSTER_CONFIG_FILE = 'cluster.json'

/** Writes a file whole or not at all, durably (data synced before the rename, and the directory after). */
export async function writeFileDurably (path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  const file = await open(tmp, 'w', mode)
  try {
    await file.writeFile(data)
    await file.datasync()
  } finally {
    await file.close()
  }
  await rename(tmp, path)
  const dir = await open(join(path, '..'), 'r')
  try {
    await dir.sync()
  } catch {
    // some file systems refuse to sync a directory; the rename is still atomic
  } finally {
    await dir.close()
  }
}

async function readIfExists (path: string): Promise<Buffer | undefined> {
  return await readFile(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined
    throw err
  })
}

interface StoredConfig {
  cluster: string
  term: number
  version: number
  members: Array<{ peerId: string, addrs: string[] }>
  revoked: Array<{ id: string, notAfter: number }>
}

/** The cluster config stored in the data dir, if the node belongs to a cluster. */
export async function readClusterConfig (dataDir: string): Promise<ClusterConfig | undefined> {
  const bytes = await readIfExists(join(dataDir, CLUSTER_CONFIG_FILE))
  if (bytes == null) return undefined
  let stored: StoredConfig
  try {
    stored = JSON.parse(bytes.toString('utf8'))
  } catch (err) {
    throw new PraasError('BAD_REQUEST', `${join(dataDir, CLUSTER_CONFIG_FILE)} is not valid JSON: ${(err as Error).message}`)
  }
  return {
    cluster: stored.cluster,
    term: stored.term,
    version: stored.version,
    members: stored.members.map(m => ({ peerId: m.peerId, addrs: m.addrs.map(a => multiaddr(a).bytes) })),
    revoked: stored.revoked
  }
}

export async function writeClusterConfig (dataDir: string, config: ClusterConfig): Promise<void> {
  const stored: StoredConfig = {
    cluster: config.cluster,
    term: config.term,
    version: config.version,
    members: config.members.map(m => ({ peerId: m.peerId, addrs: m.addrs.map(a => multiaddr(a).toString()) })),
    revoked: config.revoked
  }
  await writeFileDurably(join(dataDir, CLUSTER_CONFIG_FILE), JSON.stringify(stored, null, 2) + '\n')
}

/**
 * Creates a cluster in an empty data dir: the owner key, the admin token, and a config whose
 * only member is this node. Returns the new config.
 */
export async function createCluster (dataDir: string, selfId: string, selfAddrs: Array<Uint8Array<ArrayBuffer>> = []): Promise<ClusterConfig> {
  await mkdir(dataDir, { recursive: true })
  const owner = Ed25519PrivateKey.generate()
  await writeFileDurably(join(dataDir, CLUSTER_KEY_FILE), owner.seed, 0o600)
  await writeFileDurably(join(dataDir, ADMIN_TOKEN_FILE), issueToken(owner, { role: 'client' }) + '\n', 0o600)
  const config: ClusterConfig = { cluster: clusterIdOf(owner.publicKey), term: 0, version: 1, members: [{ peerId: selfId, addrs: selfAddrs }], revoked: [] }
  await writeClusterConfig(dataDir, config)
  return config
}

/** The owner key of a cluster from its `cluster.key` file. */
export async function readClusterKey (path: string): Promise<Ed25519PrivateKey> {
  const seed = await readFile(path)
  if (seed.byteLength !== 32) throw new PraasError('BAD_REQUEST', `${path} is not a cluster key (32 bytes)`)
  return new Ed25519PrivateKey(new Uint8Array(seed))
}
