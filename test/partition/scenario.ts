// What the partition scenarios share: a cluster of node processes in a test network with a
// client process beside each node, the counter app deployed, the history of every counter call
// and read, and the final count once the network is whole again.
import { join } from 'node:path'
import { ROOT } from '../helpers/paths.js'
import { netnsUnsupported, TestNetwork } from '../helpers/netns.js'
import { dumpNetnsLogs, startNetnsCluster, startNetnsNode } from '../helpers/netns-nodes.js'
import { startNetnsClient } from '../helpers/netns-clients.js'
import { checkCounter, report } from './counter-history.js'
import type { CounterCall } from './counter-history.js'
import type { LoopCall, NetnsClient } from '../helpers/netns-clients.js'
import type { NetnsNode } from '../helpers/netns-nodes.js'

export const COUNTER_APP = join(ROOT, 'test', 'partition', 'counter.js')
export const APP = 'counter'

/**
 * How long the cluster is given to notice a partition before a test says that nothing may be
 * placed on either side: past the membership timeout (3 s) and any lease. Lower it to the
 * lease the nodes use, plus margins, when that is known.
 */
export const SETTLE_MS = 8000
/** Longest the majority side may take to serve a process whose host was cut off. */
export const TAKEOVER_BOUND_MS = 60_000
/** Longest the cluster may take, once whole again, to answer one count through every node. */
export const HEAL_BOUND_MS = 30_000

export const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

let skipPrinted = false

/** Skips the suite, with the reason printed (once per run), where this machine cannot build network namespaces. */
export async function skipWithoutNetns (suite: Mocha.Context): Promise<void> {
  const reason = await netnsUnsupported()
  if (reason == null) return
  if (!skipPrinted) process.stderr.write(`  partition tests skipped: ${reason}\n`)
  skipPrinted = true
  suite.skip()
}

/** Polls `check` until it returns true, at most `ms` long; false if it never did. */
export async function within (ms: number, check: () => Promise<boolean> | boolean, everyMs = 200): Promise<boolean> {
  const deadline = Date.now() + ms
  for (;;) {
    if (await Promise.resolve().then(check).catch(() => false)) return true
    if (Date.now() > deadline) return false
    await sleep(everyMs)
  }
}

export class PartitionCluster {
  /** Single increments and reads of the counter, kept with the loops' calls for the checker. */
  readonly recorded: CounterCall[] = []
  /** Whether the counter's increments are atomic (the runtime has transactions). */
  atomic = false

  private constructor (
    readonly net: TestNetwork,
    readonly nodes: NetnsNode[],
    /** One client process beside each node, bootstrapped at its own node first, then the others. */
    readonly clients: Map<string, NetnsClient>,
    private readonly nodeArgs: string[]
  ) {}

  /** Builds the network, starts a node and a client on each host, deploys the counter. */
  static async start (hosts: string[], nodeArgs: string[] = []): Promise<PartitionCluster> {
    const net = await TestNetwork.create(hosts)
    try {
      const nodes = await startNetnsCluster(net, hosts, { args: nodeArgs })
      const clients = new Map<string, NetnsClient>()
      for (const [i, node] of nodes.entries()) {
        const others = nodes.filter((_, j) => j !== i).map(n => n.addrs[0])
        clients.set(node.host, await startNetnsClient(net, node.host, [node.addrs[0], ...others], { token: nodes[0].token }))
      }
      const cluster = new PartitionCluster(net, nodes, clients, nodeArgs)
      await cluster.waitForMesh()
      const first = cluster.client(hosts[0])
      await first.request({ op: 'deploy', app: APP, path: COUNTER_APP })
      // every node must have the app before the tests place processes anywhere
      for (const node of nodes) {
        let pid = ''
        const ok = await within(15_000, async () => { pid = await first.request<string>({ op: 'create', app: APP, node: node.peerId }); return true })
        if (!ok) throw new Error(`could not place the counter on ${node.host}`)
        cluster.atomic = await first.request<string>({ op: 'invoke', pid, fn: 'atomic' }) === 'yes'
        await first.request({ op: 'delete', pid })
      }
      return cluster
    } catch (err) {
      await net.destroy()
      throw err
    }
  }

  client (host: string): NetnsClient {
    const client = this.clients.get(host)
    if (client == null) throw new Error(`no client on host ${host}`)
    return client
  }

  node (host: string): NetnsNode {
    const node = this.nodes.find(n => n.host === host)
    if (node == null) throw new Error(`no node on host ${host}`)
    return node
  }

  hostOf (peerId: string): string {
    const node = this.nodes.find(n => n.peerId === peerId)
    if (node == null) throw new Error(`no node ${peerId}`)
    return node.host
  }

