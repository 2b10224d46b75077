// The body of every client process: open the transport under test, run the requested load
// shapes, report the figures to the harness over IPC, close and exit. The harness is the only
// reader of this process's results; people read its progress lines on stderr.
import { readFileSync } from 'node:fs'
import { measureInflight, measureRtt, measureSizes, measureThroughput, type Call, type InflightPoint, type Plan, type RttResult, type SizePoint, type ThroughputResult } from './load.js'
import type { Summary } from './stats.js'
import type { CliFigures } from './cli.js'
import type { ConnectFigures } from './connect.js'
import type { PartitionReport } from './partition.js'
import type { IdleReport } from './idle.js'
import type { MemoryReport } from './memory.js'

/** The echo load shapes (load.ts), their sweeps over payload sizes and calls in flight, and the LaTeX example's calls (latex.ts). */
export type Mode = 'rtt' | 'cpu' | 'throughput' | 'sizes' | 'inflight' | 'getfile' | 'compile' | 'parallel' | 'cli' | 'connect' | IpcMode | ClusterMode | DurableMode | IdleMode | MemoryMode
/** Process-to-process messages (ipc.ts): one-way times of a ping-pong (64 B, and per payload size), and 8 MiB transfers. */
export type IpcMode = 'oneway' | 'onewaysizes' | 'bulk'
/** The cluster layer (cluster.ts): a fresh client's first invoke, create + first invoke, leader fail-over. */
export type ClusterMode = 'resolve' | 'cold' | 'deploycold' | 'failover' | 'unavailable'
/** Durability (durable.ts): swap out, the restoring invoke, the longest call during a live migration (one / several callers), replicated writes (64 callers, one). */
/** An idle mesh of 4 and of 16 (idle.ts): CPU and RSS per node; a member's death and the leader's, noticed. */
export type IdleMode = 'idlecpu' | 'idlerss' | 'detect' | 'failover16'
/** Memory per process on one node (memory.ts): active, swapped. */
export type MemoryMode = 'procmem' | 'swapmem'
export type DurableMode = 'swapout' | 'swapin' | 'pause' | 'pauseconc' | 'replicated' | 'replseq' | 'sendseq'

export interface Transport {
  call: Call
  close(): Promise<void>
}

export interface ClientRequest {
  /** The source being measured, for progress lines. */
  source: string
  /** Where the server is: a port, a multiaddr, a node.json path… each client knows its own. */
  target: string
  plan: Plan
  modes: Mode[]
  /** Coalesce the frames written in one event-loop turn into one send (raw libp2p only). */
  batch?: boolean
  /** Bytes of one bulk message (raw libp2p bulk only; default ipc-child.ts BULK_BYTES). */
  bytes?: number
  /** The server's OS process, whose CPU time the `rtt` phase reports per call (Linux /proc). */
  serverPid?: number
}

/** User + system CPU time of an OS process, all threads, in us; undefined where /proc is not there. */
function cpuTimeUs (pid: number): number | undefined {
  try {
    // the fields after the command's closing parenthesis: utime and stime are the 12th and 13th
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
    const ticks = Number(fields[11]) + Number(fields[12])
    return Number.isFinite(ticks) ? ticks * 1e6 / CLOCK_TICKS_PER_SECOND : undefined
  } catch {
    return undefined
  }
}

/** Linux's USER_HZ, the unit of /proc/PID/stat times: 100 on every mainstream architecture. */
const CLOCK_TICKS_PER_SECOND = 100

export interface ClientReport {
  rtt?: RttResult
  throughput?: ThroughputResult
  /** Sequential round trips per payload size (load.ts SWEEP_SIZES). */
  sizes?: SizePoint[]
  /** Throughput per number of calls in flight (load.ts SWEEP_INFLIGHT), 64 B calls. */
  inflight?: InflightPoint[]
  /** Sequential calls of the LaTeX example, in microseconds. */
  getfile?: Summary
  compile?: Summary
  /** An echo of the same 10 KiB on the same node (latex.praas only), in microseconds. */
  echo10k?: Summary
  /** One-way times in microseconds (half of each ping-pong round trip). */
  oneway?: Summary
  /** The same per payload size. */
  onewaySizes?: SizePoint[]
  /** Transfers of `bytes` each; their times (start of the send to the receiver's ack) in microseconds. */
  bulk?: { bytes: number, transfer: Summary }
  /** In us: a fresh client's first invoke of an existing pid; one raw DHT get of its record by a fresh peer (full query) and by a warm one (first answer). */
  resolve?: { first: Summary, atHost: Summary }
  /** In us: create + first invoke, warm invokes of an existing process on the same node, and deploy + create + first invoke of a new app. */
  cold?: { cold: Summary, warm: Summary, deploy?: Summary }
  /** In us: wall times of CLI commands, each a fresh process, and of `node -e 0` (cli.ts). */
  cli?: CliFigures
  /** Client.connect with a token plus the first invoke, and a raw libp2p dial plus the first stream (connect.ts). */
  connect?: ConnectFigures
  /** A host cut off from the others: until its process serves on the majority side (partition.ts). */
  partition?: PartitionReport
  /** In us: leader SIGKILLed until a surviving node names a new leader. */
  failover?: Summary
  /** An idle mesh of 4 and of 16 node processes (idle.ts). */
  idle?: IdleReport
  /** RSS of one node at two counts of small processes, active and swapped (memory.ts). */
  memory?: MemoryReport
  /** In us: swap out and restore (or write + fsync and read of a file) of `bytes` of state; `sweep` = the same per state size. */
  swapout?: Summary
  swapin?: Summary
  sweep?: SwapPoint[]
  /** In us: per migration, the longest call overlapping it, with one caller / several; or one raw transfer of as many bytes. */
  pause?: Summary
  pauseconc?: Summary
  /** In us: how long each `client.migrate` took (notes only). */
  migrate?: Summary
  /** 64 B state writes, 64 in flight. */
  replicated?: ThroughputResult
  /** In us: sequential increments (state get + put), one caller. */
  replseq?: Summary
  /** In us: sequential `client.send`s of 64 B to a process that does not read them (each queued). */
  sendseq?: Summary
  /** A CPU-bound function's calls per second with 1 and with 2 calls in flight on one process. */
  parallel?: { one: number, two: number, n: number }
  /** Parts of a source that failed while the rest of it was measured (the run lists them as failures). */
  errors?: string[]
}

