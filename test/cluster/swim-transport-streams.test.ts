import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Libp2pDatagrams } from '../../node/cluster/swim/libp2p.js'
import type { Stream } from '@libp2p/interface'

/**
 * A stand-in for the libp2p stream the transport writes to: these tests are about what the
 * transport does when a stream ends without telling it (its close event never comes), which a
 * real connection produces only in rare races (a partition test: two nodes held each other dead
 * for two minutes while their other protocols went through).
 */
class SilentStream extends EventTarget {
  sent = 0
  writableNeedsDrain = false
  constructor (public status: string) { super() }
  send (): boolean {
    if (this.status !== 'open') throw new Error(`stream ${this.status}`)
    this.sent++
    return true
  }

  abort (): void { this.status = 'aborted' }
  async close (): Promise<void> { this.status = 'closed' }
}

async function transport (streams: SilentStream[]): Promise<{ datagrams: Libp2pDatagrams, opened: () => number }> {
  let opened = 0
  const datagrams = new Libp2pDatagrams({
    logger: defaultLogger(),
    connectionManager: {
      openStream: async () => {
        const next = streams[opened++]
        if (next == null) throw new Error('no more streams')
        return next as unknown as Stream
      }
    },
    registrar: { handle: async () => {}, unhandle: async () => {} }
  }, { retryAfterMs: 20 })
  await datagrams.start()
  return { datagrams, opened: () => opened }
}

const tick = async (ms = 0): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

describe('cluster/swim transport: streams that end silently', () => {
  let peer: string
  before(async () => { peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString() })

  it('leaves a stream that ended without its close event, and sends the next message on a new one', async () => {
    const first = new SilentStream('open')
    const second = new SilentStream('open')
    const { datagrams, opened } = await transport([first, second])
    try {
      datagrams.send(peer, Uint8Array.of(1))
      await tick()
      assert.equal(first.sent, 1)
      first.status = 'closed'
      datagrams.send(peer, Uint8Array.of(2))
      await tick()
      assert.equal(opened(), 2, 'a new stream was opened')
      assert.equal(second.sent, 1, 'the message went out on it')
    } finally {
      await datagrams.stop()
    }
  })

  it('refuses a stream that is closed already when its open resolves, and opens another after the retry delay', async () => {
    const dead = new SilentStream('closed')
    const good = new SilentStream('open')
    const { datagrams, opened } = await transport([dead, good])
    try {
      datagrams.send(peer, Uint8Array.of(1))
      await tick()
      await tick(40)
      datagrams.send(peer, Uint8Array.of(2))
      await tick()
      assert.equal(opened(), 2)
      assert.equal(good.sent, 1)
    } finally {
      await datagrams.stop()
    }
  })
})