  /** Waits until every running node sees every running node and all name one leader; returns the leader's host. */
  async waitForMesh (ms = 30_000): Promise<string> {
    const running = this.nodes.filter(n => n.running())
    let leaders: Array<string | null> = []
    const ok = await within(ms, async () => {
      const views = await Promise.all(running.map(async n => await this.client(n.host).request<{ leader: string | null, nodes: unknown[] }>({ op: 'status' }, 5000)))
      leaders = views.map(v => v.leader)
      return views.every(v => v.nodes.length === running.length) && leaders[0] != null && leaders.every(l => l === leaders[0])
    })
    if (!ok) throw new Error(`the mesh did not form within ${ms} ms (leaders seen: ${leaders.join(', ')})`)
    return this.hostOf(leaders[0]!)
  }

  /**
   * Keys for `callers` callers of one client that run at once on one process: one shared key
   * (`${prefix}n`) where increments are atomic, else a key per caller (`${prefix}${client}${i}`),
   * as overlapping plain read-and-write increments would return one count twice without any
   * partition.
   */
  keys (callers: number, prefix: string, client: string): string[] {
    return Array.from({ length: callers }, (_, i) => this.atomic ? `${prefix}n` : `${prefix}${client}${i}`)
  }

  /** The host of the node that hosts `pid`, as the first client to answer `list` says (within 5 s); undefined if none could say. */
  async hostOfProcess (pid: string): Promise<string | undefined> {
    for (const client of this.clients.values()) {
      const entry = await client.request<Array<{ pid: string, node: string }>>({ op: 'list' }, 5000).then(list => list.find(p => p.pid === pid), () => undefined)
      const node = this.nodes.find(n => n.peerId === entry?.node)
      if (node != null) return node.host
    }
    return undefined
  }

  /** Creates a process through `host`'s client: its pid, or undefined if the creation failed or did not answer within 30 s. */
  async tryCreate (host: string): Promise<string | undefined> {
    return await this.client(host).request<string>({ op: 'create', app: APP }, 30_000).catch(() => undefined)
  }

  /** One increment through `host`'s client, recorded for the checker; the count, or undefined if the call failed. */
  async incr (host: string, pid: string, key = 'n', timeoutMs = 5000): Promise<number | undefined> {
    const start = process.hrtime.bigint()
    try {
      const timed = await this.client(host).timed<string>({ op: 'invoke', pid, fn: 'incr', data: key, timeoutMs }, timeoutMs + 5000)
      this.recorded.push({ key, kind: 'incr', ok: true, value: Number(timed.result), start: timed.start, end: timed.end, client: `${host}-client` })
      return Number(timed.result)
    } catch (err) {
      // failed: it may have counted; its span is the client's if it answered, else ours (the same clock)
      const span = err as { start?: number, end?: number }
      const end = span.end ?? Number(process.hrtime.bigint() / 1000n)
      this.recorded.push({ key, kind: 'incr', ok: false, start: span.start ?? Number(start / 1000n), end, client: `${host}-client` })
      return undefined
    }
  }

  /** Reads the count under `key` through `host`'s client, recorded for the checker; undefined if the read failed. */
  async read (host: string, pid: string, key = 'n', timeoutMs = 5000): Promise<number | undefined> {
    try {
      const { result, start, end } = await this.client(host).timed<string>({ op: 'invoke', pid, fn: 'get', data: key, timeoutMs }, timeoutMs + 5000)
      this.recorded.push({ key, kind: 'read', ok: true, value: Number(result), start, end, client: `${host}-client` })
      return Number(result)
    } catch {
      return undefined
    }
  }

  /**
   * Once the network is whole: waits until the count under each key reads the same through
   * every running node's client. Returns those counts, and for keys that never agreed within
   * HEAL_BOUND_MS (two activations serving two states) what each node answered.
   */
  async finalCounts (pid: string, keys: string[]): Promise<{ finals: Record<string, number>, disagreements: string[] }> {
    const hosts = this.nodes.filter(n => n.running()).map(n => n.host)
    const finals: Record<string, number> = {}
    const answers = new Map<string, Array<number | undefined>>()
    // all keys in each round, so that a cluster serving two states costs one bound, not one per key
    await within(HEAL_BOUND_MS, async () => {
      const open = [...new Set(keys)].filter(k => finals[k] == null)
      await Promise.all(open.map(async key => {
        const seen = await Promise.all(hosts.map(async h => await this.read(h, pid, key)))
        answers.set(key, seen)
        if (seen.every(a => a != null && a === seen[0])) finals[key] = seen[0]!
      }))
      return [...new Set(keys)].every(k => finals[k] != null)
    }, 500)
    const disagreements = [...new Set(keys)].filter(k => finals[k] == null).map(key =>
      `key ${key} did not read the same through every node ${HEAL_BOUND_MS} ms after the heal: ${hosts.map((h, i) => `${h} ${answers.get(key)?.[i] ?? 'failed'}`).join(', ')}`)
    return { finals, disagreements }
  }

