// How many DHT hops a pid's lookup takes as the mesh grows: a model of kad-dht's routing (not
// its code, which needs real streams), with its parameters: keys and peers on one 64-bit XOR
// space (kad-dht hashes both with SHA-256; 64 bits keep the model fast and change nothing below
// 2^32 nodes), k = 20 peers per bucket, a record stored on the k peers closest to its key, and an
// iterative lookup that asks alpha = 3 peers at a time, each answering with the record if it holds
// it or its k closest peers to the key. A node's lookup of a pid takes the first valid record
// (fetchLocationFast), so its hops are the rounds until a queried peer holds the record.

const K = 20
const ALPHA = 3
const BITS = 64

export interface HopFigures {
  n: number
  /** Rounds of queries until a peer holding the record answered. */
  hops: { mean: number, max: number }
  /** Peers queried per lookup. */
  queries: { mean: number, max: number }
}

function randomId (random: () => number): bigint {
  return (BigInt(Math.floor(random() * 2 ** 32)) << 32n) | BigInt(Math.floor(random() * 2 ** 32))
}

/** The bucket of `other` in `self`'s table: the length of their common prefix. */
function bucketOf (self: bigint, other: bigint): number {
  const x = self ^ other
  return BITS - x.toString(2).length
}

/** Each node's routing table: at most K peers per bucket, picked at random among those that fall in it. */
function tables (ids: bigint[], random: () => number): bigint[][] {
  return ids.map(self => {
    const buckets = new Map<number, bigint[]>()
    for (const other of ids) {
      if (other === self) continue
      const b = bucketOf(self, other)
      const bucket = buckets.get(b)
      if (bucket == null) buckets.set(b, [other])
      else bucket.push(other)
    }
    return [...buckets.values()].flatMap(peers => {
      // a partial Fisher-Yates shuffle: K of the bucket, uniformly
      for (let i = 0; i < Math.min(K, peers.length); i++) {
        const j = i + Math.floor(random() * (peers.length - i))
        ;[peers[i], peers[j]] = [peers[j], peers[i]]
      }
      return peers.slice(0, K)
    })
  })
}

const closest = (peers: Iterable<bigint>, key: bigint, count: number): bigint[] =>
  [...peers].sort((a, b) => { const d = (a ^ key) - (b ^ key); return d < 0n ? -1 : d > 0n ? 1 : 0 }).slice(0, count)

/** `lookups` lookups of random keys from random nodes, in a mesh of `n`. */
export function dhtHops (n: number, lookups: number, random: () => number): HopFigures {
  const ids: bigint[] = []
  const seen = new Set<bigint>()
  while (ids.length < n) {
    const id = randomId(random)
    if (!seen.has(id)) { seen.add(id); ids.push(id) }
  }
  const index = new Map(ids.map((id, i) => [id, i]))
  const table = tables(ids, random)
  const hops: number[] = []
  const queries: number[] = []
  for (let l = 0; l < lookups; l++) {
    const key = randomId(random)
    const holders = new Set(closest(ids, key, K))
    const from = Math.floor(random() * n)
    if (holders.has(ids[from])) { hops.push(0); queries.push(0); continue }
    const known = new Set(closest(table[from], key, K))
    const asked = new Set<bigint>()
    let round = 0
    let found = false
    while (!found) {
      const next = closest([...known].filter(p => !asked.has(p)), key, ALPHA)
      if (next.length === 0) break
      round++
      for (const peer of next) {
        asked.add(peer)
        if (holders.has(peer)) { found = true; continue }
        for (const p of closest(table[index.get(peer)!], key, K)) if (p !== ids[from]) known.add(p)
      }
    }
    hops.push(round)
    queries.push(asked.size)
  }
  const stats = (xs: number[]): { mean: number, max: number } => ({ mean: xs.reduce((a, b) => a + b, 0) / xs.length, max: Math.max(...xs) })
  return { n, hops: stats(hops), queries: stats(queries) }
}
