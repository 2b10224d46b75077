// The cluster layer (issue 3) as a benchmark source, and its part of the report.
//   praas.cluster   a mesh of CLUSTER_NODES `praas node` OS processes (the first is the seed, the
//                   others bootstrap from it) and one client process (cluster-client.ts) that
//                   measures pid resolution by fresh clients (`resolve`), create + first invoke
//                   (`cold`) and leader fail-over after a SIGKILL (`failover`), with their
//                   baselines in the same mesh: a fresh client's first invoke at the host itself
//                   (`resolve.host`), warm invokes (`invoke.warm`), the election timeout (`election.timeout`);
//                   metrics.ts derives those baseline rows from the same report.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runClient } from './children.js'
import type { ClientReport, Mode } from './client-main.js'
import type { Plan } from './load.js'
import type { Row } from './metrics.js'
import { barChart, type Bar } from './plot.js'
import { startPraasNode, type PraasNode } from './praas-node.js'

export type ClusterSource = 'praas.cluster'

/** What the client process (cluster-client.ts) gets as the request's target, JSON-encoded. */
export interface ClusterTarget {
  nodes: Array<{ peerId: string, addrs: string[], /** OS pid, for the fail-over's SIGKILL */ pid: number }>
  /** The echo app's source. */
  app: string
}

/** Sample counts and bounds of one run; `quick` when the plan is the quick one. */
export interface ClusterCounts {
  resolveSamples: number
  coldSamples: number
  /** deploy + create + first invoke of a new app each (deploy.cold). */
  deploySamples: number
  failovers: number
  /** Bounds on the measuring loops of the resolve and cold phases (they stop early, with fewer samples). */
  resolveMs: number
  coldMs: number
  /** Warm invokes of the cold phase's baseline: warm-up, then measured. */
  warmup: number
  warmIterations: number
}

export function clusterCounts (quick: boolean): ClusterCounts {
  return quick
    ? { resolveSamples: 8, coldSamples: 20, deploySamples: 5, failovers: 2, resolveMs: 15_000, coldMs: 10_000, warmup: 300, warmIterations: 1000 }
    : { resolveSamples: 30, coldSamples: 60, deploySamples: 15, failovers: 3, resolveMs: 30_000, coldMs: 20_000, warmup: 500, warmIterations: 2000 }
}

/** Node processes in the mesh (issue 3: at least 8). */
export const CLUSTER_NODES = 8
const NODE_READY_MS = 60_000
/** Nodes started at once after the seed. */
const START_BATCH = 4
/** Starting the client's own peers, waiting for the mesh and a leader, deploying, creating the pids. */
const CLIENT_SETUP_MS = 90_000
/** Fail-overs: the mesh agreeing first (10 s), then each new leader (15 s) and the mesh settling again (10 s). */
const FAILOVER_MS = 90_000

const ECHO_SOURCE = 'export async function echo (input) { return input }\n'

/** The metric names of this source, for report.ts. */
export const isClusterMetric = (metric: string): boolean => /^(resolve\.|invoke\.cold|leader\.)/.test(metric)

