// SWIM's transport over libp2p, two ways, measured side by side in one run: the adapter's one
// long-lived stream per peer with length-prefixed messages (Libp2pDatagrams), against a new
// stream per message. Two libp2p peers (TCP, Noise, yamux) in this process on loopback; a
// ping/ack exchange is one message each way. Figures: round trip p50 / p99 and the CPU time of
// the process (both peers) per exchange, in interleaved rounds.
//   node dist/bench/swim-transport.js [exchanges per round, default 2000] [rounds, default 3]
import '../protocol/polyfill.js'
import { writeFileSync } from 'node:fs'
import { noise } from '@chainsafe/libp2p-noise'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { encode as varintEncode } from 'uint8-varint'
import { Uint8ArrayList } from 'uint8arraylist'
import { Libp2pDatagrams } from '../node/cluster/swim/index.js'
import { FrameDecoder } from '../protocol/frames.js'
import { praasYamux } from '../protocol/index.js'
import type { Datagrams } from '../node/cluster/swim/index.js'
import type { Libp2p } from '@libp2p/interface'

const PER_MESSAGE = '/praas/swim-bench/1.0.0'

/** Datagrams as a new stream per message: open, write one length-prefixed message, close. */
function streamPerMessage (node: Libp2p): Datagrams & { start(): Promise<void> } {
  let handler: (from: string, data: Uint8Array) => void = () => {}
  return {
    async start () {
      await node.handle(PER_MESSAGE, (stream, connection) => {
        const decoder = new FrameDecoder(64 * 1024)
        const from = connection.remotePeer.toString()
        stream.addEventListener('message', (evt) => {
          decoder.decode(evt.data, (frame) => { handler(from, frame instanceof Uint8Array ? frame : frame.subarray()) })
        })
        stream.addEventListener('remoteCloseWrite', () => { void stream.close().catch(() => {}) })
      }, { maxInboundStreams: 1024, maxOutboundStreams: 1024 })
    },
    send (to, data) {
      const peer = node.getConnections().find(c => c.remotePeer.toString() === to)?.remotePeer
      if (peer == null) return
      void node.dialProtocol(peer, PER_MESSAGE, { signal: AbortSignal.timeout(2_000) }).then(async (stream) => {
        stream.send(new Uint8ArrayList(varintEncode(data.byteLength), data))
        await stream.close()
      }).catch(() => {})
    },
    listen (h) { handler = h }
  }
}

type Host = Libp2p<{ datagrams: Libp2pDatagrams }>

async function host (): Promise<Host> {
  return await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [praasYamux()],
    connectionManager: { inboundConnectionThreshold: 10_000 },
    services: { datagrams: (components: any) => new Libp2pDatagrams(components) }
  })
}

interface Result { p50Us: number, p99Us: number, cpuUsPerExchange: number }

/** `count` sequential ping/ack exchanges of 80-byte messages (the size of a SWIM ping). */
async function exchanges (a: Datagrams, b: Datagrams, bId: string, count: number): Promise<Result> {
  const ping = new Uint8Array(80).fill(7)
  b.listen((from, data) => { b.send(from, data) })
  let resolve: () => void = () => {}
  a.listen(() => { resolve() })
  const rtts: number[] = []
  const cpu = process.cpuUsage()
  for (let i = 0; i < count; i++) {
    const start = performance.now()
    await new Promise<void>((_resolve) => { resolve = _resolve; a.send(bId, ping) })
    rtts.push((performance.now() - start) * 1000)
  }
  const used = process.cpuUsage(cpu)
  rtts.sort((x, y) => x - y)
  return { p50Us: rtts[Math.floor(count * 0.5)], p99Us: rtts[Math.floor(count * 0.99)], cpuUsPerExchange: (used.user + used.system) / count }
}

async function main (): Promise<void> {
  const count = Number(process.argv[2] ?? 2000)
  const rounds = Number(process.argv[3] ?? 3)
  const [a, b] = await Promise.all([host(), host()])
  await a.dial(b.getMultiaddrs()[0])
  const longA = a.services.datagrams
  const longB = b.services.datagrams
  const perA = streamPerMessage(a)
  const perB = streamPerMessage(b)
  await Promise.all([perA.start(), perB.start()])
  const bId = b.peerId.toString()
  // warm up both paths
  await exchanges(longA, longB, bId, 200)
  await exchanges(perA, perB, bId, 200)
  const results: Record<string, Result[]> = { longLived: [], perMessage: [] }
  for (let round = 0; round < rounds; round++) {
    results.longLived.push(await exchanges(longA, longB, bId, count))
    results.perMessage.push(await exchanges(perA, perB, bId, count))
  }
  const median = (xs: number[]): number => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]
  const summary = Object.fromEntries(Object.entries(results).map(([k, rs]) => [k, {
    p50Us: median(rs.map(r => r.p50Us)), p99Us: median(rs.map(r => r.p99Us)), cpuUsPerExchange: median(rs.map(r => r.cpuUsPerExchange))
  }]))
  const ratio = {
    p50: summary.perMessage.p50Us / summary.longLived.p50Us,
    cpu: summary.perMessage.cpuUsPerExchange / summary.longLived.cpuUsPerExchange
  }
  const report = { count, rounds, results, summary, perMessageOverLongLived: ratio, at: new Date().toISOString() }
  console.log(JSON.stringify(report, null, 2))
  writeFileSync(new URL('../../bench/results/swim-transport.json', import.meta.url), JSON.stringify(report, null, 2) + '\n')
  await Promise.all([a.stop(), b.stop()])
}

await main()
