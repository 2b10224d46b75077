// Raw libp2p bulk baseline, sending end: one connection and one stream to libp2p-bulk-server;
// each transfer writes an 8 MiB message in chunks, waiting for 'drain' whenever the stream is
// full, and ends when the server's 4-byte ack is back: the same span as `bulkSend` in the praas
// app times. Target: the server's multiaddr. With `request.bytes` (durable.ts, `libp2p.bulk.64`)
// the messages are that big, fewer, and reported as the `pause` / `pauseconc` baseline.
import '../../protocol/polyfill.js'
import { multiaddr } from '@multiformats/multiaddr'
import type { Stream } from '@libp2p/interface'
import type { ClientReport, ClientRequest } from '../client-main.js'
import { durableCounts } from '../durable.js'
import { ACK_BYTES, BULK_BYTES, bulkCounts, bulkReport, LIBP2P_BULK_PROTOCOL, reportMain } from '../ipc-child.js'
import { makePayload } from '../load.js'
import { createHost } from './libp2p-host.js'

/** What one send hands to the stream: the chunk size praas uses for big payloads (CHUNK_BYTES). */
const WRITE_BYTES = 256 * 1024
const ACK_TIMEOUT_MS = 10_000

/** The stream's next 'drain' (stream.onDrain() resolves only once in @libp2p/utils 7.4.1). */
async function drained (stream: Stream): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error): void => {
      stream.removeEventListener('drain', onDrain)
      stream.removeEventListener('close', onClose)
      if (err != null) reject(err); else resolve()
    }
    const onDrain = (): void => { done() }
    const onClose = (): void => { done(new Error('stream closed')) }
    stream.addEventListener('drain', onDrain)
    stream.addEventListener('close', onClose)
  })
}

async function measure (request: ClientRequest): Promise<{ report: ClientReport, close(): Promise<void> }> {
  const host = await createHost()
  const close = async (): Promise<void> => { await host.stop() }
  try {
    const signal = AbortSignal.timeout(10_000)
    const stream = await host.dialProtocol(multiaddr(request.target), LIBP2P_BULK_PROTOCOL, { signal })
    const waiting: Array<{ seq: number, resolve(): void, reject(err: Error): void }> = []
    let pending = 0
    let acks = 0
    stream.addEventListener('message', evt => {
      pending += evt.data.byteLength
      for (; pending >= ACK_BYTES; pending -= ACK_BYTES) {
        const seq = acks++
        const waiter = waiting.shift()
        if (waiter == null) continue
        if (waiter.seq === seq) waiter.resolve(); else waiter.reject(new Error(`ack ${seq} arrived where ${waiter.seq} was due`))
      }
    })
    stream.addEventListener('close', () => { for (const w of waiting.splice(0)) w.reject(new Error('stream closed')) })

    const bytes = request.bytes ?? BULK_BYTES
    const payload = makePayload(bytes)
    let seq = 0
    const transfer = async (): Promise<number> => {
      const acked = new Promise<void>((resolve, reject) => { waiting.push({ seq: seq++, resolve, reject }) })
      const start = performance.now()
      for (let offset = 0; offset < payload.byteLength; offset += WRITE_BYTES) {
        if (!stream.send(payload.subarray(offset, offset + WRITE_BYTES))) await drained(stream)
      }
      let timer: NodeJS.Timeout | undefined
      await Promise.race([acked, new Promise((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`no ack within ${ACK_TIMEOUT_MS} ms`)) }, ACK_TIMEOUT_MS) })])
        .finally(() => { clearTimeout(timer) })
      return (performance.now() - start) * 1000
    }

    const counts = request.bytes == null ? bulkCounts(request.plan) : { ...durableCounts(request.plan), maxMs: 30_000 }
    process.stderr.write(`  ${request.source}: ${bytes / 1024 / 1024} MiB messages on one raw libp2p stream\n`)
    let deadline = performance.now() + counts.maxMs
    for (let i = 0; i < counts.warmup && performance.now() < deadline; i++) await transfer()
    const micros: number[] = []
    deadline = performance.now() + counts.maxMs
    while (micros.length < counts.transfers && performance.now() < deadline) micros.push(await transfer())
    await stream.close().catch(() => {})
    const report: ClientReport = { bulk: bulkReport(bytes, micros) }
    if (request.bytes != null) report.pause = report.pauseconc = report.bulk?.transfer
    return { report, close }
  } catch (err) {
    await close().catch(() => {})
    throw err
  }
}

await reportMain(measure)
