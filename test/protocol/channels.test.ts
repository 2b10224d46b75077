import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { INVOKE_PROTOCOL, InvokeChannels, serveInvokeStream } from '../../protocol/index.js'
import { pair, rejectsCode, until } from './helpers.js'
import type { StreamOpener } from '../../protocol/index.js'
import type { Stream } from '@libp2p/interface'

const addrs = [multiaddr('/ip4/127.0.0.1/tcp/4001')]
const bounded = (): { signal: AbortSignal } => ({ signal: AbortSignal.timeout(20_000) })
const text = (s: string): Uint8Array => new TextEncoder().encode(s)

/** An opener that dials in-memory echo servers and remembers what it was asked for. */
function opener (): { open: StreamOpener, dials: Array<{ protocol: string, count: number }>, servers: Stream[] } {
  const state = { dials: [] as Array<{ protocol: string, count: number }>, servers: [] as Stream[], open: null as unknown as StreamOpener }
  state.open = async (to, protocol) => {
    state.dials.push({ protocol, count: Array.isArray(to) ? to.length : 1 })
    await new Promise((resolve) => setTimeout(resolve, 5))
    const [client, server] = await pair()
    serveInvokeStream(server, async ({ payload }) => payload)
    state.servers.push(server)
    return client
  }
  return state
}

describe('protocol/channels', () => {
  it('opens one invoke stream per peer, shared by concurrent first calls', async () => {
    const dialer = opener()
    const channels = new InvokeChannels(dialer.open)
    const [one, two] = await Promise.all([channels.get('peerA', addrs, bounded()), channels.get('peerA', addrs, bounded())])
    assert.equal(one, two)
    assert.equal(await channels.get('peerA', addrs, bounded()), one)
    assert.deepStrictEqual(dialer.dials, [{ protocol: INVOKE_PROTOCOL, count: 1 }])
    assert.equal(new TextDecoder().decode(await one.call({ pid: 'p', fn: 'f', payload: text('hi'), timeoutMs: 0 }, bounded())), 'hi')
    assert.notEqual(await channels.get('peerB', addrs, bounded()), one)
    assert.equal(dialer.dials.length, 2)
  })

  it('opens a new stream after the old one dies', async () => {
    const dialer = opener()
    const channels = new InvokeChannels(dialer.open)
    const first = await channels.get('peerA', addrs, bounded())
    dialer.servers[0].abort(new Error('gone'))
    await until(() => !first.isOpen, 'the channel to notice')
    const second = await channels.get('peerA', addrs, bounded())
    assert.notEqual(second, first)
    assert.ok(second.isOpen)
    assert.equal(dialer.dials.length, 2)
  })

  it('fails with UNAVAILABLE when no address is known for the peer', async () => {
    const dialer = opener()
    await rejectsCode(new InvokeChannels(dialer.open).get('peerA', [], bounded()), 'UNAVAILABLE')
    assert.equal(dialer.dials.length, 0)
  })

  it('fails with UNAVAILABLE when the dial fails, and dials again on the next call', async () => {
    let fail = true
    const dialer = opener()
    const channels = new InvokeChannels(async (to, protocol, options) => {
      if (fail) throw new Error('connection refused')
      return dialer.open(to, protocol, options)
    })
    await rejectsCode(channels.get('peerA', addrs, bounded()), 'UNAVAILABLE')
    fail = false
    assert.ok((await channels.get('peerA', addrs, bounded())).isOpen)
  })

  it('closes and forgets a dropped channel, and every channel on closeAll', async () => {
    const dialer = opener()
    const channels = new InvokeChannels(dialer.open)
    const a = await channels.get('peerA', addrs, bounded())
    const b = await channels.get('peerB', addrs, bounded())
    channels.drop('peerA')
    assert.equal(a.isOpen, false)
    assert.notEqual(await channels.get('peerA', addrs, bounded()), a)
    channels.closeAll()
    assert.equal(b.isOpen, false)
    assert.equal(dialer.dials.length, 3)
  })
})
