// The app of the durability benchmarks (bench/durable.ts): a process that holds a given amount of
// state, a function that reads one small key (what a swapped process is brought back with), a
// 64 B state write and an increment (what replication must acknowledge). Deployed as it is
// (plain ESM, no imports).
const decoder = new TextDecoder()

const VALUE_BYTES = 1024 * 1024

/**
 * Input: JSON {mib, seed}. Writes `mib` values of 1 MiB (keys `v0`…), each filled with a
 * xorshift stream of `seed`: incompressible, and different for every seed so that no copy of an
 * earlier fill can stand in for it.
 */
export async function fill (input, ctx) {
  const { mib, seed } = JSON.parse(decoder.decode(input))
  let x = (seed * 2654435761) >>> 0 || 1
  for (let i = 0; i < mib; i++) {
    const words = new Uint32Array(VALUE_BYTES / 4)
    for (let w = 0; w < words.length; w++) {
      x ^= x << 13; x >>>= 0
      x ^= x >>> 17
      x ^= x << 5; x >>>= 0
      words[w] = x
    }
    await ctx.state.put(`v${i}`, new Uint8Array(words.buffer))
  }
  await ctx.state.put('probe', String(mib))
  return String(mib)
}

/** Returns the small `probe` key: a call whose own work is nothing next to a restore. */
export async function probe (_input, ctx) {
  return (await ctx.state.get('probe')) ?? ''
}

/** Adds one to the count under `n` (a get and a put) and returns the new count. */
export async function incr (_input, ctx) {
  const n = Number(decoder.decode((await ctx.state.get('n')) ?? new Uint8Array())) + 1
  await ctx.state.put('n', String(n))
  return String(n)
}

/** Puts the input (64 B in the bench) under one key and returns it, as the echo the load loop checks. */
export async function put (input, ctx) {
  await ctx.state.put('k', input)
  return input
}
