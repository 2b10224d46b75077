import assert from 'node:assert/strict'
import { noise } from '@chainsafe/libp2p-noise'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { clientServices } from '../../protocol/dht.js'
import { praasYamux } from '../../protocol/index.js'
import { fetchLocation } from '../../protocol/resolve.js'
import { mesh, stopAll, until } from '../cluster/mesh.js'
import type { MeshNode } from '../cluster/mesh.js'
import type { Libp2p } from '@libp2p/interface'
import type { SingleKadDHT } from '@libp2p/kad-dht'

describe('directory from an SDK client', function () {
  this.timeout(60_000)
  let nodes: MeshNode[]
  let client: Libp2p

  before(async () => {
    nodes = await mesh(3)
    client = await createLibp2p({
      addresses: { listen: [] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [praasYamux()],
      services: clientServices()
    })
    await until(() => nodes.every(n => (n.services.dht as SingleKadDHT).routingTable.size === 2), 'full DHT routing tables', 20_000)
    await client.dial(nodes[0].getMultiaddrs()[0])
  })

  after(async () => {
    await stopAll([client, ...nodes])
  })

  it('resolves a pid through the DHT from a client-mode peer that knows only one node', async () => {
    await nodes[2].services.directory.publish('from-client', { epoch: { term: 4, counter: 2 } })
    const started = performance.now()
    const found = await fetchLocation(client.contentRouting, 'from-client', { signal: AbortSignal.timeout(10_000) })
    const first = performance.now() - started
    assert.equal(found?.node, nodes[2].peerId.toString())
    const times: number[] = []
    for (let i = 0; i < 10; i++) {
      const t = performance.now()
      await fetchLocation(client.contentRouting, 'from-client', { signal: AbortSignal.timeout(10_000) })
      times.push(performance.now() - t)
    }
    times.sort((a, b) => a - b)
    console.log(`      client resolve: first ${first.toFixed(1)} ms, then p50 ${times[5].toFixed(1)} ms`)
  })

  it('resolves undefined for an unknown pid', async () => {
    assert.equal(await fetchLocation(client.contentRouting, 'unknown-to-all', { signal: AbortSignal.timeout(10_000) }), undefined)
  })
})
