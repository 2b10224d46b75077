// Client process of `praas.durable` / `praas.durable.r1` (durable.ts). In a cluster of 3 nodes
// (bootstrap first) it measures, in this order:
//   replicated  64 B state writes (`put`) by 64 callers at once, process on the second node
//   replseq     sequential increments (`incr`: a get and a put) by one caller, process on the second node
//   sendseq     sequential 64 B `client.send`s to a process on the second node that reads none of them
//   swapout     `client.swap(pid)` of a process on the second node holding N MiB (fresh fill before each)
//   swapin      the next `invoke` (`probe`, a tiny result): relocation and restore included
//   pause       during `client.migrate(pid, third node)` (and back), the longest call of one
//               sequential loop of small invokes (a second Client) that overlaps the migration
//   pauseconc   the same with several loops
// Times in microseconds, like every other figure; metrics.ts turns the swap and pause ones into ms.
import '../protocol/polyfill.js'
import { readFile } from 'node:fs/promises'
import { Client } from '../sdk/index.js'
import type { ClientReport, ClientRequest, SwapPoint } from './client-main.js'
import { durableCounts, type DurableCounts, type DurableTarget } from './durable.js'
import { reportMain } from './ipc-child.js'
import { measureThroughput } from './load.js'
import { summarize } from './stats.js'

const APP = 'bench-durable'
const MIB = 1024 * 1024
const MESH_TIMEOUT_MS = 30_000
/** A fill of 64 MiB replicates 64 MiB before it answers. */
const CALL_TIMEOUT_MS = 60_000

const t0 = performance.now()
const elapsed = (): string => `${((performance.now() - t0) / 1000).toFixed(1)} s`
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }
const since = (start: number): number => (performance.now() - start) * 1000

/** Waits until the bootstrap node sees every node of the run and a leader (bounded): creates and restores ask the leader. */
async function waitForMesh (client: Client, count: number): Promise<void> {
  const deadline = Date.now() + MESH_TIMEOUT_MS
  for (;;) {
    const status = await client.status().catch(() => undefined)
    if (status != null && status.nodes.length >= count && status.leader != null) return
    if (Date.now() > deadline) throw new Error(`the mesh shows ${status?.nodes.length ?? 0} of ${count} nodes, leader ${status?.leader ?? 'none'}, after ${MESH_TIMEOUT_MS} ms`)
    await sleep(100)
  }
}

let seed = 1

async function fill (client: Client, pid: string, bytes: number): Promise<void> {
  await client.invoke(pid, 'fill', JSON.stringify({ mib: bytes / MIB, seed: seed++ }), { timeoutMs: CALL_TIMEOUT_MS })
}

/**
 * Swap out and in of a process holding `bytes`, `cycles` times, each after a fresh fill and
 * `settleMs` of rest: a swap is for an idle process, and the fill's replication (a full copy of
 * the new state to the replica, which writes it to its log) would otherwise still run beside the
 * swap, on the same two cores and disk, where the `disk.io` baseline runs alone.
 */
async function swapCycles (client: Client, pid: string, bytes: number, cycles: number, settleMs: number): Promise<SwapPoint> {
  const out: number[] = []
  const back: number[] = []
  for (let i = 0; i < cycles; i++) {
    await fill(client, pid, bytes)
    await sleep(settleMs)
    let start = performance.now()
    await client.swap(pid)
    out.push(since(start))
    start = performance.now()
    const probe = await client.invoke(pid, 'probe', undefined, { timeoutMs: CALL_TIMEOUT_MS })
    back.push(since(start))
    if (new TextDecoder().decode(probe) !== String(bytes / MIB)) throw new Error(`the restored process answered ${new TextDecoder().decode(probe)}, not ${bytes / MIB}`)
    process.stderr.write(`  swap of ${bytes / MIB} MiB (${elapsed()}): out ${(out[i] / 1000).toFixed(0)} ms, in ${(back[i] / 1000).toFixed(0)} ms\n`)
  }
  return { bytes, out: summarize(out), in: summarize(back) }
}

