// The app of the `ipc.*` benchmarks (bench/ipc.ts): process-to-process messages timed INSIDE the
// functions, always by the one function that sees both ends of a round trip, so that no two
// clocks are compared. Deployed as it is through the SDK (plain ESM, no imports).
const decoder = new TextDecoder()
const input = (bytes) => JSON.parse(decoder.decode(bytes))

/** The sequence number in a message's first 4 bytes that tells the partner to stop. */
const STOP = 0xffffffff
const RECV_TIMEOUT_MS = 10_000

const view = (bytes) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
const seqOf = (bytes) => (bytes.byteLength >= 4 ? view(bytes).getUint32(0) : -1)

/**
 * Runs `round` `warmup` times, then up to `count` times measured, each phase bounded by
 * `maxMs`; returns the measured values as Float64 bytes. Whatever happens, `stop` tells the
 * partner function to return.
 */
async function measure ({ warmup, count, maxMs }, round, stop) {
  const samples = new Float64Array(count)
  let n = 0
  let seq = 0
  try {
    let deadline = performance.now() + maxMs
    for (let i = 0; i < warmup && performance.now() < deadline; i++) await round(seq++)
    deadline = performance.now() + maxMs
    while (n < count && performance.now() < deadline) samples[n++] = await round(seq++)
  } finally {
    await stop().catch(() => {})
  }
  return new Uint8Array(samples.buffer, 0, n * 8)
}

/**
 * Ping-pong of `size`-byte messages with `peer` (which runs `pong`). Each sample is one one-way
 * time in us: half of the round trip send(ping) -> recv(pong), as this function sees it.
 */
export async function ping (data, ctx) {
  const { peer, size, warmup, rounds, maxMs } = input(data)
  const payload = new Uint8Array(Math.max(4, size))
  return await measure({ warmup, count: rounds, maxMs }, async (seq) => {
    view(payload).setUint32(0, seq)
    const start = performance.now()
    await ctx.send(peer, 'ping', payload)
    const reply = await ctx.recv(peer, 'pong', { timeoutMs: RECV_TIMEOUT_MS })
    const oneway = (performance.now() - start) * 1000 / 2
    if (seqOf(reply.data) !== seq || reply.data.byteLength !== payload.byteLength) {
      throw new Error(`pong ${seqOf(reply.data)} of ${reply.data.byteLength} B arrived where ${seq} of ${payload.byteLength} B was due`)
    }
    return oneway
  }, async () => {
    view(payload).setUint32(0, STOP)
    await ctx.send(peer, 'ping', payload)
  })
}

/** Sends every ping back to its sender unchanged, until a STOP or `maxRounds`. */
export async function pong (data, ctx) {
  const { maxRounds } = input(data)
  for (let i = 0; i < maxRounds; i++) {
    const m = await ctx.recv('*', 'ping', { timeoutMs: RECV_TIMEOUT_MS })
    if (seqOf(m.data) === STOP) return String(i)
    await ctx.send(m.from, 'pong', m.data)
  }
  return String(maxRounds)
}

/**
 * Sends `size`-byte messages to `peer` (which runs `bulkRecv`), one at a time. Each sample is the
 * time in us from the start of the send until the receiving function's 4-byte ack is here: the
 * transfer plus one small one-way message, the same as the raw libp2p bulk baseline measures.
 */
export async function bulkSend (data, ctx) {
  const { peer, size, warmup, transfers, maxMs } = input(data)
  const blob = new Uint8Array(size)
  for (let i = 0; i < size; i++) blob[i] = (i * 31 + 7) & 0xff
  return await measure({ warmup, count: transfers, maxMs }, async (seq) => {
    view(blob).setUint32(0, seq)
    const start = performance.now()
    await ctx.send(peer, 'blob', blob)
    const ack = await ctx.recv(peer, 'ack', { timeoutMs: RECV_TIMEOUT_MS })
    const micros = (performance.now() - start) * 1000
    if (seqOf(ack.data) !== seq) throw new Error(`ack ${seqOf(ack.data)} arrived where ${seq} was due`)
    return micros
  }, async () => {
    const stop = new Uint8Array(4)
    view(stop).setUint32(0, STOP)
    await ctx.send(peer, 'blob', stop)
  })
}

/** Receives what `bulkSend` sends, checks its size and ends, and acks each with its sequence number. */
export async function bulkRecv (data, ctx) {
  const { size, maxTransfers } = input(data)
  for (let i = 0; i < maxTransfers; i++) {
    const m = await ctx.recv('*', 'blob', { timeoutMs: RECV_TIMEOUT_MS })
    if (m.data.byteLength === 4 && seqOf(m.data) === STOP) return String(i)
    const last = size - 1
    if (m.data.byteLength !== size || m.data[last] !== ((last * 31 + 7) & 0xff)) {
      throw new Error(`a message of ${m.data.byteLength} B arrived where ${size} B of the pattern were due`)
    }
    // slice, not subarray: a view would carry its whole 8 MiB buffer to the controller
    await ctx.send(m.from, 'ack', m.data.slice(0, 4))
  }
  return String(maxTransfers)
}
