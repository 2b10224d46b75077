// Summaries of latency samples. Percentiles use the nearest-rank method on a sorted copy, so
// p99 of 3000 samples is the 2970th smallest, not an interpolation between two samples.

export interface Summary {
  n: number
  p50: number
  p99: number
  mean: number
  min: number
  max: number
}

/** Nearest-rank percentile of ascending `sorted`, `p` in (0, 100]. */
export function percentile (sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]
}

export function summarize (samples: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(samples).sort()
  let sum = 0
  for (const x of sorted) sum += x
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: sorted.length > 0 ? sum / sorted.length : NaN,
    min: sorted.length > 0 ? sorted[0] : NaN,
    max: sorted.length > 0 ? sorted[sorted.length - 1] : NaN
  }
}

/** Rounds for display: 3 significant digits below 1000, integers above. */
export function round (x: number | null): number | null {
  if (x == null || !Number.isFinite(x)) return null
  if (Math.abs(x) >= 1000) return Math.round(x)
  return Number(x.toPrecision(3))
}
