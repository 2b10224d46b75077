// Writes bench/results/latest.{json,md} and the plots, and renders the table for stdout.
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import type { ClientReport } from './client-main.js'
import { clusterNotes, clusterPlots, isClusterMetric } from './cluster.js'
import { durableNotes, durablePlots, isDurableMetric } from './durable.js'
import { memoryNotes } from './memory.js'
import { ipcNotes, ipcPlots } from './ipc.js'
import { sandboxNotes } from './sandbox-goals.js'
import type { Row } from './metrics.js'
import { barChart, type Bar } from './plot.js'
import { isSweepMetric, sweepNotes, sweepPlots } from './sweeps.js'

export interface Machine {
  node: string
  cpus: number
  cpuModel: string
  platform: string
  date: string
  mode: 'quick' | 'full' | 'smoke'
  rounds: number
  /** The 1-minute load average when the run ended (other work on the machine skews every figure). */
  load: number
}

export function machine (mode: Machine['mode'], rounds: number): Machine {
  const list = cpus()
  return {
    node: process.version,
    cpus: list.length,
    cpuModel: list[0]?.model ?? 'unknown',
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
    mode,
    rounds,
    load: Number(loadavg()[0].toFixed(1))
  }
}

const show = (x: number | null): string => x == null ? '–' : String(x)

export function table (rows: Row[]): string {
  const head = '| metric | value | unit | p50 (us) | p99 (us) | baseline | baseline value | ratio |\n|---|---:|---|---:|---:|---|---:|---:|\n'
  return head + rows.map(r => `| ${r.metric} | ${show(r.value)} | ${r.unit} | ${show(r.p50)} | ${show(r.p99)} | ${r.baseline ?? '–'} | ${show(r.baselineValue)} | ${show(r.ratio)} |`).join('\n') + '\n'
}

/** One bar per metric (rows repeat a metric once per baseline). */
function plots (rows: Row[]): { rtt: Bar[], throughput: Bar[] } {
  const seen = new Set<string>()
  const rtt: Bar[] = []
  const throughput: Bar[] = []
  for (const r of rows) {
    // the ipc rows (one-way times, MB/s), the cluster rows (ms), the durability rows and the per-size rows have plots of their own
    if (seen.has(r.metric) || r.value == null || r.metric === 'invoke.cpu' || r.metric.startsWith('ipc.') || isClusterMetric(r.metric) || isDurableMetric(r.metric) || isSweepMetric(r.metric)) continue
    seen.add(r.metric)
    if (r.unit === 'us') rtt.push({ label: r.metric, value: r.value, whisker: r.p99 ?? undefined })
    else throughput.push({ label: r.metric, value: r.value })
  }
  return { rtt, throughput }
}

/** `reports`: the median round's report of each source, for the figures that are not rows (throughputs, the swap sweep). */
export async function writeReport (dir: string, rows: Row[], host: Machine, failures: string[], reports = new Map<string, ClientReport>()): Promise<string> {
  await mkdir(dir, { recursive: true })
  const { rtt, throughput } = plots(rows)
  const images: string[] = []
  if (rtt.length > 0) {
    await writeFile(join(dir, 'rtt.svg'), barChart('sequential calls, p50 (dark) / p99 (light)', 'us, lower is better', rtt))
    images.push('![round trip](rtt.svg)')
  }
  if (throughput.length > 0) {
    await writeFile(join(dir, 'throughput.svg'), barChart('64 B calls, 64 in flight', 'per second, higher is better', throughput))
    images.push('![throughput](throughput.svg)')
  }
  images.push(...await sweepPlots(dir, reports))
  images.push(...await ipcPlots(dir, rows))
  images.push(...await clusterPlots(dir, rows))
  images.push(...await durablePlots(dir, reports))
  const md = [
    '# praas benchmarks (latest run)',
    '',
    table(rows),
    'ratio = value / baseline value, both measured in this run. For `us` rows (sequential calls, value = p50: 64 B round trips; `latex.*`: ' +
      'the LaTeX example\'s get of a 10 KiB file and compile of an unchanged document, against an invoke that carries the same 10 KiB ' +
      '(`latex.echo`) and, as information, its stateless functions on Redis) ' +
      'lower is better; for `/s` rows (64 calls in flight, value = completed calls per second) higher is better, and ' +
      'their p50/p99 are per-call latencies under that load. Every server and every client runs in its own OS process on loopback.',
    '',
    '`invoke.rtt` runs a node (`--replicas 1`) whose app code runs in a V8 isolate on the node\'s own thread (nothing polls). ' +
      '`invoke.cpu`: the CPU time (user + system, all threads, from /proc) of the server\'s OS process per call of the `invoke.rtt` ' +
      'phase, warm-up included, against the raw libp2p echo server\'s (p50/p99 columns repeat the value). `state.incr`: sequential ' +
      'calls of a function that reads and writes one state key, against `invoke.rtt`. `invoke.parallel`: calls/s of a function ' +
      'that computes for 100 ms, two in flight on one process, against one in flight (same node, same client).',
    '',
    ...sandboxNotes(rows),
    ...sweepNotes(rows, reports),
    ...ipcNotes(rows),
    ...clusterNotes(rows),
    ...durableNotes(rows, reports),
    ...memoryNotes(rows, reports),
    ...(failures.length > 0 ? ['**Failed in this run:**', '', ...failures.map(f => `- ${f}`), ''] : []),
    ...images.flatMap(i => [i, '']),
    `Machine: Node ${host.node}, ${host.cpus} CPUs (${host.cpuModel}), ${host.platform}; ${host.mode} run, ${host.rounds} round(s) (figures from the median round), on ${host.date}; 1-minute load average at the end: ${host.load}.`,
    ''
  ].join('\n')
  await writeFile(join(dir, 'latest.json'), JSON.stringify(rows, null, 2) + '\n')
  await writeFile(join(dir, 'latest.md'), md)
  return md
}
