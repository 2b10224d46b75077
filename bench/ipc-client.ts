// Client process of `ipc.remote` / `ipc.local`: an SDK Client deploys bench/apps/ipc.js, creates
// two processes (on two nodes, or both on one) and has them play ping-pong (`oneway`, and once per
// payload size for `onewaysizes`) and pass 8 MiB messages (`bulk`). All timing happens inside the functions (see the app); this process
// only starts the pairs and summarizes what they measured.
import '../protocol/polyfill.js'
import { readFile } from 'node:fs/promises'
import { Client } from '../sdk/index.js'
import type { ClientReport, ClientRequest } from './client-main.js'
import { BULK_BYTES, bulkCounts, bulkReport, float64s, ONEWAY_BYTES, onewayCounts, reportMain } from './ipc-child.js'
import { sizeLabel, type SizePoint } from './load.js'
import { summarize } from './stats.js'

/** What ipc.ts hands over as the request's target, JSON-encoded. */
export interface IpcTarget {
  /** The first node's multiaddrs: the client's bootstrap. */
  addrs: string[]
  /** Peer ids: the first process goes on the first, the second on the last (the same for local). */
  nodes: string[]
  /** Path of the app module. */
  app: string
}

const APP = 'bench-ipc'
const MESH_TIMEOUT_MS = 30_000
/** Slack on top of the two bounded phases of one measuring function. */
const CALL_SLACK_MS = 20_000

/** Waits until the bootstrap node sees every node of the run (bounded). */
async function waitForMesh (client: Client, count: number): Promise<void> {
  const deadline = Date.now() + MESH_TIMEOUT_MS
  for (;;) {
    const seen = await client.status().then(s => s.nodes.length, () => 0)
    if (seen >= count) return
    if (Date.now() > deadline) throw new Error(`the mesh shows ${seen} of ${count} nodes after ${MESH_TIMEOUT_MS} ms`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

/**
 * Starts `partner` (which waits for messages) and then `driver` (which measures and finally tells
 * the partner to stop); returns the driver's samples once both have returned.
 */
async function pair (client: Client, partner: [string, string, object], driver: [string, string, object], timeoutMs: number): Promise<Float64Array> {
  const partnerDone = client.invoke(partner[0], partner[1], JSON.stringify(partner[2]), { timeoutMs })
  partnerDone.catch(() => {})
  const samples = float64s(await client.invoke(driver[0], driver[1], JSON.stringify(driver[2]), { timeoutMs }))
  await partnerDone
  return samples
}

async function measure (request: ClientRequest): Promise<{ report: ClientReport, close(): Promise<void> }> {
  const target: IpcTarget = JSON.parse(request.target)
  const client = await Client.connect({ bootstrap: target.addrs })
  try {
    await waitForMesh(client, target.nodes.length)
    await client.deploy(APP, await readFile(target.app))
    const a = await client.create(APP, { node: target.nodes[0] })
    const b = await client.create(APP, { node: target.nodes[target.nodes.length - 1] })
    const where = target.nodes.length > 1 ? 'on two nodes' : 'on one node'
    const report: ClientReport = {}
    if (request.modes.includes('oneway')) {
      const counts = onewayCounts(request.plan)
      process.stderr.write(`  ${request.source}: ping-pong of ${ONEWAY_BYTES} B between two processes ${where}\n`)
      const samples = await pair(client,
        [b, 'pong', { maxRounds: counts.warmup + counts.rounds + 1 }],
        [a, 'ping', { peer: b, size: ONEWAY_BYTES, ...counts }], 2 * counts.maxMs + CALL_SLACK_MS)
      report.oneway = summarize(samples)
      if (report.oneway.n === 0) throw new Error('no ping-pong round finished')
    }
    if (request.modes.includes('onewaysizes')) {
      const sweep = request.plan.sweep
      if (sweep == null) throw new Error('the plan has no sweep')
      const points: SizePoint[] = []
      for (const { bytes, warmup, iterations } of sweep.sizes) {
        process.stderr.write(`  ${request.source}: ping-pong of ${sizeLabel(bytes)} between two processes ${where}\n`)
        const maxMs = Math.min(request.plan.maxPhaseMs, sweep.maxPointMs)
        const samples = await pair(client,
          [b, 'pong', { maxRounds: warmup + iterations + 1 }],
          [a, 'ping', { peer: b, size: bytes, warmup, rounds: iterations, maxMs }], 2 * maxMs + CALL_SLACK_MS)
        const latency = summarize(samples)
        if (latency.n === 0) throw new Error(`no ping-pong round of ${sizeLabel(bytes)} finished`)
        points.push({ bytes, latency })
      }
      report.onewaySizes = points
    }
    if (request.modes.includes('bulk')) {
      const counts = bulkCounts(request.plan)
      process.stderr.write(`  ${request.source}: ${BULK_BYTES / 1024 / 1024} MiB messages between two processes ${where}\n`)
      const samples = await pair(client,
        [b, 'bulkRecv', { size: BULK_BYTES, maxTransfers: counts.warmup + counts.transfers + 1 }],
        [a, 'bulkSend', { peer: b, size: BULK_BYTES, ...counts }], 2 * counts.maxMs + CALL_SLACK_MS)
      report.bulk = bulkReport(BULK_BYTES, samples)
    }
    return { report, close: async () => { await client.close() } }
  } catch (err) {
    await client.close().catch(() => {})
    throw err
  }
}

await reportMain(measure)
