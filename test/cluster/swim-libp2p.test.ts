import assert from 'node:assert/strict'
import { noise } from '@chainsafe/libp2p-noise'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { encode as varintEncode } from 'uint8-varint'
import { SWIM_PROTOCOL, swim } from '../../node/cluster/swim/index.js'
import { praasYamux } from '../../protocol/index.js'
import { stopAll, until } from './mesh.js'
import type { StatusChange, SwimService } from '../../node/cluster/swim/index.js'
import type { Libp2p, PrivateKey } from '@libp2p/interface'

type SwimPeer = Libp2p<{ swim: SwimService }>

async function peer (privateKey: PrivateKey, roster: Set<string>): Promise<SwimPeer> {
  return await createLibp2p({
    privateKey,
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [praasYamux()],
    connectionManager: { inboundConnectionThreshold: 10_000 },
    services: { swim: swim({ roster: () => roster }) }
  }) as SwimPeer
}

/** Stops a peer without its leave message, as if its process had been killed. */
async function crash (node: SwimPeer): Promise<void> {
  node.services.swim.beforeStop = async () => {}
  await node.stop()
}

// Real libp2p peers (TCP, Noise, yamux) on loopback, in this process, running the SWIM service.
describe('swim over libp2p', function () {
  this.timeout(60_000)
  let nodes: SwimPeer[] = []

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  async function cluster (size: number): Promise<SwimPeer[]> {
    const keys = await Promise.all(Array.from({ length: size }, async () => await generateKeyPair('Ed25519')))
    const roster = new Set(keys.map(k => peerIdFromPrivateKey(k).toString()))
    nodes = await Promise.all(keys.map(async k => await peer(k, roster)))
    // each dials the first only, as a bootstrap address would; addresses of the rest come in SWIM records
    await Promise.all(nodes.slice(1).map(async n => await n.dial(nodes[0].getMultiaddrs()[0])))
    const id = (n: SwimPeer): string => n.peerId.toString()
    await until(() => nodes.every(a => nodes.every(b => a.services.swim.status(id(b)) === 'alive')), 'every peer alive everywhere', 15_000)
    return nodes
  }

  it('finds every member from one bootstrap peer, with its addresses', async () => {
    const all = await cluster(4)
    for (const node of all) assert.equal(node.services.swim.alive().length, 3)
    // a record travels apart from liveness (at most one change per record interval), so it may
    // come a little after the member is known alive
    const hasAddrs = (node: SwimPeer, other: SwimPeer): boolean => (node.services.swim.record(other.peerId.toString())?.addrs.length ?? 0) > 0
    await until(() => all.every(node => all.every(other => node === other || hasAddrs(node, other))), 'every record with addresses everywhere', 15_000)
  })

  it('detects a killed peer: suspect, then dead, everywhere', async () => {
    const all = await cluster(4)
    const victim = all[2]
    const observers = all.filter(n => n !== victim)
    const seen: StatusChange[] = []
    for (const n of observers) n.services.swim.swim.addEventListener('member:status', (evt) => { if (evt.detail.id === victim.peerId.toString()) seen.push(evt.detail) })
    await crash(victim)
    await until(() => observers.every(n => n.services.swim.status(victim.peerId.toString()) === 'dead'), 'dead everywhere', 20_000)
    assert.ok(seen.some(c => c.status === 'suspect'), 'suspected first')
    assert.ok(seen.every(c => !c.left))
    assert.ok(observers.every(a => observers.every(b => a.services.swim.status(b.peerId.toString()) === 'alive')), 'the others stay alive')
  })

  it('marks a peer that stops gracefully as having left', async () => {
    const all = await cluster(3)
    const leaver = all[1]
    const others = all.filter(n => n !== leaver)
    await leaver.stop()
    await until(() => others.every(n => n.services.swim.swim.member(leaver.peerId.toString())?.left === true), 'left everywhere', 10_000)
  })

  it('drops messages to a member it cannot reach (a bounded queue while the dial fails, then refusal)', async () => {
    const keys = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519')])
    const roster = new Set(keys.map(k => peerIdFromPrivateKey(k).toString()))
    nodes = [await peer(keys[0], roster)]
    const transport = nodes[0].services.swim.transport
    const nowhere = peerIdFromPrivateKey(keys[1]).toString()
    const before = transport.dropped
    for (let i = 0; i < 100; i++) transport.send(nowhere, new Uint8Array(10))
    // 32 queued while the open fails, then dropped with it; the rest refused at once
    await until(() => transport.dropped - before >= 100, 'all 100 dropped', 10_000)
  })

  it('resets an inbound stream whose length prefix exceeds the message limit', async () => {
    const all = await cluster(2)
    const [a, b] = all
    const stream = await a.dialProtocol(b.peerId, SWIM_PROTOCOL)
    const closed = new Promise<void>((resolve) => { stream.addEventListener('close', () => { resolve() }) })
    stream.send(varintEncode(64 * 1024 + 1))
    stream.send(new Uint8Array(100))
    await closed
    assert.equal(b.services.swim.status(a.peerId.toString()), 'alive', 'the members still hear each other')
  })
})
