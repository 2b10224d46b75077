// `partition.unavailable` (issue 18): how long a process whose host is cut off from the network
// stays unavailable before it serves again on the majority side. Three `praas node` OS
// processes, each in a network namespace of its own (test/helpers/netns.ts: veth pairs to a
// bridge, 198.51.100.0/24), and a client OS process beside b calling `incr` back to back. Per
// sample: a new process on a, warmed through b's client; a's link is cut; the figure is the time
// from the cut to the end of the first call begun after it that b's client got acknowledged.
// Then the network heals, and the next sample waits until the mesh is whole again.
// Needs root (network namespaces); elsewhere it throws, naming the reason.
//
// Goal: at most the activation lease + 2 s. Run alone: `node dist/bench/partition.js [--samples N]`
// prints the figures as JSON. The harness (run.ts) takes it as a source: see `partition` below.
import '../protocol/polyfill.js'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { netnsUnsupported, TestNetwork } from '../test/helpers/netns.js'
import { startNetnsClient, type LoopCall, type NetnsClient } from '../test/helpers/netns-clients.js'
import { startNetnsCluster } from '../test/helpers/netns-nodes.js'
import type { Plan } from './load.js'
import { summarize, type Summary } from './stats.js'

const HOSTS = ['a', 'b', 'c']
const APP = 'bench-partition'
/**
 * Each call of the majority side's callers ends within this once it is sent; finding the
 * process (locating, dialling: the SDK does not bound them by the call's limit) within
 * CALL_TIMEOUT_MS * 5 per attempt (the Client's `timeoutMs`).
 */
const CALL_TIMEOUT_MS = 1000
/** Pause after a failed call, so that a node refusing at once is not asked thousands of times a second. */
const PAUSE_AFTER_ERROR_MS = 20
/** Calls through b before each cut, so that b's client knows where the process is and has its stream open. */
const WARM_CALLS = 20
/** Longest wait for the majority side to serve; a sample past it counts as this bound. */
const SERVE_BOUND_MS = 60_000
/** Longest wait for the mesh to be whole again after a heal. */
const MESH_BOUND_MS = 60_000

export interface PartitionReport {
  /** In us: from the cut until b's client, which was calling the process, got a call begun after it acknowledged. */
  unavailable: Summary
  /** The same for c's client, which starts calling at the cut. */
  fresh: Summary
  /** Samples that reached SERVE_BOUND_MS without a call served (counted as the bound). */
  timedOut: number
}

/** Samples per run: a cut, a takeover and a heal each (on today's code 20-45 s each, the fresh client's wait included). */
export const partitionSamples = (plan: Plan): number => plan.iterations < 20_000 ? 1 : 3

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }
const nowUs = (): number => Number(process.hrtime.bigint() / 1000n)

async function untilTrue (ms: number, check: () => Promise<boolean> | boolean): Promise<boolean> {
  const deadline = Date.now() + ms
  for (;;) {
    if (await Promise.resolve().then(check).catch(() => false)) return true
    if (Date.now() > deadline) return false
    await sleep(100)
  }
}

async function meshWhole (clients: NetnsClient[], ms: number): Promise<void> {
  let seen = ''
  const ok = await untilTrue(ms, async () => {
    const views = await Promise.all(clients.map(async c => await c.request<{ leader: string | null, term: number, nodes: unknown[] }>({ op: 'status' }, 5000).catch((err: Error) => err)))
    seen = views.map(v => v instanceof Error ? v.message.slice(0, 80) : `${v.nodes.length} nodes, leader ${v.leader?.slice(-6) ?? 'none'} (term ${v.term})`).join('; ')
    return views.every(v => !(v instanceof Error) && v.nodes.length === HOSTS.length && v.leader != null && v.leader === (views[0] as { leader: string | null }).leader)
  })
  if (!ok) throw new Error(`the mesh was not whole within ${ms} ms (each client's node: ${seen})`)
}

/** The first call of `client` begun at or after `from()` that was acknowledged; stop() ends the watch. */
function firstServed (client: NetnsClient, from: () => number): { call: () => LoopCall | undefined, stop: () => void } {
  let served: LoopCall | undefined
  const stop = client.onCall(call => { if (served == null && call.kind === 'incr' && call.ok && call.start >= from()) served = call })
  return { call: () => served, stop }
}