  /**
   * The end of a scenario, with the network whole: reads the final counts, runs the checker over
   * the history, and throws one error naming everything that went wrong (`problems`: the
   * scenario's own findings), with the figures of each client.
   */
  async verdict (pid: string, keys: string[], problems: string[] = [], context = ''): Promise<void> {
    const { finals, disagreements } = await this.finalCounts(pid, keys)
    const calls = this.history(keys)
    const violations = checkCounter(calls, finals)
    const all = [...problems, ...disagreements]
    if (process.env.PRAAS_TEST_DUMP != null) process.stderr.write(`loop calls per client${context !== '' ? ` (${context})` : ''}:\n${this.clientFigures(keys).join('\n')}\n`)
    if (all.length === 0 && violations.length === 0) return
    throw new Error([
      `the cluster did not behave as one counter${context !== '' ? ` (${context})` : ''}:`,
      ...all.map(p => `  ${p}`),
      ...(violations.length > 0 ? [report(violations, calls, finals)] : []),
      'loop calls per client:',
      ...this.clientFigures(keys)
    ].join('\n'))
  }

  /**
   * Per client: increments acknowledged (with their lowest and highest count) and failed, by
   * code; reads; and a message of each code a partition does not explain (anything but TIMEOUT
   * and UNAVAILABLE).
   */
  clientFigures (keys?: string[]): string[] {
    const lines: string[] = []
    const wanted = keys != null ? new Set(keys) : undefined
    const byClient = new Map<string, LoopCall[]>()
    for (const c of [...this.clients.values()].flatMap(c => c.calls)) {
      if (wanted != null && !wanted.has(c.key)) continue
      const mine = byClient.get(c.client)
      if (mine == null) byClient.set(c.client, [c]); else mine.push(c)
    }
    for (const [client, calls] of [...byClient].sort(([a], [b]) => a.localeCompare(b))) {
      const incrs = calls.filter(c => c.kind === 'incr')
      const values = incrs.filter(c => c.ok).map(c => Number(c.value))
      const codes = new Map<string, LoopCall[]>()
      for (const c of calls.filter(c => !c.ok)) {
        const code = `${c.kind} ${c.code ?? '?'}`
        const same = codes.get(code)
        if (same == null) codes.set(code, [c]); else same.push(c)
      }
      const range = values.length > 0 ? `${values.reduce((m, v) => Math.min(m, v))} to ${values.reduce((m, v) => Math.max(m, v))}` : 'none'
      const reads = calls.filter(c => c.kind === 'read')
      lines.push(`  ${client}: ${values.length} increments acknowledged (counts ${range}), ${incrs.length - values.length} failed; ` +
        `${reads.filter(c => c.ok).length} reads acknowledged, ${reads.filter(c => !c.ok).length} failed` +
        (codes.size > 0 ? ` (${[...codes].map(([c, all]) => `${c}: ${all.length}`).join(', ')})` : ''))
      for (const [code, all] of codes) {
        if (!/ (TIMEOUT|UNAVAILABLE)$/.test(code)) lines.push(`    ${code}, e.g. "${all[0].message ?? ''}"`)
      }
    }
    return lines
  }

  /** Every counter call so far: the loops' increments (all clients), the single increments and the reads. */
  history (keys?: string[]): CounterCall[] {
    const wanted = keys != null ? new Set(keys) : undefined
    const incrs = [...this.clients.values()].flatMap(c => c.calls).filter(c => wanted == null || wanted.has(c.key)).map((c): CounterCall => ({
      key: c.key, kind: c.kind, ok: c.ok, value: c.ok ? Number(c.value) : undefined, start: c.start, end: c.end, client: c.client
    }))
    return [...incrs, ...this.recorded.filter(c => wanted == null || wanted.has(c.key))]
  }

  /** Acknowledged increments in the history made by `host`'s client (of `run`, if given). */
  acked (host: string, run?: string): number {
    return this.client(host).calls.filter(c => c.kind === 'incr' && c.ok && (run == null || c.run === run)).length
  }

  /** Starts the node of `host` again, with its data dir, joining through the running nodes. */
  async restart (host: string): Promise<void> {
    const i = this.nodes.findIndex(n => n.host === host)
    if (this.nodes[i].running()) throw new Error(`the node on ${host} runs`)
    const bootstrap = this.nodes.filter(n => n.running()).map(n => n.addrs[0])
    this.nodes[i] = await startNetnsNode(this.net, host, { bootstrap, join: this.nodes[0].token, args: this.nodeArgs })
  }

  async stop (failed: boolean): Promise<void> {
    if (failed) dumpNetnsLogs(this.nodes)
    await Promise.all([...this.clients.values()].map(async c => { await c.close() }))
    await this.net.destroy()
  }
}
