// Process-to-process messages (issue 4) as benchmark sources, and their part of the report.
//   ipc.remote   two `praas node` OS processes (the second bootstraps from the first), one
//                process on each: ping-pong (`oneway`) and 8 MiB messages (`bulk`), timed
//                inside the functions (apps/ipc.js, client ipc-client.ts); `--replicas 2`, so
//                each process's messages are durable on the other node
//   ipc.remote.r1  the same ping-pong with `--replicas 1`: the baseline of `ipc.durable`
//   ipc.local    the same ping-pong between two processes of one node
//   redis.relay  a real redis-server on a free loopback port and two client OS processes
//                playing the same ping-pong through LPUSH/BLPOP (baselines/redis-relay.ts)
//   libp2p.bulk  8 MiB messages on one raw libp2p stream between two OS processes, the same
//                TCP + Noise + praasYamux() as the nodes (baselines/libp2p-bulk-*.ts)
// The raw libp2p one-way time, `libp2p.echo.half`, is not run here: it is half of the
// `libp2p.echo` round trip of the same round (metrics.ts, DERIVED).
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { firstLine, runClient, startServer, stopChild, trackTempDir, type Child } from './children.js'
import type { ClientReport, Mode } from './client-main.js'
import type { IpcTarget } from './ipc-client.js'
import { BULK_BYTES, bulkCounts, onewayCounts } from './ipc-child.js'
import { sweepBoundMs, type Plan } from './load.js'
import type { Row } from './metrics.js'
import { barChart, type Bar } from './plot.js'
import { startPraasNode, type PraasNode } from './praas-node.js'
import { answersPing, freePort } from './redis-probe.js'
import { isSweepMetric } from './sweeps.js'

export type IpcSource = 'ipc.remote' | 'ipc.remote.r1' | 'ipc.local' | 'redis.relay' | 'libp2p.bulk'

const NODE_READY_MS = 60_000
const SERVER_READY_MS = 20_000
/** Connecting, waiting for the mesh, deploying, creating: on top of the measured phases. */
const CLIENT_SETUP_MS = 60_000

function clientTimeout (plan: Plan, modes: Mode[]): number {
  const phases = (modes.includes('oneway') ? 2 * onewayCounts(plan).maxMs : 0) + (modes.includes('bulk') ? 2 * bulkCounts(plan).maxMs : 0)
  return CLIENT_SETUP_MS + phases + sweepBoundMs(plan, modes)
}

/** `bench` is the compiled bench folder (dist/bench), `root` the repository. */
export async function ipc (source: IpcSource, bench: string, root: string, modes: Mode[], plan: Plan): Promise<ClientReport> {
  switch (source) {
    case 'ipc.remote': case 'ipc.remote.r1': case 'ipc.local': return await praas(source, bench, root, modes, plan)
    case 'redis.relay': return await redisRelay(bench, modes, plan)
    case 'libp2p.bulk': return await libp2pBulk(bench, modes, plan)
  }
}

async function praas (source: 'ipc.remote' | 'ipc.remote.r1' | 'ipc.local', bench: string, root: string, modes: Mode[], plan: Plan): Promise<ClientReport> {
  const nodes: PraasNode[] = []
  const replicas = ['--replicas', source === 'ipc.remote.r1' ? '1' : '2']
  try {
    nodes.push(await startPraasNode(root, NODE_READY_MS, replicas))
    if (source !== 'ipc.local') nodes.push(await startPraasNode(root, NODE_READY_MS, [...replicas, '--bootstrap', nodes[0].info.addrs[0]]))
    const target: IpcTarget = { addrs: nodes[0].info.addrs, nodes: nodes.map(n => n.info.peerId), app: join(root, 'bench', 'apps', 'ipc.js') }
    return await runClient(`${source} client`, join(bench, 'ipc-client.js'), { source, target: JSON.stringify(target), plan, modes }, clientTimeout(plan, modes))
  } finally {
    await Promise.all(nodes.map(async n => { await n.stop() }))
  }
}

async function libp2pBulk (bench: string, modes: Mode[], plan: Plan): Promise<ClientReport> {
  const server = startServer('libp2p.bulk server', process.execPath, [join(bench, 'baselines', 'libp2p-bulk-server.js'), String(BULK_BYTES)])
  try {
    const target = await firstLine(server, SERVER_READY_MS)
    return await runClient('libp2p.bulk client', join(bench, 'baselines', 'libp2p-bulk-client.js'), { source: 'libp2p.bulk', target, plan, modes }, clientTimeout(plan, modes))
  } finally {
    await stopChild(server)
  }
}

// ---- redis-server ----

const REDIS_READY_MS = 10_000

