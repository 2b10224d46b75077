import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { Client } from '../../sdk/index.js'
import { attenuateToken } from '../../protocol/token.js'
import { dumpOnFailure, eventually, startCluster, startNode, stopCluster } from '../helpers/cluster.js'
import { fixture } from '../helpers/paths.js'
import { codeOf, text } from '../helpers/assertions.js'
import type { TestNode } from '../helpers/cluster.js'

const V1 = 'export async function hello () { return "v1" }\n'
const V2 = 'export async function hello () { return "v2" }\nexport async function added () { return "new" }\n'

/**
 * Issue 16 item 2: apps reach every node that needs them, joined before or after the deploy, or
 * down during it; a node is usable through any other node once it has written node.json.
 */
describe('apps on nodes that join after a deploy or miss one', function () {
  this.timeout(180_000)
  let nodes: TestNode[]
  let admin: Client
  const clients: Client[] = []

  async function connect (node: TestNode, token = nodes[0].token): Promise<Client> {
    const client = await Client.connect({ bootstrap: [node.addrs[0]], token })
    clients.push(client)
    return client
  }

  before(async function () {
    nodes = await startCluster(2)
    admin = await connect(nodes[0])
    await admin.deploy('kit', await readFile(fixture('testkit')))
    await admin.deploy('hello', V1)
  })

  afterEach(function () {
    dumpOnFailure(this, () => nodes)
  })

  after(async function () {
    for (const client of clients) await client.close().catch(() => {})
    if (nodes != null) await stopCluster(nodes)
  })

  it('creates a process of an app deployed before the node joined, through it, as soon as it wrote node.json', async function () {
    const there = await connect(nodes[1])
    const late = await startNode({ bootstrap: [nodes[0].addrs[0]], join: nodes[0].token })
    nodes.push(late)
    // placed on the new node through another node (not the one it joined through)
    const onLate = await there.create('kit', { node: late.peerId })
    assert.equal((await there.list()).find(p => p.pid === onLate)?.node, late.peerId)
    assert.equal(text(await there.invoke(onLate, 'incr')), '1')
    // and through the new node itself
    const viaLate = await connect(late)
    const pid = await viaLate.create('kit')
    assert.equal(text(await viaLate.invoke(pid, 'incr')), '1')
    assert.equal(text(await viaLate.invoke(await viaLate.create('hello', { node: late.peerId }), 'hello')), 'v1')
  })

  it('brings a node that was down during a deploy and a redeploy up to date before it says it is ready', async function () {
    const down = nodes[1]
    assert.equal(await down.kill('SIGTERM'), 0)
    await admin.deploy('hello', V2)
    await admin.deploy('fresh', V1)
    const back = await startNode({ dataDir: down.dataDir })
    nodes[1] = back
    const client = await connect(back)
    const fresh = await client.create('fresh', { node: back.peerId })
    assert.equal(text(await client.invoke(fresh, 'hello')), 'v1')
    const hello = await client.create('hello', { node: back.peerId })
    assert.equal(text(await client.invoke(hello, 'hello')), 'v2')
    assert.equal(text(await client.invoke(hello, 'added')), 'new')
  })

  it('gives a node that fetches an app its owner: another client may not replace it there', async function () {
    const alice = await connect(nodes[0], attenuateToken(nodes[0].token, { rights: ['deploy', 'create', 'invoke'], ttlMs: 600_000 }))
    await alice.deploy('alices', V1)
    const late = await startNode({ bootstrap: [nodes[0].addrs[0]], join: nodes[0].token })
    nodes.push(late)
    const bob = await connect(late, attenuateToken(nodes[0].token, { rights: ['deploy'], ttlMs: 600_000 }))
    assert.equal(await codeOf(bob.deploy('alices', V2)), 'UNAUTHORIZED')
    const aliceThere = await connect(late, attenuateToken(nodes[0].token, { rights: ['invoke', 'create'], ttlMs: 600_000 }))
    const pid = await aliceThere.create('alices', { node: late.peerId })
    assert.equal(text(await aliceThere.invoke(pid, 'hello')), 'v1')
  })

  it('runs the current version of an app on every node, whenever it joined', async function () {
    const last = nodes[nodes.length - 1]
    const client = await connect(last)
    await eventually(async () => (await client.status()).nodes.length === nodes.length, 20_000, 'the mesh to see every node')
    for (const node of nodes) {
      const pid = await client.create('hello', { node: node.peerId })
      assert.equal(text(await client.invoke(pid, 'hello')), 'v2', `the current version on ${node.peerId}`)
    }
  })
})
