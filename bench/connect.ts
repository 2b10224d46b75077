// What a client pays to start talking to a cluster that asks for tokens: `Client.connect` with a
// token plus the first invoke (its own libp2p peer, the dial, Noise, the token presented once on
// the connection, the control stream's PING, the invoke stream and one 64 B echo), against a raw
// libp2p peer's dial and first stream (`libp2p.dial`: the same peer set-up, TCP + Noise + the same
// yamux, one stream, one 64 B echo) against the raw echo server. Taken in turns, in the harness's
// own process, so that each figure and its baseline see the same machine.
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { Client } from '../sdk/index.js'
import { createHost, ECHO_PROTOCOL } from './baselines/libp2p-host.js'
import { firstLine, startServer, stopChild } from './children.js'
import type { ClientReport } from './client-main.js'
import { encodeFrame, FrameDecoder } from './framing.js'
import type { Plan } from './load.js'
import { startPraasNode } from './praas-node.js'
import { summarize, type Summary } from './stats.js'

export interface ConnectFigures {
  /** Wall times in us. */
  connect: Summary
  dial: Summary
}

const NODE_READY_MS = 60_000
const SERVER_READY_MS = 20_000
const CALL_TIMEOUT_MS = 10_000
const SAMPLES = { quick: 20, full: 60 }
const PAYLOAD = new Uint8Array(64).fill(7)
const ECHO_APP = 'export async function echo (input) { return input }\n'

async function timeConnect (bootstrap: string[], token: string, pid: string): Promise<number> {
  const start = performance.now()
  const client = await Client.connect({ bootstrap, token })
  try {
    const out = await client.invoke(pid, 'echo', PAYLOAD, { timeoutMs: CALL_TIMEOUT_MS })
    if (out.byteLength !== PAYLOAD.byteLength) throw new Error('the echo came back wrong')
    return (performance.now() - start) * 1000
  } finally {
    await client.close()
  }
}

async function timeDial (target: string): Promise<number> {
  const start = performance.now()
  const host = await createHost()
  try {
    const signal = AbortSignal.timeout(CALL_TIMEOUT_MS)
    const connection = await host.dial(multiaddr(target), { signal })
    const stream = await connection.newStream(ECHO_PROTOCOL, { signal })
    const decoder = new FrameDecoder()
    const answered = new Promise<void>((resolve, reject) => {
      stream.addEventListener('message', (evt) => { if (decoder.push(evt.data).length > 0) resolve() })
      stream.addEventListener('close', () => { reject(new Error('stream closed')) })
    })
    stream.send(encodeFrame(1, PAYLOAD))
    await answered
    return (performance.now() - start) * 1000
  } finally {
    await host.stop()
  }
}

export async function connect (bench: string, root: string, plan: Plan): Promise<ClientReport> {
  const node = await startPraasNode(root, NODE_READY_MS, ['--replicas', '1'])
  const server = startServer('libp2p.dial server', process.execPath, [join(bench, 'baselines', 'libp2p-echo-server.js')])
  try {
    const target = await firstLine(server, SERVER_READY_MS)
    const token = node.info.token ?? ''
    const setup = await Client.connect({ bootstrap: node.info.addrs, token })
    let pid: string
    try {
      await setup.deploy('bench-connect', ECHO_APP)
      pid = await setup.create('bench-connect')
      await setup.invoke(pid, 'echo', PAYLOAD)
    } finally {
      await setup.close()
    }
    const samples = { connect: [] as number[], dial: [] as number[] }
    const count = plan.iterations > 10_000 ? SAMPLES.full : SAMPLES.quick
    // one warm-up round each: the first of either loads modules and warms the paths
    for (let i = -1; i < count; i++) {
      const connected = await timeConnect(node.info.addrs, token, pid)
      const dialled = await timeDial(target)
      if (i >= 0) {
        samples.connect.push(connected)
        samples.dial.push(dialled)
      }
    }
    process.stderr.write(`  praas.connect: ${count} connects and dials\n`)
    return { connect: { connect: summarize(samples.connect), dial: summarize(samples.dial) } }
  } finally {
    await stopChild(server)
    await node.stop()
  }
}
