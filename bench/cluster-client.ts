// Client process of `praas.cluster` (cluster.ts): in a mesh of `praas node` OS processes it
// measures, in this order (the last one kills nodes):
//   resolve   the first invoke of an existing pid by a fresh SDK Client (bootstrap: a node that
//             does not host the pid and has never looked it up: it finds the pid in the DHT), against
//             the first invoke by a fresh Client bootstrapped at the host itself (no lookup)
//   cold      create + first invoke on a node whose app has warm workers, against warm invokes
//             of an existing process on that node (same client, same mesh)
//   failover  SIGKILL of the leader until a surviving node's status shows a new leader of a higher term
// Latencies are reported in microseconds, like every other figure; metrics.ts turns them into ms.
import '../protocol/polyfill.js'
import { Client } from '../sdk/index.js'
import type { ClientReport, ClientRequest, ClusterMode } from './client-main.js'
import { clusterCounts, type ClusterCounts, type ClusterTarget } from './cluster.js'
import { reportMain } from './ipc-child.js'
import { makePayload, measureRtt } from './load.js'
import { summarize } from './stats.js'

const APP = 'bench-cluster-echo'
const PAYLOAD = makePayload(64)
/** Forming the mesh at start (startup grace 2 s, then an election). */
const MESH_TIMEOUT_MS = 20_000
/** Agreeing again after a fail-over: the dead node drops out of every view after 3 s. */
const SETTLE_TIMEOUT_MS = 10_000
/** After the pids are created: time for their DHT puts (p99 ~0.4 s) to land. */
const PUBLISH_WAIT_MS = 3_000
/** Creates in flight while making the resolve pids. */
const CREATE_CONCURRENCY = 8
/**
 * Between cold samples: at least this pause, then until a warm invoke answers within QUIET_FACTOR
 * times the warm p50 (at most COLD_QUIET_MAX_MS), so that one create's background DHT put does
 * not load the next sample.
 */
const COLD_GAP_MS = 100
const QUIET_FACTOR = 3
const COLD_QUIET_MAX_MS = 1_000
/** A fail-over taking longer than this counts as failed. */
const FAILOVER_TIMEOUT_MS = 15_000
const STATUS_POLL_MS = 20
const CALL_TIMEOUT_MS = 10_000

const t0 = performance.now()
const elapsed = (): string => `${((performance.now() - t0) / 1000).toFixed(1)} s`
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

function check (out: Uint8Array): void {
  if (out.byteLength !== PAYLOAD.byteLength) throw new Error(`echo returned ${out.byteLength} bytes, sent ${PAYLOAD.byteLength}`)
}

async function bounded<T> (what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([work, new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`${what}: nothing after ${ms} ms`)) }, ms) })])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Waits until every live node's status shows `count` nodes and one non-null leader, of a term
 * above `minTerm`, that is not `not` (bounded). Returns that leader and term.
 */
async function waitForAgreement (clients: Map<string, Client>, count: number, limitMs: number, minTerm = 0, not?: string): Promise<{ leader: string, term: number }> {
  const deadline = Date.now() + limitMs
  let last = ''
  for (;;) {
    const views = await Promise.all([...clients.values()].map(async c => await c.status().catch(() => undefined)))
    const leaders = new Set(views.map(v => v?.leader ?? 'none'))
    const first = views[0]
    if (views.every(v => v != null && v.nodes.length === count && v.term > minTerm) && leaders.size === 1 &&
      first?.leader != null && first.leader !== not && views.every(v => v?.term === first.term)) {
      return { leader: first.leader, term: first.term }
    }
    last = views.map(v => v == null ? 'no answer' : `${v.nodes.length} nodes, leader ${v.leader?.slice(-6) ?? 'none'} term ${v.term}`).join('; ')
    if (Date.now() > deadline) throw new Error(`the mesh did not agree within ${limitMs} ms (want ${count} nodes and one leader): ${last}`)
    await sleep(100)
  }
}

/**
 * A setup call (not measured): the first way, then after UNAVAILABLE the next ones (say, the same
 * create through another node: a node whose election is stuck cannot allocate); failures are logged.
 */