/** One cut of a: the times until b's and c's clients got a call begun after the cut acknowledged, in us (undefined past the bound). */
async function sample (net: TestNetwork, clients: Map<string, NetnsClient>, home: string, i: number): Promise<{ warm?: number, fresh?: number }> {
  const b = clients.get('b')!
  const c = clients.get('c')!
  const pid = await clients.get('a')!.request<string>({ op: 'create', app: APP, node: home })
  for (let n = 0; n < WARM_CALLS; n++) await b.request({ op: 'invoke', pid, fn: 'incr', timeoutMs: 5000 })
  let cutAt = Infinity
  const warm = firstServed(b, () => cutAt)
  const trace = process.env.PRAAS_PARTITION_TRACE != null
    ? b.onCall(call => { if (call.start >= cutAt - 1000) process.stderr.write(`    b ${((call.start - cutAt) / 1000).toFixed(0)}..${((call.end - cutAt) / 1000).toFixed(0)} ms ${call.ok ? 'ok' : `${call.code ?? ''} ${(call as { message?: string }).message ?? ''}`.slice(0, 120)}\n`) })
    : () => {}
  const fresh = firstServed(c, () => cutAt)
  const run = `sample${i}`
  const loop = { timeoutMs: CALL_TIMEOUT_MS, pauseAfterErrorMs: PAUSE_AFTER_ERROR_MS }
  await b.startLoop(run, pid, ['n'], loop)
  let started = false
  try {
    await sleep(200)
    await net.isolate('a')
    // from when the cut is in place: calls begun while `ip` was moving the port may still get through
    cutAt = nowUs()
    await c.startLoop(run, pid, ['n'], loop)
    started = true
    await untilTrue(SERVE_BOUND_MS, () => warm.call() != null && fresh.call() != null)
  } finally {
    trace()
    warm.stop()
    fresh.stop()
    await b.stopLoop(run)
    if (started) await c.stopLoop(run)
    await net.heal()
  }
  const since = (call: LoopCall | undefined): number | undefined => call != null ? call.end - cutAt : undefined
  return { warm: since(warm.call()), fresh: since(fresh.call()) }
}

/** Measures `samples` cuts; `log` gets a progress line per sample. */
export async function measurePartition (root: string, samples: number, log: (line: string) => void = () => {}): Promise<PartitionReport> {
  const reason = await netnsUnsupported()
  if (reason != null) throw new Error(`partition.unavailable needs network namespaces: ${reason}`)
  const net = await TestNetwork.create(HOSTS)
  const clients = new Map<string, NetnsClient>()
  try {
    const nodes = await startNetnsCluster(net)
    for (const [i, node] of nodes.entries()) {
      const bootstrap = [node.addrs[0], ...nodes.filter((_, j) => j !== i).map(n => n.addrs[0])]
      clients.set(node.host, await startNetnsClient(net, node.host, bootstrap, { timeoutMs: CALL_TIMEOUT_MS * 5, token: nodes[0].token }))
    }
    await meshWhole([...clients.values()], MESH_BOUND_MS)
    await clients.get('a')!.request({ op: 'deploy', app: APP, path: join(root, 'test', 'partition', 'counter.js') })
    const warm: number[] = []
    const fresh: number[] = []
    let timedOut = 0
    const ms = (us: number | undefined): string => us == null ? `not served within ${SERVE_BOUND_MS} ms` : `${(us / 1000).toFixed(0)} ms`
    for (let i = 0; i < samples; i++) {
      const times = await sample(net, clients, nodes[0].peerId, i)
      if (times.warm == null) timedOut++
      if (times.fresh == null) timedOut++
      warm.push(times.warm ?? SERVE_BOUND_MS * 1000)
      fresh.push(times.fresh ?? SERVE_BOUND_MS * 1000)
      log(`  partition.unavailable: cut ${i + 1}/${samples}: ${ms(times.warm)} (fresh client: ${ms(times.fresh)})`)
      await meshWhole([...clients.values()], MESH_BOUND_MS)
    }
    return { unavailable: summarize(warm), fresh: summarize(fresh), timedOut }
  } finally {
    await Promise.all([...clients.values()].map(async c => { await c.close() }))
    await net.destroy()
  }
}

/**
 * For run.ts: the source `praas.partition` (mode `unavailable`). To plug it in: a `partition`
 * field (PartitionReport) in ClientReport, `'unavailable'` among the modes, the source in ORDER
 * and in runSource (`case 'praas.partition': return { partition: await partition(root, plan) }`),
 * and a metric row `partition.unavailable` (unit ms, value = p50 / 1000) against a constant
 * baseline of the lease plus 2 s (derived like `election.timeout` in metrics.ts).
 */
export async function partition (root: string, plan: Plan): Promise<PartitionReport> {
  return await measurePartition(root, partitionSamples(plan), line => { process.stderr.write(line + '\n') })
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { samples: { type: 'string', default: '3' } } })
  const root = fileURLToPath(new URL('../../', import.meta.url))
  const report = await measurePartition(root, Number(values.samples), line => { process.stderr.write(line + '\n') })
  process.stdout.write(JSON.stringify(report, null, 2) + '\n')
  process.exit(0)
}
