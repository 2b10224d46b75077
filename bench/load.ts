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
  /** The payload and concurrency sweeps (modes `sizes`, `onewaysizes`, `inflight`); absent where no client runs them. */
  sweep?: SweepPlan
  /**
   * A smoke run (`--smoke`, what CI runs): the quick plan, but the idle meshes settle and are
   * measured 5 s instead of 90 s and 60 s, so every source runs end to end in minutes; their
   * idle figures say nothing.
   */
  smoke?: boolean
}

/** The paper's payload sizes: 10 B, 1 KiB, 100 KiB, 1 MiB, 5 MiB. */
export const SWEEP_SIZES = [10, 1024, 100 * 1024, 1024 * 1024, 5 * 1024 * 1024]
/** Calls in flight of the throughput sweep; 64 is the plan's own `concurrency`. */
export const SWEEP_INFLIGHT = [1, 4, 16, 64, 256]

export interface SizeCounts { bytes: number, warmup: number, iterations: number }

export interface SweepPlan {
  /** One entry per size of SWEEP_SIZES, fewer calls for the big ones. */
  sizes: SizeCounts[]
  /** Bound on each size's warm-up and on its measured calls. */
  maxPointMs: number
  /** Warm-up and measuring windows of each level of SWEEP_INFLIGHT. */
  inflightWarmupMs: number
  inflightMs: number
}

/** `10B`, `1KiB`, `100KiB`, `1MiB`, `5MiB`: the suffix of the sweep rows and the plots' x labels. */
export function sizeLabel (bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / 1024 / 1024}MiB`
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024}KiB`
  return `${bytes}B`
}

/** How long the sweeps of `modes` may take at most, for the harness's client timeouts. */
export function sweepBoundMs (plan: Plan, modes: string[]): number {
  if (plan.sweep == null) return 0
  const sizes = modes.filter(m => m === 'sizes' || m === 'onewaysizes').length * SWEEP_SIZES.length * 2 * plan.sweep.maxPointMs
  const inflight = modes.includes('inflight') ? SWEEP_INFLIGHT.length * (plan.sweep.inflightWarmupMs + plan.sweep.inflightMs + 5000) : 0
  return sizes + inflight
}

export interface RttResult extends Summary {
  /** CPU time of the server's OS process (all its threads) per call, in us, over the phase (warm-up included), where the client knew its pid. */
  serverCpuUs?: number
}

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
  return await sequential(call, { bytes: plan.payloadBytes, warmup: plan.warmup, iterations: plan.iterations }, plan.maxPhaseMs)
}

/** Sequential round trips of each size of the sweep, one after the other on the same transport. */
export async function measureSizes (call: Call, plan: Plan): Promise<SizePoint[]> {
  if (plan.sweep == null) throw new Error('the plan has no sweep')
  const points: SizePoint[] = []
  for (const counts of plan.sweep.sizes) {
    points.push({ bytes: counts.bytes, latency: await sequential(call, counts, Math.min(plan.maxPhaseMs, plan.sweep.maxPointMs)) })
  }
  return points
}

/** One payload size of a sweep: its latencies in us (round trips, or one-way times for `onewaySizes`). */
export interface SizePoint { bytes: number, latency: Summary }

async function sequential (call: Call, counts: SizeCounts, maxMs: number): Promise<Summary> {
  const payload = makePayload(counts.bytes)
  let deadline = performance.now() + maxMs
  for (let i = 0; i < counts.warmup && performance.now() < deadline; i++) check(await call(payload), payload)

  const samples = new Float64Array(counts.iterations)
  let n = 0
  deadline = performance.now() + maxMs
  while (n < counts.iterations && performance.now() < deadline) {
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

export interface InflightPoint extends ThroughputResult { concurrency: number }

/**
 * Throughput at each level of SWEEP_INFLIGHT, in the sweep's shorter windows; a level already
 * measured (`known`: the plan's own 64 in flight) is taken as it is, not run again.
 */
export async function measureInflight (call: Call, plan: Plan, known?: ThroughputResult): Promise<InflightPoint[]> {
  if (plan.sweep == null) throw new Error('the plan has no sweep')
  const points: InflightPoint[] = []
  for (const concurrency of SWEEP_INFLIGHT) {
    if (known != null && concurrency === plan.concurrency) { points.push({ concurrency, ...known }); continue }
    const window = { ...plan, concurrency, throughputWarmupMs: plan.sweep.inflightWarmupMs, throughputMs: plan.sweep.inflightMs }
    points.push({ concurrency, ...await measureThroughput(call, window) })
  }
  return points
}