/** `bench` is the compiled bench folder (dist/bench), `root` the repository. */
export async function cluster (bench: string, root: string, modes: Mode[], plan: Plan): Promise<ClientReport> {
  const nodes: PraasNode[] = []
  const started = Date.now()
  try {
    nodes.push(await startPraasNode(root, NODE_READY_MS))
    const seed = nodes[0].info.addrs[0]
    // a few at a time (as test/helpers/cluster.ts does): on 2 cores, nodes starting all at once
    // starve each other, and a starved node can stand for election late and stay out of it
    for (let i = 1; i < CLUSTER_NODES; i += START_BATCH) {
      const batch = await Promise.allSettled(Array.from({ length: Math.min(START_BATCH, CLUSTER_NODES - i) }, async () => await startPraasNode(root, NODE_READY_MS, ['--bootstrap', seed])))
      for (const r of batch) if (r.status === 'fulfilled') nodes.push(r.value)
      const failed = batch.find(r => r.status === 'rejected')
      if (failed != null) throw (failed as PromiseRejectedResult).reason
    }
    process.stderr.write(`  praas.cluster: ${nodes.length} node processes up after ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
    const target: ClusterTarget = {
      nodes: nodes.map(n => ({ peerId: n.info.peerId, addrs: n.info.addrs, pid: n.child.process.pid ?? n.info.pid })),
      app: ECHO_SOURCE
    }
    const counts = clusterCounts(plan.iterations < 20_000)
    const timeout = CLIENT_SETUP_MS + (modes.includes('resolve') ? 2 * counts.resolveMs : 0) + (modes.includes('cold') ? 2 * counts.coldMs + 20_000 : 0) + (modes.includes('failover') ? FAILOVER_MS : 0)
    return await runClient('praas.cluster client', join(bench, 'cluster-client.js'), { source: 'praas.cluster', target: JSON.stringify(target), plan, modes }, timeout)
  } finally {
    // the fail-over has SIGKILLed some already: stopChild returns at once for those
    const stopping = Date.now()
    await Promise.all(nodes.map(async n => { await n.stop() }))
    process.stderr.write(`  praas.cluster: nodes stopped in ${((Date.now() - stopping) / 1000).toFixed(1)} s\n`)
  }
}

// ---- report ----

/** The goals: lower is better for all three. */
const GOALS: Array<{ metric: string, baseline: string | null, text: string, met(row: Row): boolean | undefined }> = [
  { metric: 'resolve.first', baseline: 'resolve.host', text: 'reported: what finding a pid through a node that does not host it adds to a fresh client\'s first call', met: () => undefined },
  { metric: 'invoke.cold', baseline: 'invoke.warm', text: 'p50 under 5 ms', met: r => r.value == null ? undefined : r.value < 5 }
]

/** Lines for latest.md: what the cluster rows mean, and each goal with whether this run met it. */
export function clusterNotes (rows: Row[]): string[] {
  if (!rows.some(r => isClusterMetric(r.metric))) return []
  const goals = GOALS.flatMap(g => {
    const row = rows.find(r => r.metric === g.metric && r.baseline === g.baseline)
    if (row == null) return []
    const met = g.met(row)
    return [`- \`${g.metric}\` = ${row.value ?? '–'} ms, ratio to \`${g.baseline}\` ${row.ratio ?? '–'}; goal: ${g.text}: ${met == null ? 'not measured' : met ? 'met' : 'NOT met'}`]
  })
  const failover = rows.find(r => r.metric === 'leader.failover')
  if (failover != null) goals.push(`- \`leader.failover\` = ${failover.value ?? '–'} ms (p50 of ${failover.n}; no goal set)`)
  return [
    `Cluster rows (unit \`ms\`: value = p50 in ms, lower is better; their p50/p99 columns stay in us), in one mesh of ${CLUSTER_NODES} ` +
      '`praas node` OS processes on loopback and one client OS process, measured once every node\'s `status` shows all nodes and the same ' +
      'leader. Each measuring loop is bounded in time; `n` says how many samples it took.',
    '',
    '- `resolve.first`: the first `invoke` (64 B echo; `Client.connect` not timed) of an existing pid by a new SDK `Client` each sample, ' +
      'whose bootstrap node neither hosts the pid nor has looked it up (a different pid per sample, created through its own host, 3 s ' +
      'earlier). The client asks that node where the pid runs (LOCATE: the node\'s directory, a DHT lookup on a cache miss; clients do ' +
      'not read the DHT themselves, only members do), then dials the hosting node and presents its token there.',
    '- Its baseline `resolve.host`, on the same pid: the first `invoke` by a new `Client` whose bootstrap node is the host (its LOCATE ' +
      'is answered from the host\'s own table). The two take turns on each pid, the order rotated.',
    '- `invoke.cold`: `await client.create(app, { node })` then `await client.invoke(pid, \'echo\', 64 B)`, one client, on a node that ' +
      'is not the leader (the allocation goes to the leader) and whose app has warm workers (one warmed process, 5 warm-up creates); ' +
      'after each sample a 100 ms pause, then warm invokes until one answers within 3x the warm p50 (at most 1 s), so that a ' +
      'create\'s background DHT put has finished before the next sample. Baseline `invoke.warm`: sequential ' +
      'invokes of the warmed process (same client, same node; 300/500 warm-up, up to 1000/2000 measured in quick/full runs).',
    '- `leader.failover`: SIGKILL of the leader until a surviving node\'s `status` names another leader of a higher term (polled every ' +
      '20 ms); repeated on the shrinking mesh once every survivor agrees again. Baseline `election.timeout`: the constant after which a ' +
      'follower that has not heard its leader stands (plus rank × 150 ms and up to 150 ms jitter).',
    '- `resolve.at.host` and `invoke.cold.warm` are the baselines\' own rows.',
    '',
    ...(goals.length > 0 ? ['Goals (issue 3):', '', ...goals, ''] : [])
  ]
}

/** cluster.svg: one bar per cluster row (p50, p99 behind it) in ms; [] if none. */
export async function clusterPlots (dir: string, rows: Row[]): Promise<string[]> {
  const seen = new Set<string>()
  const bars: Bar[] = []
  for (const r of rows) {
    if (!isClusterMetric(r.metric) || seen.has(r.metric) || r.value == null || r.metric.startsWith('leader.')) continue
    seen.add(r.metric)
    bars.push({ label: r.metric, value: r.value, whisker: r.p99 != null ? r.p99 / 1000 : undefined })
  }
  if (bars.length === 0) return []
  await writeFile(join(dir, 'cluster.svg'), barChart(`${CLUSTER_NODES}-node mesh, p50 (dark) / p99 (light)`, 'ms, lower is better', bars))
  return ['![cluster](cluster.svg)']
}