/**
 * One live migration to `to` while `loops` callers invoke the process back to back: the longest
 * call that overlaps the migration, and the migration's own time (both in us).
 */
async function pauseSample (caller: Client, client: Client, pid: string, to: string, loops: number, leadMs: number): Promise<{ pause: number, migrate: number }> {
  const calls: Array<[number, number]> = []
  let stop = false
  const loop = async (): Promise<void> => {
    // eslint-disable-next-line no-unmodified-loop-condition -- set by pauseSample once the migration is done
    while (!stop) {
      const start = performance.now()
      await caller.invoke(pid, 'probe', undefined, { timeoutMs: CALL_TIMEOUT_MS })
      calls.push([start, performance.now()])
    }
  }
  const running = Promise.all(Array.from({ length: loops }, loop))
  running.catch(() => { stop = true })
  let from = 0
  let to_ = 0
  try {
    await sleep(leadMs)
    from = performance.now()
    await client.migrate(pid, to)
    to_ = performance.now()
    await sleep(leadMs)
  } finally {
    stop = true
    await running
  }
  const during = calls.filter(([s, e]) => s < to_ && e > from).map(([s, e]) => (e - s) * 1000)
  if (during.length === 0) throw new Error('no call overlapped the migration')
  return { pause: Math.max(...during), migrate: (to_ - from) * 1000 }
}

/**
 * `counts.migrations` live migrations between the two nodes of `pair`, each after
 * `counts.settleMs`: an activation seeds its replicas with a full copy in the background, and a
 * node receiving two images with the same chunks at once fails one of them (see the README).
 */
async function migrations (caller: Client, client: Client, pid: string, pair: { nodes: [string, string], at: number }, loops: number, counts: DurableCounts, source: string, times: number[]): Promise<number[]> {
  const pauses: number[] = []
  for (let i = 0; i < counts.migrations; i++) {
    pair.at = 1 - pair.at
    const to = pair.nodes[pair.at]
    await sleep(counts.settleMs)
    const { pause, migrate } = await pauseSample(caller, client, pid, to, loops, counts.leadMs)
    pauses.push(pause)
    times.push(migrate)
    process.stderr.write(`  ${source} (${elapsed()}): migration with ${loops} caller(s): longest call ${(pause / 1000).toFixed(0)} ms, migrate ${(migrate / 1000).toFixed(0)} ms\n`)
  }
  return pauses
}

/** Sequential `incr` calls after a warm-up (each phase bounded by `maxMs`): their times in us; each answer is checked. */
async function sequentialIncrements (client: Client, pid: string, counts: DurableCounts, maxMs: number): Promise<ReturnType<typeof summarize>> {
  let expected = 0
  const incr = async (): Promise<void> => {
    const got = new TextDecoder().decode(await client.invoke(pid, 'incr', undefined, { timeoutMs: CALL_TIMEOUT_MS }))
    if (got !== String(++expected)) throw new Error(`incr answered ${got} where ${expected} was due`)
  }
  let deadline = performance.now() + maxMs
  for (let i = 0; i < counts.seqWarmup && performance.now() < deadline; i++) await incr()
  const samples: number[] = []
  deadline = performance.now() + maxMs
  while (samples.length < counts.seqCalls && performance.now() < deadline) {
    const start = performance.now()
    await incr()
    samples.push(since(start))
  }
  return summarize(samples)
}

/** Sequential 64 B sends (each phase bounded by `maxMs`), all queued: their times in us. */
async function sequentialSends (client: Client, pid: string, counts: DurableCounts, maxMs: number): Promise<ReturnType<typeof summarize>> {
  const payload = new Uint8Array(64)
  let deadline = performance.now() + maxMs
  for (let i = 0; i < counts.seqWarmup && performance.now() < deadline; i++) await client.send(pid, 'k', payload)
  const samples: number[] = []
  deadline = performance.now() + maxMs
  while (samples.length < counts.seqCalls && performance.now() < deadline) {
    const start = performance.now()
    await client.send(pid, 'k', payload)
    samples.push(since(start))
  }
  return summarize(samples)
}

