// What the benchmark reports. A source is one server/client pair measured in its own processes;
// a metric is one figure of a source, compared with the same figure of its baseline sources.
import type { ClientReport, Mode } from './client-main.js'
import { round } from './stats.js'

export type SourceName = 'net.echo' | 'libp2p.echo' | 'libp2p.echo.batched' | 'praas.invoke'

export interface MetricDef {
  metric: string
  unit: string
  source: SourceName
  mode: Mode
  /** Sources whose same-mode figure this one is divided by; empty for the raw floor. */
  baselines: SourceName[]
}

export const METRICS: MetricDef[] = [
  { metric: 'net.echo.rtt', unit: 'us', source: 'net.echo', mode: 'rtt', baselines: [] },
  { metric: 'net.echo.throughput', unit: 'requests/s', source: 'net.echo', mode: 'throughput', baselines: [] },
  { metric: 'libp2p.echo.rtt', unit: 'us', source: 'libp2p.echo', mode: 'rtt', baselines: ['net.echo'] },
  { metric: 'libp2p.echo.throughput', unit: 'requests/s', source: 'libp2p.echo', mode: 'throughput', baselines: ['net.echo'] },
  // The same echo with the frames of one event-loop turn sent together: what libp2p can carry
  // when the writer coalesces, the bar for a multiplexed invoke stream that does so.
  { metric: 'libp2p.echo.batched.throughput', unit: 'requests/s', source: 'libp2p.echo.batched', mode: 'throughput', baselines: ['libp2p.echo', 'net.echo'] },
  { metric: 'invoke.rtt', unit: 'us', source: 'praas.invoke', mode: 'rtt', baselines: ['libp2p.echo', 'net.echo'] },
  { metric: 'invoke.throughput', unit: 'calls/s', source: 'praas.invoke', mode: 'throughput', baselines: ['libp2p.echo', 'libp2p.echo.batched', 'net.echo'] }
]

/** The row format of latest.json (SPEC.md, Benchmarks). */
export interface Row {
  metric: string
  unit: string
  /** p50 in us for latencies; calls (requests) per second for throughput. */
  value: number | null
  baseline: string | null
  baselineValue: number | null
  /** value / baselineValue: lower is better for latencies, higher for throughput. */
  ratio: number | null
  n: number
  /** Per-call latency in us; for throughput rows, measured under that load. */
  p50: number | null
  p99: number | null
}

/** The (source, mode) pairs that the selected metrics and their baselines need. */
export function needed (metrics: MetricDef[]): Map<SourceName, Set<Mode>> {
  const want = new Map<SourceName, Set<Mode>>()
  const add = (source: SourceName, mode: Mode): void => {
    want.set(source, (want.get(source) ?? new Set()).add(mode))
  }
  for (const m of metrics) {
    add(m.source, m.mode)
    for (const b of m.baselines) add(b, m.mode)
  }
  return want
}

function figures (report: ClientReport | undefined, mode: Mode): { value: number, n: number, p50: number, p99: number } | undefined {
  if (mode === 'rtt' && report?.rtt != null) {
    const { p50, p99, n } = report.rtt
    return { value: p50, n, p50, p99 }
  }
  if (mode === 'throughput' && report?.throughput != null) {
    const { callsPerSecond, latency } = report.throughput
    return { value: callsPerSecond, n: latency.n, p50: latency.p50, p99: latency.p99 }
  }
  return undefined
}

/** Per mode, the figures of the round whose headline value is the median. */
export function medianRound (reports: ClientReport[]): ClientReport {
  const median = <T>(items: T[], key: (item: T) => number): T | undefined =>
    [...items].sort((a, b) => key(a) - key(b))[Math.floor((items.length - 1) / 2)]
  return {
    rtt: median(reports.flatMap(r => r.rtt ?? []), r => r.p50),
    throughput: median(reports.flatMap(r => r.throughput ?? []), t => t.callsPerSecond)
  }
}

/** One row per (metric, baseline) pair; metrics whose own source failed give no row. */
export function toRows (metrics: MetricDef[], reports: Map<SourceName, ClientReport>): Row[] {
  const rows: Row[] = []
  for (const m of metrics) {
    const own = figures(reports.get(m.source), m.mode)
    if (own == null) continue
    const row = (baseline: string | null, baselineValue: number | null): Row => ({
      metric: m.metric,
      unit: m.unit,
      value: round(own.value),
      baseline,
      baselineValue: round(baselineValue),
      ratio: baselineValue != null && baselineValue > 0 ? round(own.value / baselineValue) : null,
      n: own.n,
      p50: round(own.p50),
      p99: round(own.p99)
    })
    if (m.baselines.length === 0) rows.push(row(null, null))
    for (const b of m.baselines) rows.push(row(b, figures(reports.get(b), m.mode)?.value ?? null))
  }
  return rows
}
