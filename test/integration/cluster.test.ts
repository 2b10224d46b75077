import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Client, PraasError } from '../../sdk/index.js'
import { placeOnEvery, startCluster, stopCluster } from '../helpers/cluster.js'
import { EXAMPLES, fixture } from '../helpers/paths.js'
import { codeOf, pattern, text } from '../helpers/assertions.js'
import type { TestNode } from '../helpers/cluster.js'

describe('a cluster of three node processes, driven through the SDK', function () {
  this.timeout(60_000)
  let nodes: TestNode[]
  let client: Client

  before(async function () {
    nodes = await startCluster(3, ['--function-timeout', '20000'])
    client = await Client.connect({ bootstrap: [nodes[0].addrs[0]], token: nodes[0].token })
    await client.deploy('counter', await readFile(join(EXAMPLES, 'counter', 'index.js')))
    await client.deploy('kit', await readFile(fixture('testkit')))
    await placeOnEvery(client, nodes, 'kit')
  })

  after(async function () {
    await client?.close()
    if (nodes != null) await stopCluster(nodes)
  })

  it('reads back 100 after 100 increments of the counter example', async function () {
    const pid = await client.create('counter')
    for (let i = 0; i < 100; i++) await client.invoke(pid, 'incr')
    assert.equal(text(await client.invoke(pid, 'get')), '100')
  })

  it('runs 64 concurrent calls of one process, each seeing the writes acknowledged before it', async function () {
    const pid = await client.create('kit', { node: nodes[1].peerId })
    await Promise.all(Array.from({ length: 64 }, async (_, i) => {
      await client.invoke(pid, 'put', JSON.stringify({ key: `k${i}`, value: `v${i}` }))
      // This call starts after its own write was acknowledged, so it must see it.
      assert.equal(text(await client.invoke(pid, 'get', `k${i}`)), `v${i}`)
    }))
    assert.deepEqual(JSON.parse(text(await client.invoke(pid, 'keys'))), Array.from({ length: 64 }, (_, i) => `k${i}`).sort())
  })

  it('places a process on the node asked for and lists it there', async function () {
    const pid = await client.create('kit', { node: nodes[2].peerId, pid: `placed-${Date.now()}` })
    const entry = (await client.list()).find(p => p.pid === pid)
    assert.deepEqual(entry, { pid, app: 'kit', status: 'active', node: nodes[2].peerId })
    assert.equal(text(await client.invoke(pid, 'whoami')), JSON.stringify({ pid, app: 'kit' }))
  })

  it('spreads processes created without a node over the cluster', async function () {
    for (let i = 0; i < 6; i++) await client.create('kit')
    const hosts = new Set((await client.list()).map(p => p.node))
    assert.equal(hosts.size, 3)
  })

  it('returns a 1 MiB payload byte for byte, and a 1 MiB result', async function () {
    const pid = await client.create('kit', { node: nodes[1].peerId })
    const payload = pattern(1024 * 1024)
    assert.deepEqual(await client.invoke(pid, 'echo', payload), payload)
    assert.deepEqual(await client.invoke(pid, 'blob', String(1024 * 1024)), pattern(1024 * 1024))
  })

  it('refuses a 17 MiB payload with TOO_LARGE and serves the next call', async function () {
    const pid = await client.create('kit')
    assert.equal(await codeOf(client.invoke(pid, 'echo', new Uint8Array(17 * 1024 * 1024))), 'TOO_LARGE')
    assert.equal(text(await client.invoke(pid, 'echo', 'next')), 'next')
  })

  it('answers every error case with its code and stays usable', async function () {
    const pid = await client.create('kit', { node: nodes[2].peerId })
    assert.equal(await codeOf(client.invoke('no-such-pid', 'echo')), 'NOT_FOUND')
    assert.equal(await codeOf(client.invoke(pid, 'no_such_fn')), 'NOT_FOUND')
    assert.equal(await codeOf(client.create('no-such-app')), 'NOT_FOUND')
    assert.equal(await codeOf(client.invoke(pid, 'boom', 'x')), 'FUNCTION_ERROR')
    assert.equal(await codeOf(client.invoke(pid, 'nap', '5000', { timeoutMs: 300 })), 'TIMEOUT')
    assert.equal(await codeOf(client.invoke('x'.repeat(129), 'echo')), 'BAD_REQUEST')
    assert.equal(await codeOf(client.deploy('broken', 'export function (')), 'BAD_REQUEST')
    assert.equal(await codeOf(client.create('kit', { pid })), 'BAD_REQUEST')
    assert.equal(await codeOf(client.create('kit', { node: '12D3KooWNotANodeOfThisCluster' })), 'NOT_FOUND')
    assert.equal(text(await client.invoke(pid, 'echo', 'after all that')), 'after all that')
  })

  it('stops a runaway function with TIMEOUT while a neighbour on the same node answers', async function () {
    const runaway = await client.create('kit', { node: nodes[1].peerId })
    const neighbour = await client.create('kit', { node: nodes[1].peerId })
    let settled = false
    const spinning = codeOf(client.invoke(runaway, 'spin', '', { timeoutMs: 8000 })).finally(() => { settled = true })
    await new Promise(resolve => setTimeout(resolve, 100))
    assert.equal(text(await client.invoke(neighbour, 'echo', 'hi')), 'hi')
    assert.equal(settled, false, 'the neighbour answered while the runaway call was still running')
    assert.equal(await spinning, 'TIMEOUT')
    assert.equal(text(await client.invoke(runaway, 'incr')), '1')
  })

  it('invokes across nodes with ctx.invoke', async function () {
    const target = await client.create('counter', { node: nodes[2].peerId })
    const caller = await client.create('kit', { node: nodes[0].peerId })
    assert.equal(text(await client.invoke(caller, 'call', JSON.stringify({ pid: target, fn: 'incr' }))), '1')
    assert.equal(text(await client.invoke(caller, 'call', JSON.stringify({ pid: target, fn: 'incr' }))), '2')
    assert.equal(await codeOf(client.invoke(caller, 'call', JSON.stringify({ pid: 'nobody', fn: 'incr' }))), 'NOT_FOUND')
  })

  it('deletes a process everywhere', async function () {
    const pid = await client.create('kit', { node: nodes[1].peerId })
    await client.delete(pid)
    assert.equal(await codeOf(client.invoke(pid, 'echo')), 'NOT_FOUND')
    assert.equal((await client.list()).some(p => p.pid === pid), false)
  })

  it('keeps invoking a process on another node after the bootstrap node dies', async function () {
    const other = await Client.connect({ bootstrap: [nodes[0].addrs[0]], token: nodes[0].token })
    try {
      const pid = await other.create('counter', { node: nodes[2].peerId })
      assert.equal(text(await other.invoke(pid, 'incr')), '1')
      await nodes[0].kill('SIGKILL')
      assert.equal(text(await other.invoke(pid, 'incr')), '2')
    } finally {
      await other.close()
    }
  })
})

describe('connecting', function () {
  it('fails with UNAVAILABLE when no bootstrap node answers', async function () {
    const err = await Client.connect({ bootstrap: ['/ip4/127.0.0.1/tcp/1/p2p/12D3KooWGC6TvWhfapngX6wvJHMYvKpDMXPb3ZnCZ6dMoaMtimQ5'], timeoutMs: 2000 }).catch((e: unknown) => e)
    assert.ok(err instanceof PraasError)
    assert.equal(err.code, 'UNAVAILABLE')
  })

  it('fails with BAD_REQUEST for a malformed bootstrap address', async function () {
    const err = await Client.connect({ bootstrap: ['not a multiaddr'] }).catch((e: unknown) => e)
    assert.ok(err instanceof PraasError)
    assert.equal(err.code, 'BAD_REQUEST')
  })
})
