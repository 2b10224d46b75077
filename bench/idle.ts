// What an idle node costs as the mesh grows (issue 19), and how fast a mesh of sixteen notices a
// death: `praas.idle` starts a mesh of 4 `praas node` OS processes, lets it settle and reads each
// node's CPU time and RSS from /proc over a window in which nothing runs; then grows the same
// mesh to 16 and measures again. In the mesh of 16 it then SIGKILLs a member (until no survivor's
// `status` lists it: `member.detect`) and the leader (until a survivor names a new leader of a
// higher term: `leader.failover.16`). Needs Linux's /proc; elsewhere it throws, naming the reason.
import { readFile } from 'node:fs/promises'
import { Client } from '../sdk/index.js'
import type { Plan } from './load.js'
import { startPraasNode, type PraasNode } from './praas-node.js'
import { summarize, type Summary } from './stats.js'

export type IdleSource = 'praas.idle'

export interface IdleReport {
  /** Per node, in percent of a core, over the window: one sample per node. */
  cpu4: Summary
  cpu16: Summary
  /** Per node, in MiB, at the end of the window. */
  rss4: Summary
  rss16: Summary
  /** In us: SIGKILL of a member until no survivor lists it; of the leader until a survivor names another. */
  detect: Summary
  failover: Summary
  /** The window each CPU figure is taken over, in ms. */
  windowMs: number
}

const NODE_READY_MS = 60_000
const START_BATCH = 4
const MESH_MS = 120_000
/**
 * After the mesh agrees: joins, elections and first records settle before the window opens.
 * Two transients of the joins pass in that time: the young generation the burst grew (an idle
 * node gives it back with one full collection, node/host/idle-trim.ts; 10 s after the 16th node
 * agreed, most late nodes were at about 125 MiB), and the streams the joins opened, which close
 * after a minute idle (a window 45-60 s after agreement found every node at 1.2-2.7% of a core;
 * 90 s after, members at 0.53-0.67%) (2026-12-05).
 */
const SETTLE_MS = 90_000
/**
 * The window each CPU figure is read over, quick runs included. /proc counts CPU in 10 ms ticks,
 * and an idle member spends about 6 ms a second: over 15 s one tick is 0.07% of a core, a ninth
 * of a member's figure, and the mesh of 4 averages only 4 of them. And V8's memory reducer runs
 * 2-3 full collections once on every node, when the node first goes quiet after its start
 * (80-150 ms of CPU, 25 s after start for the first nodes, 55-115 s for the later ones, GC events
 * of all 16 nodes, 2026-12-06): 15 s windows caught them (16/4 = 1.31 in one run, two members
 * at 1.40-1.66%), a run without the reducer gave 1.24 (but idle.rss 101 MiB at 16, 93 with it).
 * Over 60 s a tick is 0.017%, and such a collection adds 0.2% to its node, 0.013% to the mean.
 */
const WINDOW_MS = 60_000
/** A smoke run's settle and window (Plan.smoke). */
const SMOKE_MS = 5_000
const POLL_MS = 50
const DETECT_BOUND_MS = 30_000
/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. */
const TICKS_PER_SECOND = 100

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** utime + stime of an OS process, in seconds. */
async function cpuSeconds (pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  // the command name (field 2) may hold spaces: count fields after its closing parenthesis
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
}

async function rssMiB (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1])
  return kib / 1024
}

/** Every node's CPU (percent of a core) and RSS (MiB) over a window in which nothing is asked of them. */
async function measureIdle (nodes: PraasNode[], windowMs: number): Promise<{ cpu: number[], rss: number[] }> {
  const pids = nodes.map(n => n.child.process.pid ?? n.info.pid)
  const before = await Promise.all(pids.map(cpuSeconds))
  const started = process.hrtime.bigint()
  await sleep(windowMs)
  const after = await Promise.all(pids.map(cpuSeconds))
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  return { cpu: after.map((a, i) => 100 * (a - before[i]) / seconds), rss: await Promise.all(pids.map(rssMiB)) }
}

/** Polls `check` every POLL_MS until it holds; the time it took in us, or throws past `boundMs`. */
async function timeUntil (what: string, boundMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = process.hrtime.bigint()
  const deadline = Date.now() + boundMs
  while (!await check().catch(() => false)) {
    if (Date.now() > deadline) throw new Error(`praas.idle: ${what} not within ${boundMs} ms`)
    await sleep(POLL_MS)
  }
  return Number(process.hrtime.bigint() - started) / 1000
}

