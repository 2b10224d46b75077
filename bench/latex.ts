// The LaTeX example (examples/latex) as a benchmark source: a `praas node` in its own OS process,
// a client process (latex-client.ts) with one document session, and for the stateless mode a
// real redis-server started here. The figures are `latex.getfile` (get of a 10 KiB file) and
// `latex.compile` (compile of an unchanged document), each against the stateless functions.
import { join } from 'node:path'
import { runClient, startServer, stopChild, type Child } from './children.js'
import type { ClientReport, Mode } from './client-main.js'
import type { Plan } from './load.js'
import { startPraasNode } from './praas-node.js'
import { answersPing, freePort, requireCommand } from './redis-probe.js'

export type LatexSource = 'latex.praas' | 'latex.stateless'

/** What latex-client.ts gets as its target, JSON-encoded. */
export interface LatexTarget {
  addrs: string[]
  /** The app module to deploy. */
  app: string
  /** redis://127.0.0.1:PORT for the stateless functions; absent for the session process. */
  redis?: string
}

const NODE_READY_MS = 60_000
const REDIS_READY_MS = 10_000
const CLIENT_SETUP_MS = 60_000

/** redis-server without persistence on a free loopback port, ready once it answers PING. */
async function startRedis (): Promise<{ child: Child, url: string }> {
  const port = await freePort()
  const child = startServer('redis-server', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'])
  const deadline = Date.now() + REDIS_READY_MS
  while (!(await answersPing(port))) {
    if (child.process.exitCode != null || Date.now() > deadline) {
      await stopChild(child)
      throw new Error(`redis-server on port ${port} did not answer PING:\n${child.tail()}`)
    }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return { child, url: `redis://127.0.0.1:${port}` }
}

/** Runs one mode of the example; `bench` is dist/bench, `root` the repository. */
export async function latex (source: LatexSource, bench: string, root: string, modes: Mode[], plan: Plan): Promise<ClientReport> {
  requireCommand('pdflatex', 'texlive-latex-base')
  if (source === 'latex.stateless') requireCommand('redis-server', 'redis-server')
  const node = await startPraasNode(root, NODE_READY_MS)
  let redis: { child: Child, url: string } | undefined
  try {
    if (source === 'latex.stateless') redis = await startRedis()
    const target: LatexTarget = { addrs: node.info.addrs, app: join(root, 'examples', 'latex', 'index.js'), redis: redis?.url }
    return await runClient(`${source} client`, join(bench, 'latex-client.js'),
      { source, target: JSON.stringify(target), plan, modes }, CLIENT_SETUP_MS + 2 * modes.length * plan.maxPhaseMs)
  } finally {
    if (redis != null) await stopChild(redis.child)
    await node.stop()
  }
}
