// The library patches of protocol/patches/, side by side (`npm run build` first): sequential 64 B echo round
// trips over TCP + Noise + yamux between two processes, with stock @libp2p/yamux, the window-update patch
// alone, the connection tuning alone (cork, Noise frame decoder), and both (praasYamux). Each variant in
// processes of its own (the window patch is global once applied). `node scripts/patches-ab.mjs [ROUNDS]`.
import '../dist/protocol/polyfill.js'
import { fork } from 'node:child_process'
import { noise } from '@chainsafe/libp2p-noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { praasYamux } from '../dist/protocol/index.js'
const [role, kind, target] = process.argv.slice(2)
import { tuneConnection } from '../dist/protocol/patches/connection-tuning.js'
function tuned () { const stock = yamux(); return () => { const f = stock(); const c = f.createStreamMuxer.bind(f); f.createStreamMuxer = (conn) => { tuneConnection(conn); return c(conn) }; return f } }
const muxer = kind === 'patched' ? praasYamux() : kind === 'window' ? (praasYamux(), yamux()) : kind === 'tuning' ? tuned() : yamux()
if (role === 'server') {
  const node = await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [muxer] })
  await node.handle('/echo', (s) => { s.addEventListener('message', (e) => { s.send(e.data) }) })
  process.send(node.getMultiaddrs()[0].toString())
} else if (role === 'client') {
  const node = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [muxer] })
  const s = await node.dialProtocol((await import('@multiformats/multiaddr')).multiaddr(target), '/echo')
  let resolve
  s.addEventListener('message', () => resolve())
  const payload = new Uint8Array(64)
  const times = []
  for (let i = 0; i < 7000; i++) {
    const t = performance.now()
    await new Promise(_resolve => { resolve = _resolve; s.send(payload) })
    if (i >= 2000) times.push(performance.now() - t)
  }
  times.sort((a, b) => a - b)
  process.send({ p50: times[times.length >> 1] * 1000, p99: times[Math.floor(times.length * 0.99)] * 1000 })
  process.exit(0)
} else {
  for (let round = 0; round < Number(process.argv[2] ?? 3); round++) {
    for (const k of ['stock', 'window', 'tuning', 'patched']) {
      const server = fork(new URL(import.meta.url).pathname, ['server', k])
      const addr = await new Promise(_resolve => server.once('message', _resolve))
      const client = fork(new URL(import.meta.url).pathname, ['client', k, addr])
      const res = await new Promise(_resolve => client.once('message', _resolve))
      console.log(round, k, 'p50', res.p50.toFixed(0), 'us p99', res.p99.toFixed(0), 'us')
      server.kill()
    }
  }
  process.exit(0)
}
