// `praas node` OS processes inside the hosts of a test network (netns.ts): the same command the
// loopback integration tests start (cluster.ts), listening on the host's test address. Each host
// keeps its data dir and its port across restarts, as a machine running the daemon would.
import { writeFileSync } from 'node:fs'
import { mkdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { BIN } from './paths.js'
import type { TestNetwork } from './netns.js'
import type { ChildProcess } from 'node:child_process'

/** Every node listens on this port of its host's address: each namespace has its own ports. */
export const NODE_PORT = 4001
const READY_TIMEOUT_MS = 60_000
const LOG_CHARS = 200_000

export interface NetnsNode {
  /** The host (network namespace) it runs in. */
  host: string
  peerId: string
  /** Full multiaddrs with /p2p/, on the host's test address. */
  addrs: string[]
  /** OS pid of the node. */
  pid: number
  dataDir: string
  /** A token with every right in the node's cluster: the admin token of the node that created it. */
  token: string
  child: ChildProcess
  /** The tail of what the node wrote to stderr. */
  log(): string
  exited: Promise<number | NodeJS.Signals>
  kill(signal?: NodeJS.Signals): Promise<number | NodeJS.Signals>
  /** Whether the OS process still runs. */
  running(): boolean
}

export interface NetnsNodeOptions {
  /** Multiaddrs of nodes to join through (none: the node starts a cluster of its own). */
  bootstrap?: string[]
  /** The token to join the cluster of `bootstrap` with (a node whose data dir holds the cluster needs none). */
  join?: string
  /** More `praas node` arguments. */
  args?: string[]
  /** Environment of the node (e.g. DEBUG=praas:*). */
  env?: NodeJS.ProcessEnv
}

/** The data dir of a host's node: the same on every start, so a restarted node keeps its peer id and copies. */
export const dataDirOf = (net: TestNetwork, host: string): string => join(net.dir, host, 'data')

/**
 * Starts `praas node` in `host`'s namespace and waits for its node.json. The one place a node is
 * started: trust (a join token, `--join TOKEN`, and the first node's DATA_DIR/admin.token) goes here.
 */
export async function startNetnsNode (net: TestNetwork, host: string, options: NetnsNodeOptions = {}): Promise<NetnsNode> {
  const dataDir = dataDirOf(net, host)
  await mkdir(dataDir, { recursive: true })
  await rm(join(dataDir, 'node.json'), { force: true })
  // --no-node-snapshot: isolated-vm needs it (bin/praas.js would otherwise run a child of its own, out of reach of kill())
  const args = ['--no-node-snapshot', BIN, 'node', '--listen', `/ip4/${net.host(host).ip}/tcp/${NODE_PORT}`, '--data-dir', dataDir,
    ...(options.bootstrap ?? []).flatMap(b => ['--bootstrap', b]), ...(options.join != null ? ['--join', options.join] : []), ...(options.args ?? [])]
  const child = net.spawn(host, process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...options.env } })
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-LOG_CHARS) })
  const exited = new Promise<number | NodeJS.Signals>(resolve => {
    child.once('exit', (code, signal) => { resolve(signal ?? code ?? -1) })
  })
  const running = (): boolean => child.exitCode == null && child.signalCode == null
  const deadline = Date.now() + READY_TIMEOUT_MS
  let info: { peerId: string, addrs: string[], pid: number } | undefined
  while (info == null) {
    if (!running()) throw new Error(`praas node on host ${host} exited early:\n${stderr}`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`praas node on host ${host} was not ready within ${READY_TIMEOUT_MS} ms:\n${stderr}`)
    }
    info = await readFile(join(dataDir, 'node.json'), 'utf8').then(s => JSON.parse(s), () => undefined)
    if (info == null) await new Promise(resolve => setTimeout(resolve, 50))
  }
  const token = (await readFile(join(dataDir, 'admin.token'), 'utf8').catch(() => options.join ?? '')).trim()
  return {
    host,
    peerId: info.peerId,
    addrs: info.addrs,
    pid: info.pid,
    dataDir,
    token,
    child,
    exited,
    log: () => stderr,
    running,
    async kill (signal: NodeJS.Signals = 'SIGKILL') {
      if (running()) child.kill(signal)
      return await exited
    }
  }
}

/**
 * Starts a node on each host, the first one first (it starts the cluster), then the others
 * joining through it, two at a time (on two cores, libp2p nodes starting at once starve each other).
 */
export async function startNetnsCluster (net: TestNetwork, hosts: string[] = net.names, options: Omit<NetnsNodeOptions, 'bootstrap'> = {}): Promise<NetnsNode[]> {
  const first = await startNetnsNode(net, hosts[0], options)
  const nodes = [first]
  for (let i = 1; i < hosts.length; i += 2) {
    nodes.push(...await Promise.all(hosts.slice(i, i + 2).map(async h => await startNetnsNode(net, h, { ...options, bootstrap: first.addrs, join: first.token }))))
  }
  return nodes
}

/** With PRAAS_TEST_DUMP set, prints the tail of every node's log (run the nodes with DEBUG=praas:*). */
export function dumpNetnsLogs (nodes: NetnsNode[], lines = 60): void {
  const dump = process.env.PRAAS_TEST_DUMP
  if (dump == null) return
  // PRAAS_TEST_DUMP=DIR keeps each node's whole log tail there, HOST.log
  if (dump.startsWith('/')) {
    for (const node of nodes) writeFileSync(join(dump, `${node.host}.log`), node.log())
    return
  }
  for (const node of nodes) {
    process.stderr.write(`--- node on ${node.host} ${node.peerId}\n${node.log().split('\n').slice(-lines).join('\n')}\n`)
  }
}
