import assert from 'node:assert/strict'
import { noise } from '@chainsafe/libp2p-noise'
import { tcp } from '@libp2p/tcp'
import { StreamState, YamuxStream } from '@libp2p/yamux/stream'
import { createLibp2p } from 'libp2p'
import { praasYamux } from '../../protocol/index.js'
import { bytes, until } from './helpers.js'
import type { Libp2p, Stream } from '@libp2p/interface'

const SINK = '/praas-test/sink/1.0.0'
/** Yamux's WindowUpdate frame type (the yamux spec: 0 data, 1 window update, 2 ping, 3 go away). */
const WINDOW_UPDATE = 1

type Muxer = typeof praasYamux

/**
 * Two peers over TCP + Noise + `muxer`; the server counts the bytes it receives on SINK and
 * the window updates its side of each stream sends (through the stream's own `sendFrame`).
 */
async function pair (muxer: Muxer): Promise<{ client: Libp2p, server: Libp2p, received: () => number, windowUpdates: () => number, streams: Stream[] }> {
  const server = await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [muxer()] })
  const client = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [muxer()] })
  let received = 0
  let windowUpdates = 0
  const streams: Stream[] = []
  await server.handle(SINK, (stream) => {
    streams.push(stream)
    const fields = stream as unknown as { sendFrame: (frame: { type: number }) => boolean }
    const send = fields.sendFrame
    fields.sendFrame = (frame) => {
      if (frame.type === WINDOW_UPDATE) windowUpdates++
      return send(frame)
    }
    stream.addEventListener('message', (evt) => { received += evt.data.byteLength })
  })
  return { client, server, received: () => received, windowUpdates: () => windowUpdates, streams }
}

/**
 * protocol/patches/muxer.ts replaces YamuxStream.prototype.sendWindowUpdate of @libp2p/yamux. These
 * tests fail when the upstream shape it relies on changes (the patch then leaves yamux as it is).
 */
describe('protocol/patches/muxer (lazy yamux window updates)', function () {
  this.timeout(30_000)
  const peers: Libp2p[] = []

  after(async () => {
    await Promise.all(peers.map(async p => { await p.stop() }))
  })

  it('finds the shape it patches in @libp2p/yamux: sendWindowUpdate, the window fields and StreamState', async () => {
    assert.equal(typeof YamuxStream.prototype.sendWindowUpdate, 'function')
    assert.equal(typeof StreamState.Established, 'number')
    const { client, server, received, streams } = await pair(praasYamux)
    peers.push(client, server)
    const stream = await client.dialProtocol(server.getMultiaddrs()[0], SINK)
    stream.send(bytes(10, 1))
    await until(() => received() === 10, 'the first bytes')
    const remote = streams[0] as unknown as Record<string, unknown>
    assert.ok(streams[0] instanceof YamuxStream, 'a handler gets the YamuxStream itself')
    assert.equal(remote.state, StreamState.Established)
    assert.equal(typeof remote.recvWindow, 'number')
    assert.equal(typeof remote.recvWindowCapacity, 'number')
    assert.equal(typeof remote.sendFrame, 'function')
  })

  // Stock @libp2p/yamux answers each of these messages with a window update (the patch is global
  // once applied, so this process cannot show it side by side); with the upstream fields renamed,
  // the patch falls back to the stock rule and this fails.
  it('sends no window update for small messages while more than half the window is left, and one once less is', async () => {
    const { client, server, received, windowUpdates } = await pair(praasYamux)
    peers.push(client, server)
    const stream = await client.dialProtocol(server.getMultiaddrs()[0], SINK)
    for (let i = 0; i < 100; i++) stream.send(bytes(64, i))
    await until(() => received() === 6400, '100 small messages')
    assert.equal(windowUpdates(), 0, 'window updates for 6.4 KB of a 256 KiB window')
    // past half the window the remote is given room again, and nothing stalls
    let sent = 6400
    while (sent < 1024 * 1024) {
      if (!stream.send(bytes(16 * 1024, 7))) await stream.onDrain()
      sent += 16 * 1024
    }
    await until(() => received() === sent, 'a megabyte more', 15_000)
    assert.ok(windowUpdates() >= 1, 'window updates once half the window was used')
  })
})
