// What a process costs its node in memory (issue 19): `praas.memory` starts one `praas node`
// (`--replicas 1`, processes kept in memory until asked to swap) and creates small processes of
// the counter example, each called once; it reads the node's RSS from /proc at two counts, each
// after a rest longer than the directory's location cache keeps an entry (60 s), and reports the
// growth per process between them: `process.overhead` for processes left active, then, on a
// fresh node, `swapped.overhead` for processes swapped right after their call. Linux only.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Client } from '../sdk/index.js'
import type { Plan } from './load.js'
import { startPraasNode, type PraasNode } from './praas-node.js'
import type { Row } from './metrics.js'

export type MemorySource = 'praas.memory'

export interface MemoryPoint {
  /** Processes created before each reading. */
  from: number
  to: number
  /** RSS in bytes at each count. */
  rssFrom: number
  rssTo: number
}

export interface MemoryReport {
  active?: MemoryPoint
  swapped?: MemoryPoint
}

const NODE_READY_MS = 60_000
/** Longer than the location cache's 60 s TTL (node/directory), so that its entries are gone. */
const REST_MS = 65_000
const IN_FLIGHT = 50

const GOALS = [
  { metric: 'process.overhead', max: 2048, text: 'RSS per idle small process, 10,000 hosted' },
  { metric: 'swapped.overhead', max: 100, text: 'RSS per swapped process, 100,000 swapped' }
]

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

async function rssBytes (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) * 1024
}

/** Creates processes up to `count`, IN_FLIGHT at a time, each called once and, with `swap`, swapped. */
async function fill (client: Client, made: { n: number }, count: number, swap: boolean): Promise<void> {
  while (made.n < count) {
    const batch = Math.min(IN_FLIGHT, count - made.n)
    await Promise.all(Array.from({ length: batch }, async () => {
      const pid = await client.create('counter')
      await client.invoke(pid, 'incr')
      if (swap) await client.swap(pid)
    }))
    made.n += batch
  }
}

async function measure (root: string, from: number, to: number, swap: boolean): Promise<MemoryPoint> {
  const node: PraasNode = await startPraasNode(root, NODE_READY_MS, ['--replicas', '1', '--swap-after', '0', '--max-processes-per-client', String(to)])
  try {
    const client = await Client.connect({ bootstrap: [node.info.addrs[0]] })
    try {
      await client.deploy('counter', await readFile(join(root, 'examples', 'counter', 'index.js')))
      const pid = node.child.process.pid ?? node.info.pid
      const made = { n: 0 }
      const started = Date.now()
      await fill(client, made, from, swap)
      await sleep(REST_MS)
      const rssFrom = await rssBytes(pid)
      await fill(client, made, to, swap)
      await sleep(REST_MS)
      const rssTo = await rssBytes(pid)
      const kind = swap ? 'swapped' : 'active'
      process.stderr.write(`  praas.memory: ${kind}: ${from}: ${(rssFrom / 2 ** 20).toFixed(0)} MiB, ${to}: ${(rssTo / 2 ** 20).toFixed(0)} MiB, ${((rssTo - rssFrom) / (to - from)).toFixed(0)} B per process (${((Date.now() - started) / 1000).toFixed(0)} s)\n`)
      return { from, to, rssFrom, rssTo }
    } finally {
      await client.close()
    }
  } finally {
    await node.stop()
  }
}

/** `root` is the repository. Quick runs count fewer processes. */
export async function memory (root: string, plan: Plan): Promise<MemoryReport> {
  await readFile('/proc/self/status').catch(() => { throw new Error('praas.memory needs Linux\'s /proc') })
  const full = plan.iterations >= 20_000
  return {
    active: await measure(root, full ? 2_000 : 1_000, full ? 10_000 : 4_000, false),
    swapped: await measure(root, full ? 10_000 : 2_000, full ? 100_000 : 12_000, true)
  }
}

/** Bytes per process between the two counts. */
export function perProcess (point: MemoryPoint | undefined): number | undefined {
  return point == null ? undefined : (point.rssTo - point.rssFrom) / (point.to - point.from)
}

export function memoryNotes (rows: Row[], reports: Map<string, { memory?: MemoryReport }>): string[] {
  const report = reports.get('praas.memory')?.memory
  const found = rows.filter(r => r.metric === 'process.overhead' || r.metric === 'swapped.overhead')
  if (found.length === 0) return []
  const point = (p: MemoryPoint | undefined): string => p == null ? '–' : `${(p.rssFrom / 2 ** 20).toFixed(0)} MiB at ${p.from}, ${(p.rssTo / 2 ** 20).toFixed(0)} MiB at ${p.to}`
  return [
    'Memory per process (`memory.ts`, source `praas.memory`, issue 19; full runs, or `--only process.overhead,swapped.overhead`): one `praas node` ' +
      '(`--replicas 1`), processes of the counter example created 50 at a time and each called once; the node\'s RSS (from /proc) at two counts, ' +
      'each after 65 s of rest (longer than the location cache keeps an entry); value = the growth per process between them, in bytes. ' +
      '`process.overhead`: the processes stay active; `swapped.overhead`: on a fresh node, each is swapped right after its call. Run once, in the first round.',
    '',
    `- active: ${point(report?.active)}; swapped: ${point(report?.swapped)}`,
    ...GOALS.flatMap(g => {
      const row = found.find(r => r.metric === g.metric)
      if (row == null) return []
      const met = row.value == null ? 'not measured' : row.value <= g.max ? 'met' : 'NOT met'
      return [`- \`${g.metric}\` = ${row.value ?? '–'} B, goal at most ${g.max} B (${g.text}): ${met}`]
    }),
    ''
  ]
}
