// Durability (swap, restore, live migration, replicated writes) as benchmark sources, and their
// part of the report.
//   praas.durable     3 `praas node` OS processes, `--replicas 2 --swap-after 0`, and one client
//                     process (durable-client.ts): replicated 64 B writes under 64 callers, swap out
//                     and in of a process holding 64 MiB (full runs: 1, 8, 64 MiB), and the longest
//                     call during a live migration of that process (one caller, then several)
//   praas.durable.r1  the same cluster with `--replicas 1`: the replicated writes' baseline
//   disk.io           one client process (baselines/disk-io.ts): the same bytes written to a file
//                     with one fsync and read back, in a temp dir on the nodes' filesystem
//   libp2p.bulk.64    one 64 MiB message + 4-byte ack on a raw libp2p stream between two OS
//                     processes (baselines/libp2p-bulk-*.ts): what a migration has to ship
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { firstLine, runClient, startServer, stopChild, trackTempDir } from './children.js'
import type { ClientReport, Mode, SwapPoint } from './client-main.js'
import type { Plan } from './load.js'
import type { Row } from './metrics.js'
import { lineChart } from './plot.js'
import { startPraasNode, type PraasNode } from './praas-node.js'

export type DurableSource = 'praas.durable' | 'praas.durable.r1' | 'disk.io' | 'libp2p.bulk.64'

const MIB = 1024 * 1024
/** The state of the headline figures, and the one message of `libp2p.bulk.64`. */
export const STATE_BYTES = 64 * MIB
/** Nodes per cluster: the process sits on the second, its replica on another, a migration goes to the third. */
const NODES = 3
const NODE_READY_MS = 60_000
const SERVER_READY_MS = 20_000
/** Connecting, waiting for the mesh, deploying: on top of the measured phases. */
const CLIENT_SETUP_MS = 60_000

/** What the client processes get as the request's target, JSON-encoded. */
export interface DurableTarget {
  /** The first node's multiaddrs: the bootstrap. */
  addrs: string[]
  /** Peer ids of the nodes, the bootstrap first. */
  nodes: string[]
  /** Path of the app module (apps/durable.js). */
  app: string
}

export interface DurableCounts {
  /** State sizes of the swap sweep, in bytes; the last one is the headline. */
  sizes: number[]
  /** Fill + swap out + swap in per size. */
  cycles: number
  /** Live migrations with one caller, then as many with `callers` callers. */
  migrations: number
  callers: number
  /** Calls before and after each migration. */
  leadMs: number
  /** Pause before each migration, for the previous activation's replica seeding to end. */
  settleMs: number
  /** Warm-up and measuring windows of the replicated writes (the plan's, shortened in quick runs). */
  loadWarmupMs: number
  loadMs: number
  /** Sequential increments: warm-up calls, then measured ones. */
  seqWarmup: number
  seqCalls: number
  /** Raw 64 MiB transfers: warm-up, then measured. */
  warmup: number
  transfers: number
}

export function durableCounts (plan: Plan): DurableCounts {
  return plan.iterations < 20_000
    ? { sizes: [STATE_BYTES], cycles: 3, migrations: 1, callers: 8, leadMs: 200, settleMs: 1000, loadWarmupMs: plan.throughputWarmupMs, loadMs: plan.throughputMs, seqWarmup: 500, seqCalls: 3000, warmup: 1, transfers: 3 }
    : { sizes: [1 * MIB, 8 * MIB, STATE_BYTES], cycles: 5, migrations: 4, callers: 8, leadMs: 300, settleMs: 2000, loadWarmupMs: plan.throughputWarmupMs, loadMs: plan.throughputMs, seqWarmup: 2000, seqCalls: 10_000, warmup: 2, transfers: 6 }
}

/** The metric names of these sources, for report.ts. */
export const isDurableMetric = (metric: string): boolean => /^(swap\.|migrate\.|invoke\.replicated|send\.queued)/.test(metric)

/** `bench` is the compiled bench folder (dist/bench), `root` the repository. */
export async function durable (source: DurableSource, bench: string, root: string, modes: Mode[], plan: Plan): Promise<ClientReport> {
  switch (source) {
    case 'praas.durable': return await praas(source, 2, bench, root, modes, plan)
    case 'praas.durable.r1': return await praas(source, 1, bench, root, modes, plan)
    case 'disk.io': return await disk(bench, modes, plan)
    case 'libp2p.bulk.64': return await bulk(bench, modes, plan)
  }
}

