import assert from 'node:assert/strict'
import { Socket } from 'node:net'
import { noise } from '@chainsafe/libp2p-noise'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { Uint8ArrayList } from 'uint8arraylist'
import { praasYamux } from '../../protocol/index.js'
import { NoiseFrameDecoder, sendLazily } from '../../protocol/patches/connection-tuning.js'
import { assertBytesEqual, bytes, until } from './helpers.js'
import type { Libp2p, Stream } from '@libp2p/interface'

const ECHO = '/praas-test/echo/1.0.0'

async function peer (listen: string[] = []): Promise<Libp2p> {
  return await createLibp2p({ addresses: { listen }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [praasYamux()] })
}

/** Collects what arrives on a stream. */
function collect (stream: Stream): Uint8ArrayList {
  const got = new Uint8ArrayList()
  stream.addEventListener('message', (evt) => { got.append(evt.data) })
  return got
}

/** 2-byte big-endian length + body, as Noise frames its messages. */
function noiseFrame (body: Uint8Array): Uint8Array {
  return Uint8Array.from([body.byteLength >> 8, body.byteLength & 0xff, ...body])
}

describe('protocol/connection-tuning', function () {
  this.timeout(20_000)
  let server: Libp2p
  let client: Libp2p

  before(async () => {
    server = await peer(['/ip4/127.0.0.1/tcp/0'])
    client = await peer()
    await server.handle(ECHO, (stream) => {
      stream.addEventListener('message', (evt) => { stream.send(evt.data) })
    })
  })

  after(async () => {
    await client?.stop()
    await server?.stop()
  })

  it('sends a small message over TCP + Noise + praasYamux with one socket write per side', async () => {
    const stream = await client.dialProtocol(server.getMultiaddrs()[0], ECHO)
    const got = collect(stream)
    stream.send(bytes(10, 1))
    await until(() => got.byteLength === 10, 'the first echo')
    // the muxer's lazy window updates and keep-alive pings stay out of the window measured here
    await new Promise((resolve) => setTimeout(resolve, 50))
    // each _write / _writev of a net.Socket is one system call (write / writev)
    const proto = Socket.prototype as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>
    const stock = { _write: proto._write, _writev: proto._writev }
    let writes = 0
    for (const name of ['_write', '_writev'] as const) {
      proto[name] = function (this: Socket, ...args: unknown[]) {
        writes++
        return stock[name].apply(this, args)
      }
    }
    try {
      stream.send(bytes(64, 2))
      await until(() => got.byteLength === 74, 'the second echo')
    } finally {
      Object.assign(proto, stock)
    }
    // stock @libp2p/tcp writes the 2-byte Noise length and the ciphertext separately: 4 writes
    assert.equal(writes, 2, 'socket system calls for one message and its echo')
    assertBytesEqual(got.subarray(10), bytes(64, 2))
    stream.abort(new Error('done'))
  })

  /** Counts the client's socket system calls while `run` runs (net.Socket _write / _writev). */
  async function clientWrites (run: () => Promise<void>): Promise<number> {
    const proto = Socket.prototype as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>
    const stock = { _write: proto._write, _writev: proto._writev }
    const serverPort = Number(/\/tcp\/(\d+)/.exec(server.getMultiaddrs()[0].toString())?.[1])
    let writes = 0
    for (const name of ['_write', '_writev'] as const) {
      proto[name] = function (this: Socket, ...args: unknown[]) {
        // the client's end: the socket whose remote port is the server's
        if (this.remotePort === serverPort) writes++
        return stock[name].apply(this, args)
      }
    }
    try {
      await run()
    } finally {
      Object.assign(proto, stock)
    }
    return writes
  }

  it('holds a lazy send until the next eager send on the connection, which carries both in one socket write', async () => {
    const a = await client.dialProtocol(server.getMultiaddrs()[0], ECHO)
    const b = await client.dialProtocol(server.getMultiaddrs()[0], ECHO)
    const gotA = collect(a)
    const gotB = collect(b)
    a.send(bytes(1, 1))
    b.send(bytes(1, 1))
    await until(() => gotA.byteLength === 1 && gotB.byteLength === 1, 'the first echoes')
    await new Promise((resolve) => setTimeout(resolve, 50))
    const writes = await clientWrites(async () => {
      sendLazily(() => a.send(bytes(16, 3)))
      b.send(bytes(32, 4))
      await until(() => gotA.byteLength === 17 && gotB.byteLength === 33, 'both echoes')
    })
    assert.equal(writes, 1, 'one socket write for the lazy send and the eager one after it')
    assertBytesEqual(gotA.subarray(1), bytes(16, 3))
    assertBytesEqual(gotB.subarray(1), bytes(32, 4))
    a.abort(new Error('done'))
    b.abort(new Error('done'))
  })

  it('sends a lazy send that no eager send follows at the end of the burst of work it was made in', async () => {
    const a = await client.dialProtocol(server.getMultiaddrs()[0], ECHO)
    const gotA = collect(a)
    a.send(bytes(1, 1))
    await until(() => gotA.byteLength === 1, 'the first echo')
    await new Promise((resolve) => setTimeout(resolve, 50))
    const writes = await clientWrites(async () => {
      sendLazily(() => a.send(bytes(8, 5)))
      sendLazily(() => a.send(bytes(8, 6)))
      await until(() => gotA.byteLength === 17, 'the echo of both')
    })
    assert.equal(writes, 1, 'the two lazy sends leave together')
    assertBytesEqual(gotA.subarray(1), new Uint8Array([...bytes(8, 5), ...bytes(8, 6)]))
    a.abort(new Error('done'))
  })

  it('carries messages of every size byte for byte, the big ones split across many Noise messages', async () => {
    const stream = await client.dialProtocol(server.getMultiaddrs()[0], ECHO)
    const got = collect(stream)
    const sizes = [1, 2, 100, 65_519, 65_535, 65_536, 200_000, 1024 * 1024 + 3]
    const sent = new Uint8ArrayList()
    for (const [i, size] of sizes.entries()) {
      const data = bytes(size, i + 1)
      sent.append(data)
      if (!stream.send(data)) await stream.onDrain()
    }
    await until(() => got.byteLength >= sent.byteLength, 'every echo', 15_000)
    assertBytesEqual(got.subarray(), sent.subarray(), 'echoed bytes')
    stream.abort(new Error('done'))
  })

  describe('NoiseFrameDecoder', () => {
    it('splits frames cut at any point, skips empty ones, and keeps the remainder', () => {
      const bodies = [bytes(1, 1), bytes(0), bytes(300, 2), bytes(65_535, 3), bytes(2, 4)]
      const wire = new Uint8ArrayList(...bodies.map(noiseFrame)).subarray()
      for (const cut of [1, 2, 3, 7, 301, 1000, 65_536, wire.byteLength]) {
        const decoder = new NoiseFrameDecoder(16 * 1024 * 1024)
        const frames: Uint8Array[] = []
        for (let offset = 0; offset < wire.byteLength; offset += cut) {
          for (const frame of decoder.decode(wire.subarray(offset, offset + cut))) frames.push(frame.subarray())
        }
        assert.equal(frames.length, 4, `frames with cuts every ${cut} bytes`)
        bodies.filter(b => b.byteLength > 0).forEach((body, i) => { assertBytesEqual(frames[i], body, `frame ${i}`) })
      }
    })

    it('starts from the bytes the stock decoder held, and throws past its buffer limit', () => {
      const held = new Uint8ArrayList(Uint8Array.of(0, 3, 9))
      const decoder = new NoiseFrameDecoder(10, held)
      assert.deepStrictEqual([...decoder.decode(Uint8Array.of(8, 7))].map(f => [...f.subarray()]), [[9, 8, 7]])
      assert.throws(() => decoder.decode(new Uint8Array(11)), RangeError)
    })
  })
})
