/**
 * A seeded random source for the simulator (sfc32, seeded through splitmix32): every run with
 * the same seed makes the same choices, so a failing scenario can be replayed.
 */
export function seededRandom (seed: number): () => number {
  let s = seed >>> 0
  const next32 = (): number => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
  let a = next32()
  let b = next32()
  let c = next32()
  let d = next32()
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0
    d = (d + 1) >>> 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) >>> 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) >>> 0
    return t / 4294967296
  }
}

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

/** A string shaped like an Ed25519 peer id (52 characters), so that message sizes are real ones. */
export function fakePeerId (random: () => number): string {
  let id = '12D3KooW'
  for (let i = 0; i < 44; i++) id += BASE58[Math.floor(random() * BASE58.length)]
  return id
}