function clientTimeout (plan: Plan, modes: Mode[]): number {
  const counts = durableCounts(plan)
  // at worst about 10 s per MiB-cycle of 64 MiB (fill, swap, restore), 30 s per migration
  const swaps = modes.includes('swapout') || modes.includes('swapin') ? counts.cycles * counts.sizes.length * 30_000 : 0
  const migrations = (modes.includes('pause') ? counts.migrations * 30_000 : 0) + (modes.includes('pauseconc') ? counts.migrations * 30_000 : 0)
  const load = modes.includes('replicated') ? counts.loadWarmupMs + counts.loadMs + 10_000 : 0
  const sequential = (modes.includes('replseq') ? 2 * plan.maxPhaseMs + 10_000 : 0) + (modes.includes('sendseq') ? 2 * plan.maxPhaseMs + 10_000 : 0)
  return CLIENT_SETUP_MS + swaps + migrations + load + sequential
}

async function praas (source: DurableSource, replicas: number, bench: string, root: string, modes: Mode[], plan: Plan): Promise<ClientReport> {
  const nodes: PraasNode[] = []
  const args = ['--replicas', String(replicas), '--swap-after', '0']
  try {
    nodes.push(await startPraasNode(root, NODE_READY_MS, args))
    const seed = nodes[0].info.addrs[0]
    const rest = await Promise.allSettled(Array.from({ length: NODES - 1 }, async () => await startPraasNode(root, NODE_READY_MS, [...args, '--bootstrap', seed])))
    for (const r of rest) if (r.status === 'fulfilled') nodes.push(r.value)
    const failed = rest.find(r => r.status === 'rejected')
    if (failed != null) throw (failed as PromiseRejectedResult).reason
    const target: DurableTarget = { addrs: nodes[0].info.addrs, nodes: nodes.map(n => n.info.peerId), app: join(root, 'bench', 'apps', 'durable.js') }
    return await runClient(`${source} client`, join(bench, 'durable-client.js'), { source, target: JSON.stringify(target), plan, modes }, clientTimeout(plan, modes))
  } finally {
    await Promise.all(nodes.map(async n => { await n.stop() }))
  }
}

async function disk (bench: string, modes: Mode[], plan: Plan): Promise<ClientReport> {
  // the nodes' data dirs are made the same way (praas-node.ts): the same filesystem
  const dir = await mkdtemp(join(tmpdir(), 'praas-bench-disk-'))
  const tracked = trackTempDir(dir)
  try {
    return await runClient('disk.io client', join(bench, 'baselines', 'disk-io.js'), { source: 'disk.io', target: dir, plan, modes }, clientTimeout(plan, modes))
  } finally {
    await rm(dir, { recursive: true, force: true })
    tracked.forget()
  }
}

async function bulk (bench: string, modes: Mode[], plan: Plan): Promise<ClientReport> {
  const server = startServer('libp2p.bulk.64 server', process.execPath, [join(bench, 'baselines', 'libp2p-bulk-server.js'), String(STATE_BYTES)])
  try {
    const target = await firstLine(server, SERVER_READY_MS)
    return await runClient('libp2p.bulk.64 client', join(bench, 'baselines', 'libp2p-bulk-client.js'),
      { source: 'libp2p.bulk.64', target, plan, modes, bytes: STATE_BYTES }, CLIENT_SETUP_MS)
  } finally {
    await stopChild(server)
  }
}

// ---- report ----

/** The project's goals: all on ratios of times, lower is better. */
const GOALS: Array<{ metric: string, baseline: string, max: number, text: string }> = [
  { metric: 'swap.out', baseline: 'disk.io', max: 2, text: 'at least half the local disk bandwidth' },
  { metric: 'swap.in', baseline: 'disk.io', max: 2, text: 'at least half the local disk bandwidth' },
  { metric: 'migrate.pause', baseline: 'libp2p.bulk.64', max: 1.5, text: 'within 1.5x one raw 64 MiB transfer' },
  { metric: 'migrate.pause.concurrent', baseline: 'libp2p.bulk.64', max: 1.5, text: 'within 1.5x one raw 64 MiB transfer' },
  { metric: 'invoke.replicated', baseline: 'praas.durable.r1', max: 1.5, text: 'p50 within 1.5x of one copy (`--replicas 1`)' },
  { metric: 'invoke.replicated.seq', baseline: 'praas.durable.r1', max: 1.5, text: 'p50 within 1.5x of one copy (`--replicas 1`)' }
]

/** MB/s (10^6 B/s) of `bytes` in `ms`. */
const mbps = (bytes: number, ms: number | null): string => ms == null || ms <= 0 ? '–' : (bytes / 1000 / ms).toFixed(0)

