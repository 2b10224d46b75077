// The two load shapes every transport is measured with, so that the baselines and praas see
// exactly the same client loop: sequential round trips, and a fixed number of calls in flight.
import { summarize, type Summary } from './stats.js'

/** One request/response over the transport under test; resolves to the response payload. */
export type Call = (payload: Uint8Array) => Promise<Uint8Array>

export interface Plan {
  /** Payload size in bytes. */
  payloadBytes: number
  /** Sequential calls before measuring round trips (JIT, connection warm-up). */
  warmup: number
  /** Sequential calls measured. */
  iterations: number
  /** Calls kept in flight for throughput. */
  concurrency: number
  /** Throughput warm-up and measuring windows. */
  throughputWarmupMs: number
  throughputMs: number
  /** Hard bound on any one phase, whatever the counts say. */
  maxPhaseMs: number
}

export interface RttResult extends Summary {}

export interface ThroughputResult {
  callsPerSecond: number
  /** Per-call latency under load, in microseconds. */
  latency: Summary
}

/** Bounds the number of latency samples kept under load (about 16 MB of doubles). */
const MAX_SAMPLES = 2_000_000

export function makePayload (bytes: number): Uint8Array {
  const payload = new Uint8Array(bytes)
  for (let i = 0; i < bytes; i++) payload[i] = (i * 31 + 7) & 0xff
  return payload
}

function check (response: Uint8Array, payload: Uint8Array): void {
  if (response.byteLength !== payload.byteLength) {
    throw new Error(`echo returned ${response.byteLength} bytes, sent ${payload.byteLength}`)
  }
}

/** Sequential round trips; latencies in microseconds. */
export async function measureRtt (call: Call, plan: Plan): Promise<RttResult> {
  const payload = makePayload(plan.payloadBytes)
  let deadline = performance.now() + plan.maxPhaseMs
  for (let i = 0; i < plan.warmup && performance.now() < deadline; i++) check(await call(payload), payload)

  const samples = new Float64Array(plan.iterations)
  let n = 0
  deadline = performance.now() + plan.maxPhaseMs
  while (n < plan.iterations && performance.now() < deadline) {
    const start = performance.now()
    const response = await call(payload)
    samples[n++] = (performance.now() - start) * 1000
    check(response, payload)
  }
  return summarize(samples.subarray(0, n))
}

/** `concurrency` workers each issue calls back to back until `durationMs` has passed. */
async function runWindow (call: Call, payload: Uint8Array, concurrency: number, durationMs: number,
  samples: number[] | undefined): Promise<{ calls: number, seconds: number }> {
  const start = performance.now()
  const deadline = start + durationMs
  let calls = 0
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const t0 = performance.now()
      const response = await call(payload)
      if (samples != null && samples.length < MAX_SAMPLES) samples.push((performance.now() - t0) * 1000)
      check(response, payload)
      calls++
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  // The window ends when the last in-flight call returns, so its tail counts against us.
  return { calls, seconds: (performance.now() - start) / 1000 }
}

export async function measureThroughput (call: Call, plan: Plan): Promise<ThroughputResult> {
  const payload = makePayload(plan.payloadBytes)
  const durationMs = Math.min(plan.throughputMs, plan.maxPhaseMs)
  await runWindow(call, payload, plan.concurrency, Math.min(plan.throughputWarmupMs, plan.maxPhaseMs), undefined)
  const samples: number[] = []
  const { calls, seconds } = await runWindow(call, payload, plan.concurrency, durationMs, samples)
  return { callsPerSecond: calls / seconds, latency: summarize(samples) }
}