async function setupCall<T> (what: string, ways: Array<() => Promise<T>>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await ways[i]()
    } catch (err: any) {
      if (err?.code !== 'UNAVAILABLE' || i + 1 >= ways.length) throw err
      process.stderr.write(`  praas.cluster (${elapsed()}): ${what} failed (${err.message}), trying through another node\n`)
    }
  }
}

type Sampler = (pid: string) => Promise<number>

/** The first invoke by a new Client (connect not timed), in us. */
function firstInvoke (bootstrap: string[]): Sampler {
  return async pid => {
    const client = await Client.connect({ bootstrap })
    try {
      const start = performance.now()
      const out = await client.invoke(pid, 'echo', PAYLOAD, { timeoutMs: CALL_TIMEOUT_MS })
      const us = (performance.now() - start) * 1000
      check(out)
      return us
    } finally {
      await client.close()
    }
  }
}

async function measureResolve (setup: Map<string, Client>, target: ClusterTarget, counts: ClusterCounts, source: string): Promise<NonNullable<ClientReport['resolve']>> {
  // The fresh clients' bootstrap: node 1. The pids live on the other nodes except node 0 (the
  // seed); each is created through its own host, so the bootstrap node never saw it.
  const bootstrap = target.nodes[1]
  const hosts = target.nodes.slice(2)
  const pids: string[] = []
  for (let i = 0; i < counts.resolveSamples; i += CREATE_CONCURRENCY) {
    const batch = Array.from({ length: Math.min(CREATE_CONCURRENCY, counts.resolveSamples - i) }, (_, j) => hosts[(i + j) % hosts.length])
    pids.push(...await Promise.all(batch.map(async h => await setupCall(`create on ${h.peerId.slice(-8)}`,
      // through the host itself, else through any node but the fresh clients' bootstrap node (it must not see the pid)
      [h, ...target.nodes.filter(n => n !== h && n !== bootstrap)].map(via => async () => await setup.get(via.peerId)!.create(APP, { node: h.peerId }))))))
  }
  process.stderr.write(`  ${source} (${elapsed()}): ${pids.length} pids created\n`)
  await sleep(PUBLISH_WAIT_MS)
  process.stderr.write(`  ${source} (${elapsed()}): first invoke of ${pids.length} pids by fresh clients via a node that does not host them, against fresh clients at the host\n`)
  const hostOf = new Map(await Promise.all(pids.map(async (pid, i) => [pid, hosts[i % hosts.length].addrs] as const)))
  const samplers: Sampler[] = [firstInvoke(bootstrap.addrs), async pid => await firstInvoke(hostOf.get(pid)!)(pid)]
  const samples: number[][] = samplers.map(() => [])
  const deadline = performance.now() + counts.resolveMs
  for (let i = 0; i < pids.length && performance.now() < deadline; i++) {
    // both on the same pid, each in turn first: the host answers its own LOCATE from its table,
    // and only the bootstrap node's lookup (the DHT) leaves anything behind (its cache), which the other does not use
    for (let k = 0; k < samplers.length; k++) {
      const which = (i + k) % samplers.length
      samples[which].push(await bounded(`sample ${i}`, 3 * CALL_TIMEOUT_MS, samplers[which](pids[i])))
    }
  }
  const [first, atHost] = samples.map(s => summarize(s))
  if (first.n === 0) throw new Error('no resolve sample finished')
  return { first, atHost }
}