/** redis-server on a free loopback port, no persistence, in a temp dir; ready once it answers PING. */
async function startRedis (): Promise<{ port: number, stop(): Promise<void> }> {
  if (spawnSync('sh', ['-c', 'command -v redis-server']).status !== 0) throw new Error('redis-server is not installed: apt-get install redis-server')
  const dir = await mkdtemp(join(tmpdir(), 'praas-bench-redis-'))
  const tracked = trackTempDir(dir)
  const port = await freePort()
  const child: Child = startServer('redis-server', 'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { cwd: dir })
  const stop = async (): Promise<void> => {
    await stopChild(child)
    await rm(dir, { recursive: true, force: true })
    tracked.forget()
  }
  const deadline = Date.now() + REDIS_READY_MS
  while (!(await answersPing(port))) {
    if (child.process.exitCode != null || Date.now() > deadline) {
      await stop()
      throw new Error(`redis-server on port ${port} did not answer PING:\n${child.tail()}`)
    }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return { port, stop }
}

async function redisRelay (bench: string, modes: Mode[], plan: Plan): Promise<ClientReport> {
  const redis = await startRedis()
  let ponger: Child | undefined
  try {
    const script = join(bench, 'baselines', 'redis-relay.js')
    const prefix = `praas-bench:${process.pid}:${Date.now()}`
    const counts = onewayCounts(plan)
    ponger = startServer('redis.relay ponger', process.execPath, [script, '--pong', String(redis.port), prefix, String(counts.warmup + counts.rounds + 1)])
    await firstLine(ponger, SERVER_READY_MS)
    return await runClient('redis.relay pinger', script, { source: 'redis.relay', target: JSON.stringify({ port: redis.port, prefix }), plan, modes }, clientTimeout(plan, modes))
  } finally {
    if (ponger != null) await stopChild(ponger)
    await redis.stop()
  }
}

// ---- report ----

/** What each ipc figure is held against: lower is better for the `us` rows, higher for MB/s. */
const GOALS: Array<{ metric: string, baseline: string, max?: number, min?: number }> = [
  { metric: 'ipc.oneway.remote', baseline: 'libp2p.echo.half', max: 1.2 },
  { metric: 'ipc.oneway.local', baseline: 'redis.relay', max: 0.5 },
  { metric: 'ipc.bulk', baseline: 'libp2p.bulk', min: 0.8 },
  { metric: 'ipc.durable', baseline: 'ipc.remote.r1', max: 1.5 }
]

/** Lines for latest.md: what the ipc rows mean, and each goal with whether this run met it. */
export function ipcNotes (rows: Row[]): string[] {
  if (!rows.some(r => r.metric.startsWith('ipc.'))) return []
  const goals = GOALS.flatMap(g => {
    const row = rows.find(r => r.metric === g.metric && r.baseline === g.baseline)
    if (row == null) return []
    const met = row.ratio == null ? 'not measured' : (g.max != null ? row.ratio <= g.max : row.ratio >= (g.min ?? 0)) ? 'met' : 'NOT met'
    return [`- \`${g.metric}\` / \`${g.baseline}\` = ${row.ratio ?? '–'}, goal ${g.max != null ? `at most ${g.max}` : `at least ${g.min ?? 0}`}: ${met}`]
  })
  return [
    '`ipc.*` rows: process-to-process messages (`ctx.send` / `ctx.recv`), timed inside the functions. ' +
      '`ipc.oneway.*` (us, lower is better): half of each 64 B ping-pong round trip between two processes, value = p50; ' +
      '`remote` = the processes on two `praas node` OS processes, `local` = on one. Baselines: `libp2p.echo.half` = half the ' +
      '`libp2p.echo` round trip of the same run (raw libp2p stream, two OS processes); `redis.relay` = the same ping-pong ' +
      'between two OS processes through a redis-server (LPUSH + BLPOP, pipelined). `ipc.bulk` (MB/s = 10^6 B/s, higher is ' +
      'better): 8 MiB messages between processes on two nodes, one at a time, each timed from the start of the send until ' +
      'the receiving function\'s 4-byte ack is back; value = 8 MiB / the p50 transfer time, p50/p99 = transfer times in us. ' +
      'Baseline `libp2p.bulk`: the same on one raw libp2p stream (TCP + Noise + praasYamux) between two OS processes. ' +
      '`ipc.durable` (us): `ipc.oneway.remote` (both nodes `--replicas 2`: a message is durable on the other node before ' +
      'its send resolves) against `ipc.remote.r1`, the same ping-pong on two nodes started with `--replicas 1`.',
    '',
    ...(goals.length > 0 ? ['Goals (issues 4 and 16):', '', ...goals, ''] : [])
  ]
}

/** ipc.svg: one bar per `ipc.*` row (p50 with p99 behind it for the one-way rows); [] if none. */
export async function ipcPlots (dir: string, rows: Row[]): Promise<string[]> {
  const seen = new Set<string>()
  const oneway: Bar[] = []
  const bulk: Bar[] = []
  for (const r of rows) {
    // the per-size rows are drawn by sweeps.ts
    if (!r.metric.startsWith('ipc.') || isSweepMetric(r.metric) || seen.has(r.metric) || r.value == null) continue
    seen.add(r.metric)
    if (r.unit === 'us') oneway.push({ label: r.metric, value: r.value, whisker: r.p99 ?? undefined })
    else bulk.push({ label: r.metric, value: r.value })
  }
  const images: string[] = []
  if (oneway.length > 0) {
    await writeFile(join(dir, 'ipc-oneway.svg'), barChart('64 B one-way between processes, p50 (dark) / p99 (light)', 'us, lower is better', oneway))
    images.push('![ipc one-way](ipc-oneway.svg)')
  }
  if (bulk.length > 0) {
    await writeFile(join(dir, 'ipc-bulk.svg'), barChart('8 MiB messages between processes on two nodes', 'MB/s, higher is better', bulk))
    images.push('![ipc bulk](ipc-bulk.svg)')
  }
  return images
}
