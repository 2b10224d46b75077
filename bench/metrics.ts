// What the benchmark reports. A source is one server/client pair measured in its own processes;
// a metric is one figure of a source, compared with the same figure of its baseline sources.
import { ELECTION_TIMEOUT_MS, LEASE_MS } from '../node/cluster/constants.js'
import type { ClientReport, Mode } from './client-main.js'
import type { ClusterSource } from './cluster.js'
import type { DurableSource } from './durable.js'
import type { IdleSource } from './idle.js'
import { perProcess, type MemorySource } from './memory.js'
import type { IpcSource } from './ipc.js'
import { SWEEP_SIZES, sizeLabel, type SizePoint } from './load.js'
import { round, type Summary } from './stats.js'

export type SourceName = 'net.echo' | 'http.echo' | 'libp2p.echo' | 'libp2p.echo.batched' | 'praas.invoke' | 'praas.incr' | 'praas.parallel' | 'latex.stateless' | 'latex.praas' | 'praas.cli' | 'praas.connect' | 'praas.partition' | IpcSource | ClusterSource | DurableSource | IdleSource | MemorySource

/** Baselines computed from another source's figures of the same round, never run on their own. */
export type DerivedName = 'libp2p.echo.half' | 'latex.echo' | 'resolve.host' | 'invoke.warm' | 'election.timeout' | 'invoke.parallel.one' | 'node.e0' | 'libp2p.dial' | 'lease.plus.2s' | 'idle.4'

const constant = (x: number): Summary => ({ n: 1, p50: x, p99: x, mean: x, min: x, max: x })
const halve = (s: Summary): Summary => ({ n: s.n, p50: s.p50 / 2, p99: s.p99 / 2, mean: s.mean / 2, min: s.min / 2, max: s.max / 2 })
const halveEach = (points: SizePoint[]): SizePoint[] => points.map(p => ({ bytes: p.bytes, latency: halve(p.latency) }))

/** `mode`: the source's mode the derivation reads; `modes`: the same per metric mode, where they differ. */
const DERIVED: Record<DerivedName, { from: SourceName, mode: Mode, modes?: Partial<Record<Mode, Mode>>, derive(report: ClientReport): ClientReport }> = {
  // Raw libp2p one-way: half the sequential round trip on an open stream (the same halving as the ipc ping-pong), 64 B and per payload size.
  'libp2p.echo.half': {
    from: 'libp2p.echo',
    mode: 'rtt',
    modes: { onewaysizes: 'sizes' },
    derive: r => ({ oneway: r.rtt != null ? halve(r.rtt) : undefined, onewaySizes: r.sizes != null ? halveEach(r.sizes) : undefined })
  },
  // An invoke of an echo function carrying the LaTeX file's 10 KiB, measured by the latex.praas client on its node.
  'latex.echo': { from: 'latex.praas', mode: 'getfile', derive: r => ({ getfile: r.echo10k, compile: r.echo10k }) },
  // The cluster client measures its baselines in the same mesh and reports them beside its figures (cluster-client.ts).
  'resolve.host': { from: 'praas.cluster', mode: 'resolve', derive: r => ({ resolve: r.resolve != null ? { ...r.resolve, first: r.resolve.atHost } : undefined }) },
  'invoke.warm': { from: 'praas.cluster', mode: 'cold', modes: { deploycold: 'cold' }, derive: r => ({ cold: r.cold != null ? { ...r.cold, cold: r.cold.warm, deploy: r.cold.warm } : undefined }) },
  // The CPU-bound function one call at a time, in the same client and node as two at a time.
  'invoke.parallel.one': { from: 'praas.parallel', mode: 'parallel', derive: r => ({ parallel: r.parallel != null ? { ...r.parallel, two: r.parallel.one } : undefined }) },
  // A constant: a follower stands for election this long after it last heard the leader (plus rank and jitter).
  'election.timeout': { from: 'praas.cluster', mode: 'failover', derive: r => ({ failover: r.failover != null ? constant(ELECTION_TIMEOUT_MS * 1000) : undefined }) },
  // A constant: the goal of partition.unavailable (issue 18), a lease and 2 s.
  'lease.plus.2s': { from: 'praas.partition', mode: 'unavailable', derive: r => ({ partition: r.partition != null ? { ...r.partition, unavailable: constant((LEASE_MS + 2000) * 1000) } : undefined }) },
  // `node -e 0`, timed in turns with the CLI's commands (cli.ts): the floor of any command
  'node.e0': { from: 'praas.cli', mode: 'cli', derive: r => ({ cli: r.cli != null ? { status: r.cli.nodeE0, ps: r.cli.nodeE0, invoke: r.cli.nodeE0, nodeE0: r.cli.nodeE0 } : undefined }) },
  // a raw libp2p dial and first stream, timed in turns with Client.connect (connect.ts)
  // the mesh of 4 of the same run (idle.ts): what a node costs there, against the mesh of 16
  'idle.4': { from: 'praas.idle', mode: 'idlecpu', modes: { idlerss: 'idlecpu' }, derive: r => ({ idle: r.idle != null ? { ...r.idle, cpu16: r.idle.cpu4, rss16: r.idle.rss4 } : undefined }) },
  'libp2p.dial': { from: 'praas.connect', mode: 'connect', derive: r => ({ connect: r.connect != null ? { connect: r.connect.dial, dial: r.connect.dial } : undefined }) }
}