/** Swap out and in (or disk write and read) of one state size, in us. */
export interface SwapPoint { bytes: number, out: Summary, in: Summary }

/** Calls per second of `call` one at a time, then two at a time (after a warm-up of each). */
async function measureParallel (call: Call, rounds = 8): Promise<{ one: number, two: number, n: number }> {
  const payload = new Uint8Array(64)
  const rate = async (inFlight: number): Promise<number> => {
    await Promise.all(Array.from({ length: inFlight }, async () => await call(payload)))
    const start = performance.now()
    for (let i = 0; i < rounds; i++) await Promise.all(Array.from({ length: inFlight }, async () => await call(payload)))
    return rounds * inFlight / ((performance.now() - start) / 1000)
  }
  const one = await rate(1)
  const two = await rate(2)
  return { one, two, n: rounds }
}

export type ClientMessage = { ok: true, report: ClientReport } | { ok: false, error: string }

const CLOSE_TIMEOUT_MS = 5000

async function reply (message: ClientMessage): Promise<void> {
  await new Promise<void>(resolve => {
    if (process.send == null) { process.stdout.write(JSON.stringify(message) + '\n'); resolve(); return }
    process.send(message, undefined, {}, () => { resolve() })
  })
}

export async function clientMain (open: (target: string, request: ClientRequest) => Promise<Transport>): Promise<never> {
  // An orphaned client must not keep loading the machine.
  process.on('disconnect', () => process.exit(1))
  const request: ClientRequest = JSON.parse(process.argv[2] ?? '{}')
  let transport: Transport | undefined
  let message: ClientMessage
  try {
    transport = await open(request.target, request)
    const report: ClientReport = {}
    if (request.modes.includes('rtt')) {
      process.stderr.write(`  ${request.source}: sequential round trips\n`)
      const cpuBefore = request.serverPid != null ? cpuTimeUs(request.serverPid) : undefined
      report.rtt = await measureRtt(transport.call, request.plan)
      const cpuAfter = request.serverPid != null ? cpuTimeUs(request.serverPid) : undefined
      if (cpuBefore != null && cpuAfter != null) report.rtt.serverCpuUs = (cpuAfter - cpuBefore) / (report.rtt.n + request.plan.warmup)
    }
    if (request.modes.includes('parallel')) {
      process.stderr.write(`  ${request.source}: a CPU-bound function, 1 and 2 calls in flight\n`)
      report.parallel = await measureParallel(transport.call)
    }
    if (request.modes.includes('throughput')) {
      process.stderr.write(`  ${request.source}: ${request.plan.concurrency} calls in flight\n`)
      report.throughput = await measureThroughput(transport.call, request.plan)
    }
    if (request.modes.includes('sizes')) {
      process.stderr.write(`  ${request.source}: sequential round trips per payload size\n`)
      report.sizes = await measureSizes(transport.call, request.plan)
    }
    if (request.modes.includes('inflight')) {
      process.stderr.write(`  ${request.source}: throughput per number of calls in flight\n`)
      report.inflight = await measureInflight(transport.call, request.plan, report.throughput)
    }
    message = { ok: true, report }
  } catch (err: any) {
    message = { ok: false, error: err?.stack ?? String(err) }
  }
  await reply(message)
  if (transport != null) {
    await Promise.race([transport.close().catch(() => {}), new Promise(resolve => setTimeout(resolve, CLOSE_TIMEOUT_MS).unref())])
  }
  process.exit(message.ok ? 0 : 1)
}
