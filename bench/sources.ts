// How each source is measured: start its server process, run its client process against it,
// stop the server. Nothing here outlives the call, whether it succeeds or fails.
import { join } from 'node:path'
import { firstLine, runClient, startServer, stopChild } from './children.js'
import type { ClientReport, Mode } from './client-main.js'
import { cli } from './cli.js'
import { cluster } from './cluster.js'
import { connect } from './connect.js'
import { partition } from './partition.js'
import { netnsUnsupported } from '../test/helpers/netns.js'
import { durable } from './durable.js'
import { idle } from './idle.js'
import { memory } from './memory.js'
import { ipc } from './ipc.js'
import { latex } from './latex.js'
import { sweepBoundMs, type Plan } from './load.js'
import type { SourceName } from './metrics.js'
import { startPraasNode } from './praas-node.js'

const SERVER_READY_MS = 20_000
const NODE_READY_MS = 60_000
/** Connecting, deploying and creating a process, on top of the measured phases. */
const CLIENT_SETUP_MS = 60_000

function clientTimeout (plan: Plan, modes: Mode[]): number {
  return CLIENT_SETUP_MS + 2 * plan.maxPhaseMs + plan.throughputWarmupMs + plan.throughputMs + sweepBoundMs(plan, modes)
}

async function echo (source: SourceName, kind: 'net' | 'http' | 'libp2p', batch: boolean, bench: string, modes: Mode[], plan: Plan): Promise<ClientReport> {
  const server = startServer(`${source} server`, process.execPath,
    [join(bench, 'baselines', `${kind}-echo-server.js`), ...(batch ? ['--batch'] : [])])
  try {
    const target = await firstLine(server, SERVER_READY_MS)
    return await runClient(`${source} client`, join(bench, 'baselines', `${kind}-echo-client.js`),
      { source, target, plan, modes, batch, serverPid: server.process.pid }, clientTimeout(plan, modes))
  } finally {
    await stopChild(server)
  }
}

/** One node (`--replicas 1`: one node replicates to nobody anyway) and a client of one process: an echo, an increment, a CPU-bound function. */
async function praas (source: 'praas.invoke' | 'praas.incr' | 'praas.parallel', bench: string, root: string, modes: Mode[], plan: Plan): Promise<ClientReport> {
  const node = await startPraasNode(root, NODE_READY_MS, ['--replicas', '1'])
  try {
    return await runClient(`${source} client`, join(bench, 'praas-invoke-client.js'),
      { source, target: JSON.stringify(node.info.addrs), plan, modes, serverPid: node.info.pid }, clientTimeout(plan, modes))
  } finally {
    await node.stop()
  }
}

/** `bench` is the compiled bench folder (dist/bench), `root` the repository. */
export async function runSource (name: SourceName, modes: Mode[], plan: Plan, bench: string, root: string): Promise<ClientReport> {
  switch (name) {
    case 'net.echo': return await echo(name, 'net', false, bench, modes, plan)
    case 'http.echo': return await echo(name, 'http', false, bench, modes, plan)
    case 'libp2p.echo': return await echo(name, 'libp2p', false, bench, modes, plan)
    case 'libp2p.echo.batched': return await echo(name, 'libp2p', true, bench, modes, plan)
    case 'praas.invoke': case 'praas.incr': case 'praas.parallel': return await praas(name, bench, root, modes, plan)
    case 'latex.stateless': case 'latex.praas': return await latex(name, bench, root, modes, plan)
    case 'ipc.remote': case 'ipc.remote.r1': case 'ipc.local': case 'redis.relay': case 'libp2p.bulk': return await ipc(name, bench, root, modes, plan)
    case 'praas.cluster': return await cluster(bench, root, modes, plan)
    case 'praas.cli': return await cli(root, plan)
    case 'praas.connect': return await connect(bench, root, plan)
    case 'praas.partition': {
      const reason = await netnsUnsupported()
      if (reason == null) return { partition: await partition(root, plan) }
      process.stderr.write(`  praas.partition: skipped: ${reason}\n`)
      return {}
    }
    case 'praas.idle': return { idle: await idle(root, plan) }
    case 'praas.memory': return { memory: await memory(root, plan) }
    case 'praas.durable': case 'praas.durable.r1': case 'disk.io': case 'libp2p.bulk.64': return await durable(name, bench, root, modes, plan)
  }
}
