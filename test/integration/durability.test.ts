import assert from 'node:assert/strict'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Record } from '@libp2p/kad-dht'
import { verifyLocation } from '../../protocol/location.js'
import { Client } from '../../sdk/index.js'
import { dumpOnFailure, eventually, placeOnEvery, startCluster, startNode, stopCluster, waitForMesh } from '../helpers/cluster.js'
import { fixture } from '../helpers/paths.js'
import { codeOf, pattern, text } from '../helpers/assertions.js'
import type { TestNode } from '../helpers/cluster.js'

async function statusOf (client: Client, pid: string): Promise<{ status: string, node: string } | undefined> {
  return (await client.list()).find(p => p.pid === pid)
}

describe('durable processes on node processes: swap, restore, migration, failures', function () {
  this.timeout(120_000)
  let nodes: TestNode[]
  let client: Client

  before(async function () {
    nodes = await startCluster(5, ['--function-timeout', '20000'])
    client = await Client.connect({ bootstrap: [nodes[0].addrs[0]], token: nodes[0].token })
    await client.deploy('kit', await readFile(fixture('testkit')))
    await placeOnEvery(client, nodes, 'kit')
  })

  afterEach(function () {
    dumpOnFailure(this, () => nodes)
  })

  after(async function () {
    await client?.close()
    if (nodes != null) await stopCluster(nodes)
  })

  it('keeps what the directory and the DHT hold of a swapped process in files, on every node', async function () {
    const pid = await client.create('kit', { node: nodes[2].peerId })
    await client.invoke(pid, 'put', JSON.stringify({ key: 'k', value: 'kept' }))
    await client.swap(pid)
    assert.equal((await statusOf(client, pid))?.status, 'swapped')
    // the swap image on the host, and the pid's DHT record in the record files of the nodes nearest its key (all five here)
    assert.equal((await readdir(join(nodes[2].dataDir, 'images'))).length > 0, true)
    // (the record's DHT put follows the create and the swap by a moment)
    const recordFiles = async (): Promise<number[]> => await Promise.all(nodes.map(async n => (await readdir(join(n.dataDir, 'dht-records', 'praas-dht', 'record')).catch(() => [])).length))
    await eventually(async () => (await recordFiles()).every(count => count > 0), 15_000, `record files on every node (now ${(await recordFiles()).join(' ')})`)
    assert.equal(text(await client.invoke(pid, 'get', 'k')), 'kept')
  })

  it('puts a tombstone for a process deleted while swapped, from the record its image keeps', async function () {
    const pid = await client.create('kit', { node: nodes[3].peerId })
    await client.invoke(pid, 'put', JSON.stringify({ key: 'k', value: 'gone soon' }))
    // what every node's DHT record files say of the pid
    const statuses = async (): Promise<string[]> => (await Promise.all(nodes.map(async n => {
      const dir = join(n.dataDir, 'dht-records', 'praas-dht', 'record')
      const files = await readdir(dir).catch(() => [])
      const found = await Promise.all(files.map(async f => {
        const location = await verifyLocation(Record.deserialize(await readFile(join(dir, f))).value).catch(() => undefined)
        return location?.pid === pid ? location.status : undefined
      }))
      return found.filter(s => s != null)
    }))).flat()
    const everywhere = async (status: string): Promise<void> => {
      await eventually(async () => { const now = await statuses(); return now.length > 0 && now.every(s => s === status) }, 15_000, `every record file of the pid saying ${status}`)
    }
    await client.swap(pid)
    // once the swapped record is put, its host keeps nothing of it in memory: the tombstone comes from the image
    await everywhere('swapped')
    await new Promise(resolve => setTimeout(resolve, 500))
    await client.delete(pid)
    await everywhere('deleted')
  })

  it('swaps out 8 MiB of state and restores it byte for byte', async function () {
    const pid = await client.create('kit', { node: nodes[1].peerId })
    const value = pattern(8 * 1024 * 1024)
    assert.equal(text(await client.invoke(pid, 'putRaw', value)), String(value.byteLength))
    await client.swap(pid)
    assert.equal((await statusOf(client, pid))?.status, 'swapped')
    assert.deepEqual(await client.invoke(pid, 'get', 'raw'), value)
    const restored = await statusOf(client, pid)
    assert.equal(restored?.status, 'active')
    // its replica holds the same copy in memory: the restore runs there, reading nothing from disk
    assert.notEqual(restored?.node, nodes[1].peerId)
  })

  it('keeps unread messages across a swap, and a message to a swapped process brings it back', async function () {
    const pid = await client.create('kit', { node: nodes[2].peerId })
    await client.send(pid, 'k', 'before the swap')
    await client.swap(pid)
    await client.send(pid, 'k', 'while swapped')
    assert.equal((await statusOf(client, pid))?.status, 'active')
    const first = JSON.parse(text(await client.invoke(pid, 'recvOne', JSON.stringify({ from: '*', key: 'k', timeoutMs: 5000 }))))
    const second = JSON.parse(text(await client.invoke(pid, 'recvOne', JSON.stringify({ from: '*', key: 'k', timeoutMs: 5000 }))))
    assert.deepEqual([first.text, second.text], ['before the swap', 'while swapped'])
  })

  it('migrates twice during a loop of increments: no call fails, the count equals the acknowledged increments', async function () {
    const pid = await client.create('kit', { node: nodes[1].peerId })
    let acknowledged = 0
    let failed = 0
    let stop = false
    const loop = (async () => {
      // eslint-disable-next-line no-unmodified-loop-condition -- the test sets it once its moves are done
      while (!stop) {
        try {
          await client.invoke(pid, 'incr')
          acknowledged++
        } catch (err) {
          failed++
          throw err
        }
      }
    })()
    await new Promise(resolve => setTimeout(resolve, 300))
    await client.migrate(pid, nodes[2].peerId)
    assert.equal((await statusOf(client, pid))?.node, nodes[2].peerId)
    await new Promise(resolve => setTimeout(resolve, 300))
    await client.migrate(pid, nodes[3].peerId)
    await new Promise(resolve => setTimeout(resolve, 300))
    stop = true
    await loop
    assert.equal(failed, 0)
    assert.ok(acknowledged > 10, `only ${acknowledged} increments ran`)
    assert.equal(text(await client.invoke(pid, 'get', 'n')), String(acknowledged))
    assert.equal((await statusOf(client, pid))?.node, nodes[3].peerId)
  })

  it('migrates a process holding 16 MiB while it keeps writing: the state arrives whole, with every acknowledged write', async function () {
    // The 16 MiB travel ahead of the pause (pre-copy) while increments and puts go on; what they
    // wrote meanwhile must reach the target too, and the big value must arrive unchanged.
    const pid = await client.create('kit', { node: nodes[3].peerId })
    const value = pattern(16 * 1024 * 1024)
    await client.invoke(pid, 'putRaw', value)
    let acknowledged = 0
    let stop = false
    const loops = [0, 1, 2].map(async (i) => {
      // eslint-disable-next-line no-unmodified-loop-condition -- the test sets it once the moves are done
      for (let round = 0; !stop; round++) {
        if (i === 0) {
          await client.invoke(pid, 'incr')
          acknowledged++
        } else {
          await client.invoke(pid, 'put', JSON.stringify({ key: `w${i}`, value: String(round) }))
        }
      }
    })
    await new Promise(resolve => setTimeout(resolve, 100))
    await client.migrate(pid, nodes[4].peerId)
    await new Promise(resolve => setTimeout(resolve, 100))
    stop = true
    await Promise.all(loops)
    assert.equal((await statusOf(client, pid))?.node, nodes[4].peerId)
    assert.ok(acknowledged > 5, `only ${acknowledged} increments ran`)
    assert.equal(text(await client.invoke(pid, 'get', 'n')), String(acknowledged))
    assert.deepEqual(await client.invoke(pid, 'get', 'raw'), value)
    assert.deepEqual(JSON.parse(text(await client.invoke(pid, 'keys'))), ['n', 'raw', 'w1', 'w2'])
    // and back again
    await client.migrate(pid, nodes[3].peerId)
    assert.equal(text(await client.invoke(pid, 'get', 'n')), String(acknowledged))
    assert.deepEqual(await client.invoke(pid, 'get', 'raw'), value)
  })

  it('loses no message sent during a migration, and keeps their order', async function () {
    const pid = await client.create('kit', { node: nodes[2].peerId })
    let sent = 0
    let stop = false
    const loop = (async () => {
      // eslint-disable-next-line no-unmodified-loop-condition -- the test sets it once its moves are done
      while (!stop) {
        await client.send(pid, 'k', String(sent))
        sent++
      }
    })()
    await new Promise(resolve => setTimeout(resolve, 200))
    await client.migrate(pid, nodes[1].peerId)
    await new Promise(resolve => setTimeout(resolve, 200))
    stop = true
    await loop
    assert.ok(sent > 10, `only ${sent} messages were sent`)
    for (let i = 0; i < sent; i++) {
      const message = JSON.parse(text(await client.invoke(pid, 'recvOne', JSON.stringify({ from: '*', key: 'k', timeoutMs: 5000 }))))
      assert.equal(message.text, String(i))
    }
  })

  it('refuses to migrate to a node that is not in the cluster', async function () {
    const pid = await client.create('kit', { node: nodes[1].peerId })
    assert.equal(await codeOf(client.migrate(pid, '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq')), 'NOT_FOUND')
    assert.equal(text(await client.invoke(pid, 'incr')), '1')
  })

  it('deletes a swapped process everywhere', async function () {
    const pid = await client.create('kit', { node: nodes[1].peerId })
    await client.invoke(pid, 'incr')
    await client.swap(pid)
    await client.delete(pid)
    assert.equal(await statusOf(client, pid), undefined)
    assert.equal(await codeOf(client.invoke(pid, 'get', 'n')), 'NOT_FOUND')
  })

  it('restores nothing while more members are silent than a process has copies, and all of it once they are back', async function () {
    const pid = await client.create('kit', { node: nodes[1].peerId })
    for (let i = 0; i < 3; i++) await client.invoke(pid, 'incr')
    await client.swap(pid)
    // two members gone at once: either may hold the newest copy (two copies, the host's included)
    await Promise.all([nodes[1].kill('SIGKILL'), nodes[2].kill('SIGKILL')])
    assert.equal(await codeOf(client.invoke(pid, 'get', 'n', { timeoutMs: 15_000 })), 'UNAVAILABLE')
    for (const i of [1, 2]) nodes[i] = await startNode({ dataDir: nodes[i].dataDir, bootstrap: [nodes[0].addrs[0]], join: nodes[0].token, args: ['--function-timeout', '20000'] })
    await waitForMesh(nodes)
    assert.equal(text(await client.invoke(pid, 'get', 'n')), '3')
  })

  it('brings back every acknowledged increment after its node is killed (SIGKILL)', async function () {
    const victim = nodes[4]
    const pid = await client.create('kit', { node: victim.peerId })
    for (let i = 0; i < 50; i++) await client.invoke(pid, 'incr')
    const value = pattern(64 * 1024, 5)
    await client.invoke(pid, 'putRaw', value)
    await victim.kill('SIGKILL')
    assert.equal(text(await client.invoke(pid, 'get', 'n')), '50')
    for (let read = 0; read < 2; read++) assert.deepEqual(await client.invoke(pid, 'get', 'raw'), value, `read ${read + 1} of a 64 KiB value`)
    const entry = await statusOf(client, pid)
    assert.notEqual(entry?.node, victim.peerId)
    assert.equal(text(await client.invoke(pid, 'incr')), '51')
    // gone for good, as an operator says: with two copies, a restore needs the answers of all members but one
    await client.removeNode(victim.peerId)
  })

  it('restores a swapped process elsewhere after the node that swapped it is killed', async function () {
    const victim = nodes[3]
    const pid = await client.create('kit', { node: victim.peerId })
    const value = pattern(1024 * 1024, 3)
    await client.invoke(pid, 'putRaw', value)
    await client.swap(pid)
    await victim.kill('SIGKILL')
    assert.deepEqual(await client.invoke(pid, 'get', 'raw'), value)
    // read again: a value restored from a replica is shared by it and the state, never handed away
    assert.deepEqual(await client.invoke(pid, 'get', 'raw'), value)
    await client.removeNode(victim.peerId)
  })

  it('keeps every process of a node stopped with SIGTERM', async function () {
    const leaving = nodes[2]
    const pids = await Promise.all([1, 2, 3].map(async () => await client.create('kit', { node: leaving.peerId })))
    for (const [i, pid] of pids.entries()) for (let n = 0; n <= i; n++) await client.invoke(pid, 'incr')
    assert.equal(await leaving.kill('SIGTERM'), 0)
    for (const [i, pid] of pids.entries()) assert.equal(text(await client.invoke(pid, 'get', 'n')), String(i + 1))
  })
})

describe('the idle policy', function () {
  this.timeout(60_000)
  let nodes: TestNode[] = []

  after(async function () {
    await stopCluster(nodes)
  })

  it('swaps a process idle past --swap-after, and the next call brings it back', async function () {
    const first = await startNode({ args: ['--swap-after', '500'] })
    nodes = [first]
    const client = await Client.connect({ bootstrap: [first.addrs[0]], token: first.token })
    try {
      await client.deploy('kit', await readFile(fixture('testkit')))
      const pid = await client.create('kit')
      await client.invoke(pid, 'incr')
      await eventually(async () => (await statusOf(client, pid))?.status === 'swapped', 10_000, 'the idle process being swapped')
      assert.equal(text(await client.invoke(pid, 'incr')), '2')
    } finally {
      await client.close()
    }
  })
})