async function measureCold (client: Client, node: string, counts: ClusterCounts, source: string, app: string): Promise<NonNullable<ClientReport['cold']>> {
  // warm workers: the app's first worker is up since the deploy; one process, invoked, warms the path
  const warmPid = await client.create(APP, { node })
  check(await client.invoke(warmPid, 'echo', PAYLOAD))
  process.stderr.write(`  ${source} (${elapsed()}): create + first invoke on a node with warm workers, against warm invokes there\n`)
  const warm = await measureRtt(async payload => await client.invoke(warmPid, 'echo', payload),
    { payloadBytes: PAYLOAD.byteLength, warmup: counts.warmup, iterations: counts.warmIterations, concurrency: 1, throughputWarmupMs: 0, throughputMs: 0, maxPhaseMs: 5_000 })
  for (let i = 0; i < 5; i++) check(await client.invoke(await client.create(APP, { node }), 'echo', PAYLOAD)) // warm the create path
  await sleep(500)
  const samples: number[] = []
  const creates: number[] = []
  const deadline = performance.now() + counts.coldMs
  while (samples.length < counts.coldSamples && performance.now() < deadline) {
    const start = performance.now()
    const pid = await client.create(APP, { node })
    creates.push((performance.now() - start) * 1000)
    const out = await client.invoke(pid, 'echo', PAYLOAD, { timeoutMs: CALL_TIMEOUT_MS })
    samples.push((performance.now() - start) * 1000)
    check(out)
    await sleep(COLD_GAP_MS)
    const quietBy = performance.now() + COLD_QUIET_MAX_MS
    while (performance.now() < quietBy) {
      const t = performance.now()
      check(await client.invoke(warmPid, 'echo', PAYLOAD))
      if ((performance.now() - t) * 1000 <= QUIET_FACTOR * warm.p50) break
      await sleep(20)
    }
  }
  const cold = summarize(samples)
  if (cold.n === 0) throw new Error('no cold sample finished')
  const create = summarize(creates)
  const invoke = summarize(samples.map((s, i) => s - creates[i]))
  process.stderr.write(`  ${source} (${elapsed()}): ${cold.n} cold samples: create p50 ${(create.p50 / 1000).toFixed(1)} ms, then first invoke p50 ${(invoke.p50 / 1000).toFixed(1)} ms; warm invoke p50 ${(warm.p50 / 1000).toFixed(2)} ms\n`)
  // deploy + create + first invoke of an app the cluster has never seen (a new name each time, the same source)
  const deploys: number[] = []
  const deployDeadline = performance.now() + counts.coldMs
  for (let i = 0; i < counts.deploySamples && performance.now() < deployDeadline; i++) {
    const name = `bench-cold-${process.pid}-${i}`
    const start = performance.now()
    await client.deploy(name, app)
    const out = await client.invoke(await client.create(name, { node }), 'echo', PAYLOAD, { timeoutMs: CALL_TIMEOUT_MS })
    deploys.push((performance.now() - start) * 1000)
    check(out)
    await sleep(COLD_GAP_MS)
  }
  const deploy = summarize(deploys)
  process.stderr.write(`  ${source} (${elapsed()}): ${deploy.n} deploy + create + first invoke of a new app: p50 ${(deploy.p50 / 1000).toFixed(1)} ms\n`)
  return { cold, warm, deploy }
}

/**
 * SIGKILLs the leader `counts.failovers` times (the mesh shrinks by one each time), each time
 * timing until a surviving node's status shows another leader of a higher term; then waits until
 * every survivor agrees again before the next kill.
 */
async function measureFailover (clients: Map<string, Client>, target: ClusterTarget, counts: ClusterCounts, source: string, errors: string[]): Promise<NonNullable<ClientReport['failover']>> {
  process.stderr.write(`  ${source} (${elapsed()}): SIGKILL of the leader until a surviving node names a new one (${counts.failovers} times)\n`)
  const samples: number[] = []
  let agreed = await waitForAgreement(clients, clients.size, SETTLE_TIMEOUT_MS)
  for (let i = 0; i < counts.failovers && clients.size >= 3; i++) {
    const victim = target.nodes.find(n => n.peerId === agreed.leader)
    if (victim == null) throw new Error(`the leader ${agreed.leader} is not one of this run's nodes`)
    const gone = clients.get(victim.peerId)
    clients.delete(victim.peerId)
    // an observer that is not the leader (the status of any survivor is as good)
    const observer = [...clients.values()][0]
    const start = performance.now()
    process.kill(victim.pid, 'SIGKILL')
    for (;;) {
      const status = await observer.status().catch(() => undefined)
      if (status?.leader != null && status.leader !== victim.peerId && status.term > agreed.term) break
      if (performance.now() - start > FAILOVER_TIMEOUT_MS) throw new Error(`no new leader ${FAILOVER_TIMEOUT_MS} ms after the leader was killed`)
      await sleep(STATUS_POLL_MS)
    }
    samples.push((performance.now() - start) * 1000)
    void gone?.close().catch(() => {})
    // the dead node drops out of every view after 3 missed heartbeats; then the next round starts from a settled mesh
    if (i + 1 < counts.failovers) {
      try {
        agreed = await waitForAgreement(clients, clients.size, SETTLE_TIMEOUT_MS, agreed.term, victim.peerId)
      } catch (err: any) {
        // keep the fail-overs measured so far
        process.stderr.write(`  ${source} (${elapsed()}): after fail-over ${i + 1}: ${err?.message ?? err}\n`)
        errors.push(`failover: after ${i + 1} of ${counts.failovers}: ${String(err?.message ?? err)}`)
        break
      }
    }
  }
  return summarize(samples)
}

