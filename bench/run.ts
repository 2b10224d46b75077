// `npm run bench [-- --quick | --smoke] [-- --only PREFIX[,PREFIX…]] [-- --rounds N]`: measures praas invoke against
// raw libp2p and raw node:net echo in the same run, writes bench/results/latest.{json,md}, prints the table.
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { installCleanup, stopAll } from './children.js'
import type { ClientReport } from './client-main.js'
import { SWEEP_SIZES, type Plan, type SweepPlan } from './load.js'
import { medianRound, METRICS, needed, toRows, type SourceName } from './metrics.js'
import { machine, table, writeReport } from './report.js'
import { runSource } from './sources.js'

/**
 * Rounds run every source once each, interleaved, so that a baseline and praas see the same
 * machine; each figure is then the median round's (the machine here is shared and noisy).
 */
const ROUNDS = { quick: 1, full: 3 }

/**
 * The sweeps: per size of SWEEP_SIZES (10 B … 5 MiB) a warm-up and a count of calls, fewer for the
 * big ones, so that quick mode adds well under a minute; short windows per level of calls in flight.
 */
const sweep = (warmup: number[], iterations: number[], rest: Omit<SweepPlan, 'sizes'>): SweepPlan =>
  ({ sizes: SWEEP_SIZES.map((bytes, i) => ({ bytes, warmup: warmup[i], iterations: iterations[i] })), ...rest })

const PLANS: Record<'quick' | 'full', Plan> = {
  quick: {
    payloadBytes: 64,
    warmup: 2000,
    iterations: 5000,
    concurrency: 64,
    throughputWarmupMs: 1000,
    throughputMs: 3000,
    maxPhaseMs: 15_000,
    sweep: sweep([200, 200, 50, 5, 2], [1000, 1000, 200, 30, 10], { maxPointMs: 2500, inflightWarmupMs: 150, inflightMs: 500 })
  },
  full: {
    payloadBytes: 64,
    warmup: 5000,
    iterations: 20_000,
    concurrency: 64,
    throughputWarmupMs: 2000,
    throughputMs: 10_000,
    maxPhaseMs: 60_000,
    sweep: sweep([1000, 1000, 200, 20, 5], [5000, 5000, 1000, 200, 50], { maxPointMs: 20_000, inflightWarmupMs: 1000, inflightMs: 3000 })
  }
}

/** Sources run in this order: the floors first, so their figures are in hand if praas fails. */
const ORDER: SourceName[] = ['net.echo', 'http.echo', 'libp2p.echo', 'libp2p.echo.batched', 'praas.invoke', 'praas.incr', 'praas.parallel', 'latex.stateless', 'latex.praas',
  'redis.relay', 'libp2p.bulk', 'ipc.local', 'ipc.remote.r1', 'ipc.remote', 'praas.cli', 'praas.connect', 'praas.cluster', 'disk.io', 'libp2p.bulk.64', 'praas.durable.r1', 'praas.durable',
  'praas.partition', 'praas.idle', 'praas.memory']
/**
 * Sources a quick run leaves out unless asked for by name (`--only partition`): a partition
 * sample takes a cut, a takeover and a heal (tens of seconds), and needs root for its network
 * namespaces; the memory source rests 65 s at each of its four readings.
 */
const FULL_ONLY = new Set<SourceName>(['praas.partition', 'praas.memory'])
/** Sources measured in the first round only: `praas.memory` fills a node with 100,000 processes (minutes), and its figure is a slope, not a latency. */
const FIRST_ROUND_ONLY = new Set<SourceName>(['praas.memory'])

/** The first line of an error, plus the first line of a child's output that names an error. */
function summary (message: string): string {
  const [first, ...rest] = message.split('\n').map(l => l.trim()).filter(l => l !== '')
  const cause = rest.find(l => /error/i.test(l))
  return cause != null ? `${first} ${cause}` : first
}

/**
 * On a terminal, a bar of the sources done so far (the children's progress lines run between
 * the bars, so each bar is a line of its own); in CI or a pipe, nothing: plain lines only.
 */
function progressBar (done: number, total: number): string {
  if (process.stderr.isTTY !== true || process.env.CI != null) return ''
  const width = 20
  const filled = Math.round(width * done / Math.max(1, total))
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} `
}

async function main (): Promise<number> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, smoke: { type: 'boolean', default: false }, only: { type: 'string' }, rounds: { type: 'string' } } })
  const smoke = values.smoke === true
  const mode = values.quick === true || smoke ? 'quick' : 'full'
  const plan = smoke ? { ...PLANS.quick, smoke } : PLANS[mode]
  const rounds = Math.min(10, Math.max(1, Number(values.rounds ?? ROUNDS[mode]) || 1))
  const prefixes = values.only?.split(',').filter(p => p !== '')
  const metrics = METRICS.filter(m => prefixes == null ? !(mode === 'quick' && FULL_ONLY.has(m.source as SourceName)) : prefixes.some(p => m.metric.startsWith(p)))
  if (metrics.length === 0) {
    process.stderr.write(`bench: no metric starts with "${values.only}"; metrics: ${METRICS.map(m => m.metric).join(', ')}\n`)
    return 2
  }
  const bench = dirname(fileURLToPath(import.meta.url))
  const root = resolve(bench, '..', '..')
  installCleanup()

  const want = needed(metrics)
  const reports = new Map<SourceName, ClientReport[]>()
  const failed = new Set<SourceName>()
  const failures: string[] = []
  const started = Date.now()
  const steps = ORDER.filter(n => want.has(n)).reduce((sum, n) => sum + (FIRST_ROUND_ONLY.has(n) ? 1 : rounds), 0)
  let step = 0
  for (let round = 1; round <= rounds; round++) {
    for (const name of ORDER.filter(n => want.has(n) && !failed.has(n) && !(round > 1 && FIRST_ROUND_ONLY.has(n)))) {
      const modes = [...(want.get(name) ?? [])]
      process.stderr.write(`bench: ${progressBar(step++, steps)}round ${round}/${rounds}: ${name} (${modes.join(', ')}), ${((Date.now() - started) / 1000).toFixed(1)} s elapsed\n`)
      try {
        const report = await runSource(name, modes, plan, bench, root)
        reports.set(name, [...(reports.get(name) ?? []), report])
        for (const error of report.errors ?? []) failures.push(`${name}: ${summary(error)}`)
      } catch (err: any) {
        const message = String(err?.message ?? err)
        process.stderr.write(`bench: ${name} failed: ${message}\n`)
        failures.push(`${name}: ${summary(message)}`)
        failed.add(name)
      }
    }
  }

  const medians = new Map([...reports].map(([name, all]) => [name, medianRound(all)]))
  const rows = toRows(metrics, medians)
  await writeReport(join(root, 'bench', 'results'), rows, machine(smoke ? 'smoke' : mode, rounds), failures, medians)
  process.stdout.write(table(rows))
  process.stderr.write(`bench: done in ${((Date.now() - started) / 1000).toFixed(1)} s; wrote bench/results/latest.json and latest.md\n`)
  return failures.length > 0 ? 1 : 0
}

main().then(
  async code => { await stopAll(); process.exit(code) },
  async err => { process.stderr.write(`bench: ${err?.stack ?? err}\n`); await stopAll(); process.exit(1) }
)