const isDerived = (name: string): name is DerivedName => Object.hasOwn(DERIVED, name)

export interface MetricDef {
  metric: string
  unit: string
  source: SourceName | DerivedName
  mode: Mode
  /** Sources whose same-mode figure this one is divided by; empty for the raw floor. */
  baselines: Array<SourceName | DerivedName>
  /** The payload size of a sweep row (modes `sizes`, `onewaysizes`). */
  bytes?: number
  /** Measured for a plot (report.ts), not a row: the source and its baselines run the mode, no row is written. */
  plotOnly?: boolean
}

export const METRICS: MetricDef[] = [
  { metric: 'net.echo.rtt', unit: 'us', source: 'net.echo', mode: 'rtt', baselines: [] },
  { metric: 'net.echo.throughput', unit: 'requests/s', source: 'net.echo', mode: 'throughput', baselines: [] },
  // A plain HTTP microservice: node:http, keep-alive, one connection per call in flight.
  { metric: 'http.echo.rtt', unit: 'us', source: 'http.echo', mode: 'rtt', baselines: ['net.echo'] },
  { metric: 'http.echo.throughput', unit: 'requests/s', source: 'http.echo', mode: 'throughput', baselines: ['net.echo'] },
  { metric: 'libp2p.echo.rtt', unit: 'us', source: 'libp2p.echo', mode: 'rtt', baselines: ['net.echo'] },
  { metric: 'libp2p.echo.throughput', unit: 'requests/s', source: 'libp2p.echo', mode: 'throughput', baselines: ['net.echo'] },
  // The same echo with the frames of one event-loop turn sent together: what libp2p can carry
  // when the writer coalesces, the bar for a multiplexed invoke stream that does so.
  { metric: 'libp2p.echo.batched.throughput', unit: 'requests/s', source: 'libp2p.echo.batched', mode: 'throughput', baselines: ['libp2p.echo', 'net.echo'] },
  { metric: 'invoke.rtt', unit: 'us', source: 'praas.invoke', mode: 'rtt', baselines: ['libp2p.echo', 'net.echo'] },
  // The server process's CPU time per sequential call (all threads), against the raw echo server's.
  { metric: 'invoke.cpu', unit: 'us', source: 'praas.invoke', mode: 'cpu', baselines: ['libp2p.echo'] },
  // A sequential increment (state get + put, --replicas 1) against a plain invoke of the same node kind.
  { metric: 'state.incr', unit: 'us', source: 'praas.incr', mode: 'rtt', baselines: ['praas.invoke'] },
  // A 100 ms CPU-bound function of one process: calls/s with 2 in flight against 1 in flight (the paper's threads on two cores).
  { metric: 'invoke.parallel', unit: 'calls/s', source: 'praas.parallel', mode: 'parallel', baselines: ['invoke.parallel.one'] },
  { metric: 'invoke.throughput', unit: 'calls/s', source: 'praas.invoke', mode: 'throughput', baselines: ['http.echo', 'libp2p.echo', 'libp2p.echo.batched', 'net.echo'] },
  // The sweeps (sweeps.ts): sequential round trips per payload size; calls/s per number of calls in flight (a plot only).
  ...SWEEP_SIZES.map((bytes): MetricDef => ({ metric: `invoke.rtt.${sizeLabel(bytes)}`, unit: 'us', source: 'praas.invoke', mode: 'sizes', bytes, baselines: ['libp2p.echo'] })),
  { metric: 'invoke.throughput.inflight', unit: 'calls/s', source: 'praas.invoke', mode: 'inflight', baselines: ['libp2p.echo', 'http.echo', 'net.echo'], plotOnly: true },
  // The paper's LaTeX case: a session process against the same app as FaaS functions on Redis.
  // The CLI in scripts (cli.ts): wall time of one command, a fresh process each, against `node -e 0`.
  { metric: 'cli.status', unit: 'ms', source: 'praas.cli', mode: 'cli', baselines: ['node.e0'] },
  // Trust at connect time (connect.ts): Client.connect with a token and the first invoke, against a raw libp2p dial and first stream.
  { metric: 'client.connect', unit: 'ms', source: 'praas.connect', mode: 'connect', baselines: ['libp2p.dial'] },
  { metric: 'latex.getfile', unit: 'us', source: 'latex.praas', mode: 'getfile', baselines: ['latex.echo', 'latex.stateless'] },
  { metric: 'latex.compile', unit: 'us', source: 'latex.praas', mode: 'compile', baselines: ['latex.echo', 'latex.stateless'] },
  { metric: 'latex.echo', unit: 'us', source: 'latex.echo', mode: 'getfile', baselines: [] },
  // Process-to-process messages (ipc.ts): 64 B one-way times inside the functions, 8 MiB transfers across two nodes;
  // the `ipc.*.libp2p` / `ipc.oneway.redis` rows are the baselines' own figures.
  { metric: 'ipc.oneway.remote', unit: 'us', source: 'ipc.remote', mode: 'oneway', baselines: ['libp2p.echo.half', 'redis.relay'] },
  ...SWEEP_SIZES.map((bytes): MetricDef => ({ metric: `ipc.oneway.remote.${sizeLabel(bytes)}`, unit: 'us', source: 'ipc.remote', mode: 'onewaysizes', bytes, baselines: ['libp2p.echo.half'] })),
  { metric: 'ipc.oneway.local', unit: 'us', source: 'ipc.local', mode: 'oneway', baselines: ['redis.relay', 'libp2p.echo.half'] },
  // Durable messages: the same remote ping-pong with --replicas 2 (ipc.remote) against --replicas 1.
  { metric: 'ipc.durable', unit: 'us', source: 'ipc.remote', mode: 'oneway', baselines: ['ipc.remote.r1'] },
  { metric: 'ipc.oneway.libp2p', unit: 'us', source: 'libp2p.echo.half', mode: 'oneway', baselines: [] },
  { metric: 'ipc.oneway.redis', unit: 'us', source: 'redis.relay', mode: 'oneway', baselines: [] },
  { metric: 'ipc.bulk', unit: 'MB/s', source: 'ipc.remote', mode: 'bulk', baselines: ['libp2p.bulk'] },
  { metric: 'ipc.bulk.libp2p', unit: 'MB/s', source: 'libp2p.bulk', mode: 'bulk', baselines: [] },
  // The cluster layer (cluster.ts), in a mesh of 8 node processes: value = p50 in ms; the
  // `resolve.at.host` / `invoke.cold.warm` rows are the baselines' own figures.
  { metric: 'resolve.first', unit: 'ms', source: 'praas.cluster', mode: 'resolve', baselines: ['resolve.host'] },
  { metric: 'resolve.at.host', unit: 'ms', source: 'resolve.host', mode: 'resolve', baselines: [] },
  { metric: 'invoke.cold', unit: 'ms', source: 'praas.cluster', mode: 'cold', baselines: ['invoke.warm'] },
  { metric: 'invoke.cold.warm', unit: 'ms', source: 'invoke.warm', mode: 'cold', baselines: [] },
  // deploy + create + first invoke of an app new to the cluster (a new name, the same module), on the same node
  { metric: 'deploy.cold', unit: 'ms', source: 'praas.cluster', mode: 'deploycold', baselines: ['invoke.warm'] },
  { metric: 'leader.failover', unit: 'ms', source: 'praas.cluster', mode: 'failover', baselines: ['election.timeout'] },
  // An idle mesh (idle.ts): CPU (mean % of a core per node) and RSS (mean MiB per node) in a mesh of 16 against the same mesh at 4;
  // in the mesh of 16, a SIGKILLed member until no survivor lists it, the SIGKILLed leader until a survivor names another (one sample each).
  { metric: 'idle.cpu', unit: '% core', source: 'praas.idle', mode: 'idlecpu', baselines: ['idle.4'] },
  { metric: 'idle.rss', unit: 'MiB', source: 'praas.idle', mode: 'idlerss', baselines: ['idle.4'] },
  { metric: 'member.detect', unit: 'ms', source: 'praas.idle', mode: 'detect', baselines: [] },
  { metric: 'leader.failover.16', unit: 'ms', source: 'praas.idle', mode: 'failover16', baselines: [] },
  // Memory per process (memory.ts): RSS growth of one node per small process, active or swapped (bytes).
  { metric: 'process.overhead', unit: 'B', source: 'praas.memory', mode: 'procmem', baselines: [] },
  { metric: 'swapped.overhead', unit: 'B', source: 'praas.memory', mode: 'swapmem', baselines: [] },
  // A host cut off from the others (network namespaces, partition.ts): until its process serves again on the majority side.
  { metric: 'partition.unavailable', unit: 'ms', source: 'praas.partition', mode: 'unavailable', baselines: ['lease.plus.2s'] },
  // Durability (durable.ts): swap and restore of a 64 MiB process against the local disk, the longest call during a
  // live migration against one raw 64 MiB transfer, replicated state writes against one copy; value = p50 in ms / us.
  { metric: 'swap.out', unit: 'ms', source: 'praas.durable', mode: 'swapout', baselines: ['disk.io'] },
  { metric: 'swap.in', unit: 'ms', source: 'praas.durable', mode: 'swapin', baselines: ['disk.io'] },
  { metric: 'migrate.pause', unit: 'ms', source: 'praas.durable', mode: 'pause', baselines: ['libp2p.bulk.64'] },
  { metric: 'migrate.pause.concurrent', unit: 'ms', source: 'praas.durable', mode: 'pauseconc', baselines: ['libp2p.bulk.64'] },
  { metric: 'invoke.replicated', unit: 'us', source: 'praas.durable', mode: 'replicated', baselines: ['praas.durable.r1'] },
  { metric: 'invoke.replicated.r1', unit: 'us', source: 'praas.durable.r1', mode: 'replicated', baselines: [] },
  // one caller: the replication round trip of each call is not shared
  { metric: 'invoke.replicated.seq', unit: 'us', source: 'praas.durable', mode: 'replseq', baselines: ['praas.durable.r1'] },
  { metric: 'invoke.replicated.seq.r1', unit: 'us', source: 'praas.durable.r1', mode: 'replseq', baselines: [] },
  // a message nobody takes at once waits for the replica's round trip (a ping-pong's do not: ipc.durable)
  { metric: 'send.queued', unit: 'us', source: 'praas.durable', mode: 'sendseq', baselines: ['praas.durable.r1'] },
  { metric: 'send.queued.r1', unit: 'us', source: 'praas.durable.r1', mode: 'sendseq', baselines: [] }
]