async function measure (request: ClientRequest): Promise<{ report: ClientReport, close(): Promise<void> }> {
  const target: ClusterTarget = JSON.parse(request.target)
  const counts = clusterCounts(request.plan.iterations < 20_000)
  // one long-lived client per node: status of each, the pids' creation, the cold phase
  const clients = new Map<string, Client>()
  const close = async (): Promise<void> => { await Promise.all([...clients.values()].map(async c => { await c.close().catch(() => {}) })) }
  try {
    const connected = await Promise.allSettled(target.nodes.map(async n => await Client.connect({ bootstrap: n.addrs })))
    connected.forEach((c, i) => { if (c.status === 'fulfilled') clients.set(target.nodes[i].peerId, c.value) })
    const refused = connected.find(c => c.status === 'rejected')
    if (refused != null) throw (refused as PromiseRejectedResult).reason
    const started = performance.now()
    const { leader, term } = await waitForAgreement(clients, target.nodes.length, MESH_TIMEOUT_MS)
    process.stderr.write(`  ${request.source} (${elapsed()}): ${target.nodes.length} nodes agree on leader ${leader.slice(-8)} (term ${term}) after ${((performance.now() - started) / 1000).toFixed(1)} s more\n`)
    // through every node: a deploy's fan-out to the other nodes leaves out the ones that did not
    // answer in time (or that its node did not know yet) and still succeeds, and a create through
    // a node without the app is NOT_FOUND
    for (const client of clients.values()) await client.deploy(APP, target.app)
    const report: ClientReport = {}
    const errors: string[] = []
    // a phase that fails costs its own figures only; its error goes to the report's failures
    const phase = async (mode: ClusterMode, run: () => Promise<void>): Promise<void> => {
      if (!request.modes.includes(mode)) return
      try {
        await run()
      } catch (err: any) {
        process.stderr.write(`  ${request.source} (${elapsed()}): the ${mode} phase failed: ${err?.stack ?? err}\n`)
        errors.push(`${mode}: ${String(err?.message ?? err).split('\n')[0]}`)
      }
    }
    await phase('resolve', async () => { report.resolve = await measureResolve(clients, target, counts, request.source) })
    await phase('cold', async () => {
      // a node that is not the leader, so that the allocation makes its usual hop to the leader
      const node = target.nodes.find(n => n.peerId !== leader && n !== target.nodes[1])!.peerId
      report.cold = await measureCold(clients.get(node)!, node, counts, request.source, target.app)
    })
    if (!request.modes.includes('failover')) {
      // the fail-over phase starts with this check; without it, still say whether the mesh held together
      await waitForAgreement(clients, clients.size, SETTLE_TIMEOUT_MS).catch((err: Error) => {
        process.stderr.write(`  ${request.source} (${elapsed()}): after the measurements: ${err.message}\n`)
        errors.push(`mesh: ${err.message}`)
      })
    }
    await phase('failover', async () => { report.failover = await measureFailover(clients, target, counts, request.source, errors) })
    process.stderr.write(`  ${request.source} (${elapsed()}): done\n`)
    if (errors.length > 0 && report.resolve == null && report.cold == null && report.failover == null) throw new Error(errors.join('; '))
    if (errors.length > 0) report.errors = errors
    return { report, close }
  } catch (err) {
    await close()
    throw err
  }
}

await reportMain(measure)
