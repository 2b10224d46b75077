// The SWIM simulation: N copies of the real core (node/cluster/swim) on a simulated clock and
// network, for N = 16 ... 1000, default config; the real election and membership on top of it
// (election.ts), and a model of kad-dht's lookups (kademlia.ts). Writes bench/results/sim.json, sim.md and the
// plots sim-*.svg. `node dist/bench/sim/run.js [--sizes 16,64] [--seed 1]`
import { readFileSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { resolveConfig } from '../../node/cluster/swim/index.js'
import { SimCluster } from './cluster.js'
import { seededRandom } from './random.js'
import { electionScenario, type ElectionFigures } from './election.js'
import { dhtHops, type HopFigures } from './kademlia.js'
import { churnTraffic, detection, falsePositives, recordConvergence, traffic } from './scenarios.js'
import { renderPlots, renderTable } from './report.js'
import type { Detection, FalsePositives, TrafficFigures } from './scenarios.js'

export const SIZES = [16, 32, 64, 128, 256, 512, 1000]

export interface SizeResult {
  n: number
  /** From the first start until every node sees every other alive. */
  startupMs: number | undefined
  /** From then until no node has updates queued (the start's burst spread out). */
  settleMs: number | undefined
  traffic: TrafficFigures
  /** Traffic while every node changes its record every CHURN_PERIOD_MS. */
  churn: TrafficFigures
  recordMs: Array<number | undefined>
  loss1: FalsePositives
  loss5: FalsePositives
  detection: Detection[]
  /** The real election on SWIM: until all follow a first leader, and a new one after each leader's death. */
  election: ElectionFigures
  /** Rounds of a pid's lookup in kad-dht's routing (a model). */
  dht: HopFigures
  wallMs: number
}

const TRAFFIC_WINDOW_MS = 60_000
const LOSS_WINDOW_MS = 120_000
const CHURN_PERIOD_MS = 30_000
const CHURN_WINDOW_MS = 10_000
const KILLS = 5
const RECORDS = 5
const LEADER_KILLS = 3
const DHT_LOOKUPS = 500

export async function simulate (n: number, seed: number, log: (line: string) => void = () => {}): Promise<SizeResult> {
  const wall = performance.now()
  const cluster = new SimCluster({ size: n, seed })
  const random = seededRandom(seed + n)
  cluster.start(1_000)
  const startupMs = cluster.runUntil(() => cluster.converged(), 300_000, 250)
  const settleMs = cluster.runUntil(() => cluster.live().every(node => node.swim.stats().queued === 0), 300_000, 250)
  log(`N=${n}: converged ${startupMs} ms, settled ${settleMs} ms after (simulated)`)
  const quiet = traffic(cluster, TRAFFIC_WINDOW_MS)
  const recordMs = recordConvergence(cluster, RECORDS, random)
  const churn = churnTraffic(cluster, CHURN_PERIOD_MS, CHURN_WINDOW_MS, CHURN_WINDOW_MS, random)
  const loss1 = falsePositives(cluster, 0.01, LOSS_WINDOW_MS)
  const loss5 = falsePositives(cluster, 0.05, LOSS_WINDOW_MS)
  cluster.run(10_000)
  const kills = detection(cluster, KILLS, random)
  const result = { n, startupMs, settleMs, traffic: quiet, churn, recordMs, loss1, loss5, detection: kills, ...await electionAndDht(n, seed, log), wallMs: performance.now() - wall }
  log(`N=${n}: in ${quiet.messagesIn.mean.toFixed(2)} msg/s, ${quiet.bytesIn.mean.toFixed(0)} B/s (records changing: ${churn.messagesIn.mean.toFixed(2)} msg/s, ${churn.bytesIn.mean.toFixed(0)} B/s); dead everywhere ${kills.map(k => k.allDeadMs).join(', ')} ms; ` +
    `false deaths ${loss1.deaths} (1%), ${loss5.deaths} (5%); wall ${(result.wallMs / 1000).toFixed(1)} s`)
  return result
}

/** The election and DHT figures of one size (they need no SWIM measurements of their own). */
async function electionAndDht (n: number, seed: number, log: (line: string) => void): Promise<Pick<SizeResult, 'election' | 'dht'>> {
  const election = await electionScenario(n, seed, LEADER_KILLS)
  const dht = dhtHops(n, DHT_LOOKUPS, seededRandom(seed * 3 + n))
  log(`N=${n}: first leader after ${election.firstMs} ms, new leaders after ${election.failoverMs.join(', ')} ms; DHT hops ${dht.hops.mean.toFixed(2)} (max ${dht.hops.max})`)
  return { election, dht }
}

async function main (): Promise<void> {
  // --part election: only the election and DHT figures, added to the SWIM figures of the last run's sim.json (the SWIM part takes ~25 min at 1000)
  const { values } = parseArgs({ options: { sizes: { type: 'string' }, seed: { type: 'string', default: '1' }, part: { type: 'string', default: 'all' } } })
  const sizes = values.sizes != null ? values.sizes.split(',').map(Number) : SIZES
  const seed = Number(values.seed)
  const out = new URL('../../../bench/results/', import.meta.url)
  const log = (line: string): void => { console.log(line) }
  const results: SizeResult[] = []
  if (values.part === 'election') {
    const previous = JSON.parse(readFileSync(new URL('sim.json', out), 'utf8')) as { results: SizeResult[] }
    for (const r of previous.results) results.push(sizes.includes(r.n) ? { ...r, ...await electionAndDht(r.n, seed, log) } : r)
  } else {
    for (const n of sizes) results.push(await simulate(n, seed, log))
  }
  const config = resolveConfig()
  writeFileSync(new URL('sim.json', out), JSON.stringify({ seed, config, network: 'delay 0.5 ms + uniform 0-2 ms, no loss unless stated', results }, null, 2) + '\n')
  writeFileSync(new URL('sim.md', out), renderTable(results, config, seed))
  for (const [name, svg] of Object.entries(renderPlots(results))) writeFileSync(new URL(name, out), svg)
  console.log(`wrote bench/results/sim.json, sim.md, ${Object.keys(renderPlots(results)).join(', ')}`)
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