/** Lines for latest.md: what the durability rows mean, the figures behind them, each goal with whether this run met it. */
export function durableNotes (rows: Row[], reports: Map<string, ClientReport>): string[] {
  if (!rows.some(r => isDurableMetric(r.metric))) return []
  const row = (metric: string, baseline: string): Row | undefined => rows.find(r => r.metric === metric && r.baseline === baseline)
  const figures: string[] = []
  for (const metric of ['swap.out', 'swap.in']) {
    const r = row(metric, 'disk.io')
    if (r != null) figures.push(`- \`${metric}\` of ${STATE_BYTES / MIB} MiB: ${mbps(STATE_BYTES, r.value)} MB/s; \`disk.io\`: ${mbps(STATE_BYTES, r.baselineValue)} MB/s`)
  }
  const migrate = reports.get('praas.durable')?.migrate
  if (migrate != null && migrate.n > 0) {
    figures.push(`- \`client.migrate\` of the ${STATE_BYTES / MIB} MiB process took ${(migrate.p50 / 1000).toFixed(0)} ms at the median (${migrate.n} migrations, max ${(migrate.max / 1000).toFixed(0)} ms)`)
  }
  const r2 = reports.get('praas.durable')?.replicated
  const r1 = reports.get('praas.durable.r1')?.replicated
  if (r2 != null || r1 != null) {
    const tp = (x: typeof r2): string => x == null ? '–' : `${x.callsPerSecond.toFixed(0)} calls/s (p99 ${(x.latency.p99 / 1000).toFixed(1)} ms)`
    figures.push(`- 64 B state writes, 64 in flight: \`--replicas 2\` ${tp(r2)}, \`--replicas 1\` ${tp(r1)}`)
  }
  const goals = GOALS.flatMap(g => {
    const r = row(g.metric, g.baseline)
    if (r == null) return []
    const met = r.ratio == null ? 'not measured' : r.ratio <= g.max ? 'met' : 'NOT met'
    return [`- \`${g.metric}\` / \`${g.baseline}\` = ${r.ratio ?? '–'}, goal at most ${g.max} (${g.text}): ${met}`]
  })
  return [
    'Durability rows, in clusters of 3 `praas node` OS processes started with `--swap-after 0` and one client OS process. ' +
      '`swap.*` and `migrate.*` (unit `ms`: value = p50 in ms; p50/p99 columns in us) use a process on the second node holding ' +
      `${STATE_BYTES / MIB} MiB of state (64 values of 1 MiB of incompressible bytes, written by a function), \`--replicas 2\`. ` +
      '`swap.out`: `client.swap(pid)` (image on the host\'s disk, one fsync, plus a copy on a replica), a fresh fill and a rest (1 s quick, 2 s full) before each; ' +
      '`swap.in`: the next `invoke` of a function that reads one small key (the client relocates, a node restores the process). ' +
      'Baseline `disk.io`: the same bytes written to a new file in 1 MiB writes and one fsync, then read back with `readFile`, by a ' +
      'separate OS process, on the nodes\' filesystem (both reads find what was just written in the page cache). ' +
      '`migrate.pause`: during `client.migrate(pid, third node)` (then back), the longest single call, of a sequential loop of small ' +
      'invokes by another client, that overlaps the migration; `.concurrent`: the same with 8 loops. Baseline `libp2p.bulk.64`: one ' +
      '64 MiB message and its 4-byte ack on a raw libp2p stream (TCP + Noise + praasYamux) between two OS processes. ' +
      '`invoke.replicated` (us, p50 per call): `put` of 64 B into state by 64 callers at once, process on a non-bootstrap node, ' +
      '`--replicas 2`; baseline `praas.durable.r1`: the same cluster with `--replicas 1` (its own row: `invoke.replicated.r1`). ' +
      '`invoke.replicated.seq` (us, p50): sequential `incr` (a get and a put of the count) by one caller, the same process placement; ' +
      'baseline the same with `--replicas 1` (own row `invoke.replicated.seq.r1`). `send.queued` (us, p50): sequential 64 B ' +
      '`client.send`s to a process there that reads none of them, so each waits for its message to be on the replica; ' +
      'baseline the same with `--replicas 1` (own row `send.queued.r1`).',
    '',
    ...figures,
    '',
    ...(goals.length > 0 ? ['Goals (durability):', '', ...goals, ''] : [])
  ]
}

/** swap.svg: swap out / in against the disk, time per state size; [] unless the run swept more than one size. */
export async function durablePlots (dir: string, reports: Map<string, ClientReport>): Promise<string[]> {
  const praas = reports.get('praas.durable')?.sweep
  const disk = reports.get('disk.io')?.sweep
  if (praas == null || praas.length < 2) return []
  const sizes = praas.map(p => p.bytes)
  const at = (points: SwapPoint[] | undefined, which: 'out' | 'in'): Array<number | null> =>
    sizes.map(b => { const p = points?.find(x => x.bytes === b); return p != null ? p[which].p50 / 1000 : null })
  await writeFile(join(dir, 'swap.svg'), lineChart('swap time against state size, p50', 'ms', sizes.map(b => `${b / MIB} MiB`), [
    { label: 'swap.out', values: at(praas, 'out') },
    { label: 'swap.in', values: at(praas, 'in') },
    { label: 'disk write + fsync', values: at(disk, 'out') },
    { label: 'disk read', values: at(disk, 'in') }
  ]))
  return ['![swap time against state size](swap.svg)']
}
