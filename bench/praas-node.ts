// A `praas node` in its own OS process, on loopback, in a temporary data dir that is removed
// when it stops. Readiness is the node's own signal: DATA_DIR/node.json (see SPEC.md, CLI).
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServer, stopChild, trackTempDir, type Child } from './children.js'

export interface NodeInfo {
  peerId: string
  addrs: string[]
  pid: number
  /** The admin token of the cluster this node created (absent on nodes that joined one). */
  token?: string
}

export interface PraasNode {
  info: NodeInfo
  child: Child
  stop(): Promise<void>
}

const POLL_MS = 50
/** SIGTERM makes the node persist its processes before exiting; give it time to. */
const STOP_GRACE_MS = 10_000

async function readNodeJson (path: string): Promise<NodeInfo | undefined> {
  try {
    const info = JSON.parse(await readFile(path, 'utf8'))
    if (typeof info.peerId === 'string' && Array.isArray(info.addrs) && info.addrs.length > 0) return info
  } catch {
    // not written yet, or half written
  }
  return undefined
}

/**
 * The token of the cluster the harness started last: a node started with `--bootstrap` joins
 * with it, and it is put in PRAAS_TOKEN, which the SDK clients of the bench (in this process and
 * the client processes it starts, which inherit the environment) present.
 */
let clusterToken: string | undefined

/**
 * `args` go to `praas node` after the harness's own (e.g. `--bootstrap MA`); a node started
 * without `--bootstrap` creates a cluster, one with it joins the cluster started last.
 */
export async function startPraasNode (root: string, timeoutMs: number, args: string[] = []): Promise<PraasNode> {
  if (args.includes('--bootstrap') && !args.includes('--join') && clusterToken != null) args = [...args, '--join', clusterToken]
  const tmp = await mkdtemp(join(tmpdir(), 'praas-bench-'))
  const tracked = trackTempDir(tmp)
  const dataDir = join(tmp, 'data')
  const appsDir = join(tmp, 'apps')
  await mkdir(dataDir)
  await mkdir(appsDir)
  const child = startServer('praas node', process.execPath, ['--no-node-snapshot', join(root, 'bin', 'praas.js'), 'node',
    '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', dataDir, '--apps', appsDir, ...args], { cwd: root })
  const stop = async (): Promise<void> => {
    await stopChild(child, STOP_GRACE_MS)
    await rm(tmp, { recursive: true, force: true })
    tracked.forget()
  }
  try {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if (child.process.exitCode != null || child.process.signalCode != null) {
        throw new Error(`praas node exited (${child.process.exitCode ?? child.process.signalCode}) before it was ready:\n${child.tail()}`)
      }
      const info = await readNodeJson(join(dataDir, 'node.json'))
      if (info != null) {
        const token = await readFile(join(dataDir, 'admin.token'), 'utf8').then(t => t.trim(), () => undefined)
        if (token != null) {
          info.token = token
          clusterToken = token
          process.env.PRAAS_TOKEN = token
        }
        return { info, child, stop }
      }
      await new Promise(resolve => setTimeout(resolve, POLL_MS))
    }
    throw new Error(`praas node wrote no node.json within ${timeoutMs} ms:\n${child.tail()}`)
  } catch (err) {
    await stop()
    throw err
  }
}