async function grow (nodes: PraasNode[], root: string, size: number): Promise<void> {
  if (nodes.length === 0) nodes.push(await startPraasNode(root, NODE_READY_MS))
  const seed = nodes[0].info.addrs[0]
  // a few at a time: on 2 cores, nodes starting all at once starve each other
  while (nodes.length < size) {
    const batch = await Promise.allSettled(Array.from({ length: Math.min(START_BATCH, size - nodes.length) }, async () => await startPraasNode(root, NODE_READY_MS, ['--bootstrap', seed])))
    for (const r of batch) if (r.status === 'fulfilled') nodes.push(r.value)
    const failed = batch.find(r => r.status === 'rejected')
    if (failed != null) throw (failed as PromiseRejectedResult).reason
  }
}

/** Clients of every node, each bootstrapped at its node, to read that node's own view. */
async function views (nodes: PraasNode[]): Promise<Client[]> {
  return await Promise.all(nodes.map(async n => await Client.connect({ bootstrap: [n.info.addrs[0]] })))
}

async function closeAll (clients: Client[]): Promise<void> {
  await Promise.allSettled(clients.map(async c => { await c.close() }))
}

/** Until every node lists all of `nodes` and names one leader; that leader and its term. */
async function agreed (nodes: PraasNode[], boundMs: number): Promise<{ leader: string, term: number }> {
  const clients = await views(nodes)
  try {
    let seen: { leader: string, term: number } | undefined
    await timeUntil(`a mesh of ${nodes.length} agreeing`, boundMs, async () => {
      const statuses = await Promise.all(clients.map(async c => await c.status()))
      const leaders = new Set(statuses.map(s => `${s.leader ?? ''}/${s.term}`))
      const whole = statuses.every(s => s.nodes.length === nodes.length && s.leader != null)
      if (whole && leaders.size === 1) seen = { leader: statuses[0].leader!, term: statuses[0].term }
      return seen != null
    })
    return seen!
  } finally {
    await closeAll(clients)
  }
}

/** `root` is the repository. */
export async function idle (root: string, plan: Plan): Promise<IdleReport> {
  await readFile('/proc/self/stat').catch(() => { throw new Error('praas.idle needs Linux\'s /proc') })
  const smoke = plan.smoke === true
  const windowMs = smoke ? SMOKE_MS : WINDOW_MS
  const settleMs = smoke ? SMOKE_MS : SETTLE_MS
  const nodes: PraasNode[] = []
  try {
    await grow(nodes, root, 4)
    await agreed(nodes, MESH_MS)
    await sleep(settleMs)
    const four = await measureIdle(nodes, windowMs)
    process.stderr.write(`  praas.idle: mesh of 4: ${four.cpu.map(c => c.toFixed(2)).join(' ')} % of a core\n`)
    await grow(nodes, root, 16)
    await agreed(nodes, MESH_MS)
    await sleep(settleMs)
    const sixteen = await measureIdle(nodes, windowMs)
    process.stderr.write(`  praas.idle: mesh of 16: ${sixteen.cpu.map(c => c.toFixed(2)).join(' ')} % of a core\n`)

    // a member's death, then the leader's, each seen from every survivor
    const { leader, term } = await agreed(nodes, MESH_MS)
    const clients = await views(nodes)
    try {
      const victimAt = nodes.findIndex((n, i) => i > 0 && n.info.peerId !== leader)
      const victim = nodes[victimAt]
      victim.child.process.kill('SIGKILL')
      const watchers = clients.filter((_, i) => i !== victimAt)
      const detect = await timeUntil('a dead member dropped everywhere', DETECT_BOUND_MS, async () =>
        (await Promise.all(watchers.map(async c => await c.status()))).every(s => !s.nodes.some(n => n.peerId === victim.info.peerId)))
      const leaderAt = nodes.findIndex(n => n.info.peerId === leader)
      nodes[leaderAt].child.process.kill('SIGKILL')
      const watcher = clients.find((_, i) => i !== victimAt && i !== leaderAt)!
      const failover = await timeUntil('a new leader', DETECT_BOUND_MS, async () => {
        const status = await watcher.status()
        return status.leader != null && status.leader !== leader && status.term > term
      })
      process.stderr.write(`  praas.idle: mesh of 16: dead member dropped everywhere in ${(detect / 1000).toFixed(0)} ms, new leader in ${(failover / 1000).toFixed(0)} ms\n`)
      return {
        cpu4: summarize(four.cpu),
        cpu16: summarize(sixteen.cpu),
        rss4: summarize(four.rss),
        rss16: summarize(sixteen.rss),
        detect: summarize([detect]),
        failover: summarize([failover]),
        windowMs
      }
    } finally {
      await closeAll(clients)
    }
  } finally {
    await Promise.all(nodes.map(async n => { await n.stop() }))
  }
}
