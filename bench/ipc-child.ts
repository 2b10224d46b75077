// What the client processes of the ipc benchmarks share (ipc-client.ts, baselines/redis-relay.ts,
// baselines/libp2p-bulk-client.ts): the sizes and counts, and the process body that measures,
// reports to the harness over IPC and exits.
import type { ClientMessage, ClientReport, ClientRequest } from './client-main.js'
import type { Plan } from './load.js'
import { summarize } from './stats.js'

/** `ipc.oneway.*`: the message size of the ping-pong. */
export const ONEWAY_BYTES = 64
/** `ipc.bulk`: one message of 8 MiB. */
export const BULK_BYTES = 8 * 1024 * 1024

/** The raw libp2p bulk baseline's protocol (baselines/libp2p-bulk-*.ts). */
export const LIBP2P_BULK_PROTOCOL = '/praas-bench/bulk/1.0.0'
/** Its 4-byte ack, and the praas app's: the receiver has the whole message. */
export const ACK_BYTES = 4

/** Warm-up and measuring phases each end by this: both must fit in a node's default function time limit (60 s). */
const MAX_PHASE_MS = 20_000

export interface OnewayCounts { warmup: number, rounds: number, maxMs: number }
export interface BulkCounts { warmup: number, transfers: number, maxMs: number }

/** Ping-pong rounds: the plan's sequential counts, capped so that a full run stays near 5 minutes. */
export function onewayCounts (plan: Plan): OnewayCounts {
  return { warmup: Math.min(plan.warmup, 2000), rounds: Math.min(plan.iterations, 10_000), maxMs: Math.min(plan.maxPhaseMs, MAX_PHASE_MS) }
}

/** 8 MiB transfers: a few to warm up (JIT, yamux windows), then 20 (quick) or 50 (full) measured. */
export function bulkCounts (plan: Plan): BulkCounts {
  const full = plan.iterations >= 20_000
  return { warmup: full ? 5 : 3, transfers: full ? 50 : 20, maxMs: Math.min(plan.maxPhaseMs, MAX_PHASE_MS) }
}

/** Samples that a function returned as Float64 bytes (the view may sit anywhere in its buffer). */
export function float64s (bytes: Uint8Array): Float64Array {
  if (bytes.byteLength % 8 !== 0) throw new Error(`${bytes.byteLength} bytes are not a list of doubles`)
  // a copy of just these bytes: the SDK hands out Buffers, whose slice() is a view
  return new Float64Array(new Uint8Array(bytes).buffer)
}

/** The `bulk` figure: bytes per transfer and the transfer times in us. */
export function bulkReport (bytes: number, micros: ArrayLike<number>): NonNullable<ClientReport['bulk']> {
  const transfer = summarize(micros)
  if (transfer.n === 0) throw new Error('no transfer finished')
  return { bytes, transfer }
}

const CLOSE_TIMEOUT_MS = 5000

/**
 * The body of a client process: `measure` gets the harness's request (argv[2]) and returns the
 * report and what to close; the report (or the error) goes back over IPC, then the process exits.
 */
export async function reportMain (measure: (request: ClientRequest) => Promise<{ report: ClientReport, close(): Promise<void> }>): Promise<never> {
  // An orphaned client must not keep loading the machine.
  process.on('disconnect', () => process.exit(1))
  const request: ClientRequest = JSON.parse(process.argv[2] ?? '{}')
  let message: ClientMessage
  let close: (() => Promise<void>) | undefined
  try {
    const result = await measure(request)
    close = result.close
    message = { ok: true, report: result.report }
  } catch (err: any) {
    message = { ok: false, error: err?.stack ?? String(err) }
  }
  await new Promise<void>(resolve => {
    if (process.send == null) { process.stdout.write(JSON.stringify(message) + '\n'); resolve(); return }
    process.send(message, undefined, {}, () => { resolve() })
  })
  if (close != null) await Promise.race([close().catch(() => {}), new Promise(resolve => setTimeout(resolve, CLOSE_TIMEOUT_MS).unref())])
  process.exit(message.ok ? 0 : 1)
}
