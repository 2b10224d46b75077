// A scale scenario, outside `npm test` (run it with `npm run test:scale`): sixteen node
// processes on one machine take a minute to settle and most of two cores while they do.
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { Client } from '../../sdk/index.js'
import { startCluster, stopCluster, waitForMesh } from '../helpers/cluster.js'
import { fixture } from '../helpers/paths.js'
import type { TestNode } from '../helpers/cluster.js'

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

describe('a mesh of sixteen node processes', function () {
  this.timeout(300_000)
  let nodes: TestNode[]

  after(async function () {
    if (nodes != null) await stopCluster(nodes)
  })

  it('forms, elects one leader and serves invocations on every node', async function () {
    nodes = await startCluster(16, [], 120_000)
    const leader = await waitForMesh(nodes, 120_000)
    assert.ok(nodes.some(n => n.peerId === leader))
    const client = await Client.connect({ bootstrap: [nodes[5].addrs[0]], token: nodes[5].token })
    try {
      await client.deploy('kit', await readFile(fixture('testkit')))
      for (const node of nodes) {
        const pid = await client.create('kit', { node: node.peerId })
        assert.equal(text(await client.invoke(pid, 'incr')), '1')
      }
    } finally {
      await client.close()
    }
  })
})