async function measure (request: ClientRequest): Promise<{ report: ClientReport, close(): Promise<void> }> {
  const target: DurableTarget = JSON.parse(request.target)
  const counts = durableCounts(request.plan)
  const modes = new Set(request.modes)
  const client = await Client.connect({ bootstrap: target.addrs })
  let caller: Client | undefined
  const close = async (): Promise<void> => { await Promise.all([client.close(), caller?.close()]) }
  try {
    await waitForMesh(client, target.nodes.length)
    await client.deploy(APP, await readFile(target.app))
    const report: ClientReport = {}
    if (modes.has('replicated')) {
      const pid = await client.create(APP, { node: target.nodes[1] })
      process.stderr.write(`  ${request.source} (${elapsed()}): 64 B state writes, ${request.plan.concurrency} in flight\n`)
      const plan = { ...request.plan, throughputWarmupMs: counts.loadWarmupMs, throughputMs: counts.loadMs }
      report.replicated = await measureThroughput(async payload => await client.invoke(pid, 'put', payload, { timeoutMs: CALL_TIMEOUT_MS }), plan)
      // cleanup only, so that the swaps run on a node without 64 callers' leftovers; a failure is reported, not fatal
      await client.delete(pid).catch((err: Error) => { report.errors = [...report.errors ?? [], `delete after the replicated writes: ${err.message}`] })
    }
    if (modes.has('sendseq')) {
      const pid = await client.create(APP, { node: target.nodes[1] })
      process.stderr.write(`  ${request.source} (${elapsed()}): sequential sends to a process that does not read them\n`)
      report.sendseq = await sequentialSends(client, pid, counts, request.plan.maxPhaseMs)
      await client.delete(pid).catch((err: Error) => { report.errors = [...report.errors ?? [], `delete after the sequential sends: ${err.message}`] })
    }
    if (modes.has('replseq')) {
      const pid = await client.create(APP, { node: target.nodes[1] })
      process.stderr.write(`  ${request.source} (${elapsed()}): sequential increments\n`)
      report.replseq = await sequentialIncrements(client, pid, counts, request.plan.maxPhaseMs)
      await client.delete(pid).catch((err: Error) => { report.errors = [...report.errors ?? [], `delete after the sequential increments: ${err.message}`] })
    }
    if (modes.has('swapout') || modes.has('swapin') || modes.has('pause') || modes.has('pauseconc')) {
      const pid = await client.create(APP, { node: target.nodes[1] })
      if (modes.has('swapout') || modes.has('swapin')) {
        report.sweep = []
        for (const bytes of counts.sizes) report.sweep.push(await swapCycles(client, pid, bytes, counts.cycles, counts.settleMs))
        const last = report.sweep[report.sweep.length - 1]
        report.swapout = last.out
        report.swapin = last.in
      } else {
        await fill(client, pid, counts.sizes[counts.sizes.length - 1])
      }
      // a restore goes where the allocator says: migrate between wherever that was and another node
      const home = (await client.list()).find(p => p.pid === pid)?.node ?? target.nodes[1]
      const pair = { nodes: [home, target.nodes.find(n => n !== home && n !== target.nodes[0]) ?? target.nodes[0]] as [string, string], at: 0 }
      caller = await Client.connect({ bootstrap: target.addrs })
      const times: number[] = []
      // a failed migration phase is reported (the run fails) without losing the figures already measured
      const phase = async (loops: number): Promise<ReturnType<typeof summarize> | undefined> => {
        try {
          return summarize(await migrations(caller!, client, pid, pair, loops, counts, request.source, times))
        } catch (err: any) {
          report.errors = [...report.errors ?? [], `migration with ${loops} caller(s): ${String(err?.message ?? err)}`]
          return undefined
        }
      }
      if (modes.has('pause')) report.pause = await phase(1)
      if (modes.has('pauseconc')) report.pauseconc = await phase(counts.callers)
      if (times.length > 0) report.migrate = summarize(times)
    }
    return { report, close }
  } catch (err) {
    await close().catch(() => {})
    throw err
  }
}

await reportMain(measure)
