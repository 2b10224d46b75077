// The sweeps' part of the report: latency per payload size (praas invoke against the raw libp2p
// echo, process-to-process one-way against half that echo) and throughput per number of calls in
// flight. What they measure is in load.ts (`sizes`, `inflight`) and ipc-client.ts (`onewaysizes`).
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ClientReport } from './client-main.js'
import { sizeLabel, SWEEP_INFLIGHT, SWEEP_SIZES, type SizePoint } from './load.js'
import { METRICS, reportOf, type Row, type SourceName } from './metrics.js'
import { lineChart, type Series } from './plot.js'

/** The sources drawn in the throughput plot, where they ran `inflight`: the plot-only metric's source and baselines (metrics.ts). */
const INFLIGHT_SOURCES = METRICS.filter(m => m.mode === 'inflight').flatMap(m => [m.source, ...m.baselines]) as SourceName[]

/** The per-size rows (`invoke.rtt.1KiB`, `ipc.oneway.remote.5MiB`…): the sweep plots draw them, not the bar charts. */
export function isSweepMetric (metric: string): boolean {
  return SWEEP_SIZES.some(bytes => metric.endsWith(`.${sizeLabel(bytes)}`))
}

/** p50 and p99 lines of each source; the p99 lines dashed, after all the p50 lines (so each pair shares a color family). */
function percentiles (sources: Array<[string, SizePoint[] | undefined]>): Series[] {
  const measured = sources.filter((s): s is [string, SizePoint[]] => s[1] != null && s[1].length > 0)
  const at = (points: SizePoint[], pick: 'p50' | 'p99'): Array<number | null> =>
    SWEEP_SIZES.map(bytes => points.find(p => p.bytes === bytes)?.latency[pick] ?? null)
  return [
    ...measured.map(([label, points]) => ({ label: `${label} p50`, values: at(points, 'p50') })),
    ...measured.map(([label, points]) => ({ label: `${label} p99`, values: at(points, 'p99'), dashed: true }))
  ]
}

/** Writes the sweep plots that this run has figures for; returns their Markdown image links. */
export async function sweepPlots (dir: string, reports: ReadonlyMap<string, ClientReport>): Promise<string[]> {
  const xs = SWEEP_SIZES.map(sizeLabel)
  const images: string[] = []
  const invoke = reports.get('praas.invoke')?.sizes
  if (invoke != null) {
    const series = percentiles([['praas.invoke', invoke], ['libp2p.echo', reports.get('libp2p.echo')?.sizes]])
    await writeFile(join(dir, 'invoke-sizes.svg'), lineChart('round trip per payload size, p50 solid, p99 dashed', 'us, lower is better', xs, series))
    images.push('![invoke round trip per payload size](invoke-sizes.svg)')
  }
  const ipc = reports.get('ipc.remote')?.onewaySizes
  if (ipc != null) {
    const series = percentiles([['ipc.remote', ipc], ['libp2p.echo.half', reportOf('libp2p.echo.half', reports)?.onewaySizes]])
    await writeFile(join(dir, 'ipc-sizes.svg'), lineChart('one-way across two nodes per payload size, p50 solid, p99 dashed', 'us, lower is better', xs, series))
    images.push('![ipc one-way per payload size](ipc-sizes.svg)')
  }
  const inflight = INFLIGHT_SOURCES.flatMap(name => {
    const points = reports.get(name)?.inflight
    return points != null ? [{ label: name, values: SWEEP_INFLIGHT.map(c => points.find(p => p.concurrency === c)?.callsPerSecond ?? null) }] : []
  })
  if (inflight.length > 0) {
    await writeFile(join(dir, 'throughput-inflight.svg'), lineChart('64 B calls against calls in flight', 'per second, higher is better', SWEEP_INFLIGHT.map(String), inflight))
    images.push('![throughput per calls in flight](throughput-inflight.svg)')
  }
  return images
}

/** Lines for latest.md: what the sweep rows and plots are, and the throughput per level (not rows). */
export function sweepNotes (rows: Row[], reports: ReadonlyMap<string, ClientReport>): string[] {
  const hasRows = rows.some(r => isSweepMetric(r.metric))
  const levels = INFLIGHT_SOURCES.flatMap(name => {
    const points = reports.get(name)?.inflight
    if (points == null) return []
    return [`- \`${name}\`: ${points.map(p => `${p.concurrency}: ${Math.round(p.callsPerSecond)}`).join(', ')} calls/s`]
  })
  if (!hasRows && levels.length === 0) return []
  return [
    ...(hasRows
      ? ['Payload sweeps (rows ending in a size, value = p50 in us; plots `invoke-sizes.svg`, `ipc-sizes.svg`): `invoke.rtt.<size>` = ' +
          'sequential invokes of an echo function with that payload (the result is as big), against `libp2p.echo` = sequential ' +
          'round trips of the same payload on the raw libp2p stream, same run; `ipc.oneway.remote.<size>` = half of each ping-pong ' +
          'round trip of that size between processes on two nodes, against `libp2p.echo.half` = half that raw round trip. ' +
          'Fewer calls for the bigger payloads (`n`).', '']
      : []),
    ...(levels.length > 0
      ? ['Throughput against calls in flight (64 B calls; plot `throughput-inflight.svg`; the 64 point is the `*.throughput` row, the others are shorter windows):', '', ...levels, '']
      : [])
  ]
}