/** The row format of latest.json (SPEC.md, Benchmarks). */
export interface Row {
  metric: string
  unit: string
  /** p50 in us for latencies (in ms for the `ms` rows); calls (requests) per second for throughput; MB/s for bulk. */
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
  const add = (name: SourceName | DerivedName, mode: Mode): void => {
    const [source, sourceMode] = isDerived(name) ? [DERIVED[name].from, DERIVED[name].modes?.[mode] ?? DERIVED[name].mode] : [name, mode]
    want.set(source, (want.get(source) ?? new Set()).add(sourceMode))
  }
  for (const m of metrics) {
    // the CPU figure is read off the round-trip phase
    const mode = m.mode === 'cpu' ? 'rtt' : m.mode === 'deploycold' ? 'cold' : m.mode
    add(m.source, mode)
    for (const b of m.baselines) add(b, mode)
  }
  return want
}

function figures (report: ClientReport | undefined, mode: Mode, bytes?: number): { value: number, n: number, p50: number, p99: number } | undefined {
  if (mode === 'sizes' || mode === 'onewaysizes') {
    const point = (mode === 'sizes' ? report?.sizes : report?.onewaySizes)?.find(p => p.bytes === bytes)
    if (point == null || point.latency.n === 0) return undefined
    const { p50, p99, n } = point.latency
    return { value: p50, n, p50, p99 }
  }
  if (mode === 'cpu' && report?.rtt?.serverCpuUs != null) {
    const { serverCpuUs, n } = report.rtt
    return { value: serverCpuUs, n, p50: serverCpuUs, p99: serverCpuUs }
  }
  if (mode === 'rtt' && report?.rtt != null) {
    const { p50, p99, n } = report.rtt
    return { value: p50, n, p50, p99 }
  }
  if (mode === 'parallel' && report?.parallel != null) {
    const { two, n } = report.parallel
    return { value: two, n, p50: two, p99: two }
  }
  if (mode === 'throughput' && report?.throughput != null) {
    const { callsPerSecond, latency } = report.throughput
    return { value: callsPerSecond, n: latency.n, p50: latency.p50, p99: latency.p99 }
  }
  if ((mode === 'getfile' || mode === 'compile') && report?.[mode] != null) {
    const { p50, p99, n } = report[mode]
    return { value: p50, n, p50, p99 }
  }
  if (mode === 'oneway' && report?.oneway != null) {
    const { p50, p99, n } = report.oneway
    return { value: p50, n, p50, p99 }
  }
  if (mode === 'bulk' && report?.bulk != null) {
    // bytes per microsecond = MB/s (10^6 B/s), at the median transfer time
    const { bytes, transfer } = report.bulk
    return { value: bytes / transfer.p50, n: transfer.n, p50: transfer.p50, p99: transfer.p99 }
  }
  // the cluster figures are in us like the rest; their value is in ms
  const ms = (s: Summary | undefined): { value: number, n: number, p50: number, p99: number } | undefined =>
    s != null && s.n > 0 ? { value: s.p50 / 1000, n: s.n, p50: s.p50, p99: s.p99 } : undefined
  if (mode === 'cli') return ms(report?.cli?.status)
  if (mode === 'connect') return ms(report?.connect?.connect)
  if (mode === 'resolve') return ms(report?.resolve?.first)
  if (mode === 'cold') return ms(report?.cold?.cold)
  if (mode === 'deploycold') return ms(report?.cold?.deploy)
  if (mode === 'failover') return ms(report?.failover)
  if (mode === 'unavailable') return ms(report?.partition?.unavailable)
  if (mode === 'detect') return ms(report?.idle?.detect)
  if (mode === 'failover16') return ms(report?.idle?.failover)
  if (mode === 'procmem' || mode === 'swapmem') {
    const point = mode === 'procmem' ? report?.memory?.active : report?.memory?.swapped
    const bytes = perProcess(point)
    return bytes == null || point == null ? undefined : { value: bytes, n: point.to - point.from, p50: bytes, p99: bytes }
  }
  if ((mode === 'idlecpu' || mode === 'idlerss') && report?.idle != null) {
    const s = mode === 'idlecpu' ? report.idle.cpu16 : report.idle.rss16
    return { value: s.mean, n: s.n, p50: s.p50, p99: s.max }
  }
  if (mode === 'swapout' || mode === 'swapin' || mode === 'pause' || mode === 'pauseconc') return ms(report?.[mode])
  if ((mode === 'replseq' || mode === 'sendseq') && report?.[mode] != null && report[mode].n > 0) {
    const { p50, p99, n } = report[mode]
    return { value: p50, n, p50, p99 }
  }
  if (mode === 'replicated' && report?.replicated != null) {
    // under 64 callers the figure is the per-call p50; the calls per second go to the notes
    const { p50, p99, n } = report.replicated.latency
    return { value: p50, n, p50, p99 }
  }
  return undefined
}

