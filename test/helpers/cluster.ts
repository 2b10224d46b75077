import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BIN } from './paths.js'
import type { ChildProcess } from 'node:child_process'

export interface NodeInfo {
  peerId: string
  addrs: string[]
  pid: number
  cluster: string
}

export interface TestNode extends NodeInfo {
  dataDir: string
  /** A token with every right in the node's cluster (the admin token of the node that created it). */
  token: string
  child: ChildProcess
  /** Everything the node wrote to stderr so far. */
  log(): string
  /** Resolves with the exit code (or signal) once the OS process has ended. */
  exited: Promise<number | NodeJS.Signals>
  kill(signal?: NodeJS.Signals): Promise<number | NodeJS.Signals>
}

export interface StartOptions {
  bootstrap?: string[]
  args?: string[]
  dataDir?: string
  /** A token to join the cluster of `bootstrap` with (a node whose data dir holds a cluster needs none). */
  join?: string
}

const READY_TIMEOUT_MS = 20_000

/** Starts `praas node` as a separate OS process on a loopback port and waits for node.json. */
export async function startNode (options: StartOptions = {}): Promise<TestNode> {
  const dataDir = options.dataDir ?? await mkdtemp(join(tmpdir(), 'praas-node-'))
  await rm(join(dataDir, 'node.json'), { force: true })
  const args = [BIN, 'node', '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', dataDir, ...(options.bootstrap ?? []).flatMap(b => ['--bootstrap', b]),
    ...(options.join != null ? ['--join', options.join] : []), ...(options.args ?? [])]
  // --no-node-snapshot: the node's isolates need it (bin/praas.js would otherwise run a child of its own, out of reach of kill())
  const child = spawn(process.execPath, ['--no-node-snapshot', ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const exited = new Promise<number | NodeJS.Signals>(resolve => {
    child.on('exit', (code, signal) => { resolve(signal ?? code ?? -1) })
  })
  const deadline = Date.now() + READY_TIMEOUT_MS
  let info: NodeInfo | undefined
  while (info == null) {
    if (child.exitCode != null || child.signalCode != null) throw new Error(`praas node exited early:\n${stderr}`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`praas node was not ready within ${READY_TIMEOUT_MS} ms:\n${stderr}`)
    }
    info = await readFile(join(dataDir, 'node.json'), 'utf8').then(s => JSON.parse(s) as NodeInfo, () => undefined)
    if (info == null) await new Promise(resolve => setTimeout(resolve, 50))
  }
  const token = (await readFile(join(dataDir, 'admin.token'), 'utf8').catch(() => options.join ?? '')).trim()
  return {
    ...info,
    dataDir,
    token,
    child,
    exited,
    log: () => stderr,
    async kill (signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode == null && child.signalCode == null) child.kill(signal)
      return await exited
    }
  }
}

/** Starts `count` nodes, the first one being every other node's bootstrap node. */
export async function startCluster (count: number, args: string[] = [], meshTimeoutMs = 30_000): Promise<TestNode[]> {
  const first = await startNode({ args })
  const rest: TestNode[] = []
  // A few at a time: on two cores, a dozen libp2p nodes starting at once starve each other.
  for (let i = 1; i < count; i += 4) {
    try {
      rest.push(...await Promise.all(Array.from({ length: Math.min(4, count - i) }, async () => await startNode({ bootstrap: [first.addrs[0]], join: first.token, args }))))
    } catch (err) {
      await stopCluster([first, ...rest])
      throw err
    }
  }
  const nodes = [first, ...rest]
  try {
    await waitForMesh(nodes, meshTimeoutMs)
  } catch (err) {
    // leave nothing running behind a failed start
    await stopCluster(nodes)
    throw err
  }
  return nodes
}

/** Waits until every node sees every other node and all agree on one leader; returns it. */
export async function waitForMesh (nodes: TestNode[], ms = 30_000): Promise<string> {
  const { Client } = await import('../../sdk/index.js')
  const leaders = await Promise.all(nodes.map(async node => {
    const client = await Client.connect({ bootstrap: [node.addrs[0]], token: node.token })
    try {
      let leader: string | null = null
      await eventually(async () => {
        const status = await client.status()
        leader = status.leader
        return status.nodes.length === nodes.length && leader != null
      }, ms, `node ${node.peerId} seeing the mesh and a leader`)
      return leader!
    } finally {
      await client.close()
    }
  }))
  if (new Set(leaders).size !== 1) {
    // views may settle a moment apart: ask once more
    return await waitForMesh(nodes, ms)
  }
  return leaders[0]
}

export async function stopCluster (nodes: TestNode[]): Promise<void> {
  await Promise.all(nodes.map(async n => {
    await n.kill('SIGKILL')
    await rm(n.dataDir, { recursive: true, force: true })
  }))
}

/** Polls `check` until it returns true, at most `ms` long. */
export async function eventually (check: () => Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${ms} ms`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

/**
 * Waits until a process of `app` can be placed on every node through the client's bootstrap
 * node: then the mesh is formed and every node has the app.
 */
export async function placeOnEvery (client: { create(app: string, options: { node: string }): Promise<string> }, nodes: TestNode[], app: string): Promise<void> {
  for (const node of nodes) {
    await eventually(async () => { await client.create(app, { node: node.peerId }); return true }, 15_000, `placing on ${node.peerId}`)
  }
}

/** With PRAAS_TEST_DUMP set, prints the tail of every node's log after a failed test (run the nodes with DEBUG=praas:*). */
export function dumpOnFailure (test: Mocha.Context, nodes: () => TestNode[]): void {
  if (process.env.PRAAS_TEST_DUMP == null || test.currentTest?.state !== 'failed') return
  for (const [i, node] of nodes().entries()) {
    process.stderr.write(`--- node ${i} ${node.peerId}\n${node.log().split('\n').slice(-40).join('\n')}\n`)
  }
}
