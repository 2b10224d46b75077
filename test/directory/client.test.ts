import assert from 'node:assert/strict'
import { noise } from '@chainsafe/libp2p-noise'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { clientServices } from '../../protocol/dht.js'
import { praasYamux } from '../../protocol/index.js'
import { fetchLocation } from '../../protocol/resolve.js'
import { granted, mesh, stopAll, until } from '../cluster/mesh.js'
import type { MeshNode } from '../cluster/mesh.js'
import type { Libp2p } from '@libp2p/interface'
import type { SingleKadDHT } from '@libp2p/kad-dht'

describe('directory seen from a peer that is not a member', function () {
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

  it('learns nothing from the DHT: its queries are refused, and no member puts it in a routing table', async () => {
    await nodes[2].services.directory.publish('from-client', { epoch: granted(nodes[2], 'from-client', 4, 2) })
    // the members resolve it
    const found = await nodes[0].services.directory.resolve('from-client', { fresh: true, signal: AbortSignal.timeout(10_000) })
    assert.equal(found?.node, nodes[2].peerId.toString())
    // a client-mode DHT peer dialled to a member gets nothing
    const outcome = await fetchLocation(client.contentRouting, 'from-client', { signal: AbortSignal.timeout(5_000) }).then(v => v, (err: Error) => err)
    assert.ok(outcome === undefined || outcome instanceof Error, `a non-member read ${JSON.stringify(outcome)}`)
    for (const node of nodes) assert.ok(!(await (node.services.dht as unknown as { routingTable: { find(p: unknown): Promise<unknown> } }).routingTable.find(client.peerId)), 'the client is in a routing table')
  })
})
