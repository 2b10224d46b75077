import { createHash } from 'node:crypto'

function position (id: string): Buffer {
  return createHash('sha256').update(id).digest()
}

/** XOR distance of two positions in the key space, compared byte by byte. */
function closer (target: Buffer, a: Buffer, b: Buffer): number {
  for (let i = 0; i < target.length; i++) {
    const da = target[i] ^ a[i]
    const db = target[i] ^ b[i]
    if (da !== db) return da - db
  }
  return 0
}

/**
 * The nodes that keep a process's replicas: the `count` live nodes (other than its host)
 * closest to the pid in a SHA-256 key space with the XOR metric, as Kademlia places records.
 * Every node computes the same answer from the same membership, and a node that joins or
 * leaves moves only the replicas of the pids next to it.
 */
export function chooseReplicas (pid: string, host: string, nodes: Iterable<string>, count: number): string[] {
  if (count <= 0) return []
  const target = position(pid)
  const candidates = [...new Set(nodes)].filter(id => id !== host).map(id => ({ id, at: position(id) }))
  candidates.sort((a, b) => closer(target, a.at, b.at))
  return candidates.slice(0, count).map(c => c.id)
}