/** Per mode, the figures of the round whose headline value is the median. */
export function medianRound (reports: ClientReport[]): ClientReport {
  const median = <T>(items: T[], key: (item: T) => number): T | undefined =>
    [...items].sort((a, b) => key(a) - key(b))[Math.floor((items.length - 1) / 2)]
  return {
    rtt: median(reports.flatMap(r => r.rtt ?? []), r => r.p50),
    throughput: median(reports.flatMap(r => r.throughput ?? []), t => t.callsPerSecond),
    getfile: median(reports.flatMap(r => r.getfile ?? []), s => s.p50),
    compile: median(reports.flatMap(r => r.compile ?? []), s => s.p50),
    echo10k: median(reports.flatMap(r => r.echo10k ?? []), s => s.p50),
    oneway: median(reports.flatMap(r => r.oneway ?? []), s => s.p50),
    // each sweep whole from one round: the round whose biggest payload (most calls in flight) is the median
    sizes: median(reports.filter(r => r.sizes != null), r => r.sizes?.at(-1)?.latency.p50 ?? 0)?.sizes,
    onewaySizes: median(reports.filter(r => r.onewaySizes != null), r => r.onewaySizes?.at(-1)?.latency.p50 ?? 0)?.onewaySizes,
    inflight: median(reports.filter(r => r.inflight != null), r => r.inflight?.at(-1)?.callsPerSecond ?? 0)?.inflight,
    bulk: median(reports.flatMap(r => r.bulk ?? []), b => b.transfer.p50),
    // a figure and its baselines come from the same round
    resolve: median(reports.flatMap(r => r.resolve ?? []), x => x.first.p50),
    cold: median(reports.flatMap(r => r.cold ?? []), x => x.cold.p50),
    failover: median(reports.flatMap(r => r.failover ?? []), s => s.p50),
    partition: median(reports.flatMap(r => r.partition ?? []), p => p.unavailable.p50),
    idle: median(reports.flatMap(r => r.idle ?? []), x => x.cpu16.mean),
    memory: reports.find(r => r.memory != null)?.memory,
    cli: median(reports.flatMap(r => r.cli ?? []), c => c.status.p50),
    connect: median(reports.flatMap(r => r.connect ?? []), c => c.connect.p50),
    swapout: median(reports.flatMap(r => r.swapout ?? []), s => s.p50),
    swapin: median(reports.flatMap(r => r.swapin ?? []), s => s.p50),
    sweep: median(reports.filter(r => r.sweep != null), r => r.sweep?.at(-1)?.out.p50 ?? 0)?.sweep,
    pause: median(reports.flatMap(r => r.pause ?? []), s => s.p50),
    pauseconc: median(reports.flatMap(r => r.pauseconc ?? []), s => s.p50),
    migrate: median(reports.flatMap(r => r.migrate ?? []), s => s.p50),
    replicated: median(reports.flatMap(r => r.replicated ?? []), t => t.latency.p50),
    replseq: median(reports.flatMap(r => r.replseq ?? []), s => s.p50),
    sendseq: median(reports.flatMap(r => r.sendseq ?? []), s => s.p50),
    parallel: median(reports.flatMap(r => r.parallel ?? []), p => p.two / p.one)
  }
}

/** The report of a source, or of a baseline derived from another source's report. */
export function reportOf (name: SourceName | DerivedName, reports: ReadonlyMap<string, ClientReport>): ClientReport | undefined {
  if (!isDerived(name)) return reports.get(name)
  const from = reports.get(DERIVED[name].from)
  return from != null ? DERIVED[name].derive(from) : undefined
}

/** One row per (metric, baseline) pair; metrics whose own source failed give no row. */
export function toRows (metrics: MetricDef[], reports: Map<SourceName, ClientReport>): Row[] {
  const rows: Row[] = []
  for (const m of metrics) {
    if (m.plotOnly === true) continue
    const own = figures(reportOf(m.source, reports), m.mode, m.bytes)
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
    for (const b of m.baselines) rows.push(row(b, figures(reportOf(b, reports), m.mode, m.bytes)?.value ?? null))
  }
  return rows
}
