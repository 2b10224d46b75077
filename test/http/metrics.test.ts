import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { Client } from '../../sdk/index.js'
import { attenuateToken } from '../../protocol/token.js'
import { eventually, startCluster, startNode, stopCluster } from '../helpers/cluster.js'
import { fixture } from '../helpers/paths.js'
import { parseMetrics, valueOf } from './prometheus.js'
import type { TestNode } from '../helpers/cluster.js'

interface NodeJson { http?: string }

async function get (url: string, headers: Record<string, string> = {}): Promise<{ status: number, type: string, body: string }> {
  const res = await fetch(url, { headers })
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() }
}

describe('a node\'s HTTP endpoint (one node process)', function () {
  this.timeout(60_000)
  let node: TestNode
  let url: string
  let client: Client

  before(async function () {
    node = await startNode({ args: ['--http', '127.0.0.1:0', '--replicas', '1'] })
    const info = JSON.parse(await readFile(`${node.dataDir}/node.json`, 'utf8')) as NodeJson
    assert.match(info.http ?? '', /^http:\/\/127\.0\.0\.1:\d+\/$/, 'node.json names the endpoint')
    url = info.http!
    client = await Client.connect({ bootstrap: [node.addrs[0]], token: node.token })
    await client.deploy('testkit', await readFile(fixture('testkit')))
  })

  after(async function () {
    await client?.close()
    if (node != null) await stopCluster([node])
  })

  it('counts every call by app, function and outcome, and times each in the histogram', async function () {
    const pid = await client.create('testkit')
    const before = parseMetrics((await get(`${url}metrics`)).body)
    const calls = 37
    for (let i = 0; i < calls; i++) await client.invoke(pid, 'echo', `call ${i}`)
    const failures = 3
    for (let i = 0; i < failures; i++) await assert.rejects(client.invoke(pid, 'boom'), { code: 'FUNCTION_ERROR' })
    const res = await get(`${url}metrics`)
    assert.equal(res.status, 200)
    assert.match(res.type, /^text\/plain/)
    const after = parseMetrics(res.body)
    const moved = (name: string, labels: Record<string, string>): number => valueOf(after, name, labels) - valueOf(before, name, labels)
    assert.equal(moved('praas_calls_total', { app: 'testkit', fn: 'echo', outcome: 'ok' }), calls)
    assert.equal(moved('praas_calls_total', { app: 'testkit', fn: 'boom', outcome: 'FUNCTION_ERROR' }), failures)
    assert.equal(moved('praas_call_duration_seconds_count', { app: 'testkit', fn: 'echo' }), calls)
    assert.equal(moved('praas_call_duration_seconds_bucket', { app: 'testkit', fn: 'echo', le: '+Inf' }), calls)
    assert.ok(moved('praas_call_duration_seconds_sum', { app: 'testkit', fn: 'echo' }) > 0)
    assert.equal(valueOf(after, 'praas_processes', { status: 'active' }), 1)
  })

  it('counts swaps and restores, and shows the process swapped in between', async function () {
    const pid = await client.create('testkit')
    await client.invoke(pid, 'incr')
    const before = parseMetrics((await get(`${url}metrics`)).body)
    await client.swap(pid)
    const swapped = parseMetrics((await get(`${url}metrics`)).body)
    assert.equal(valueOf(swapped, 'praas_swaps_total', { outcome: 'ok' }) - valueOf(before, 'praas_swaps_total', { outcome: 'ok' }), 1)
    assert.equal(valueOf(swapped, 'praas_swap_duration_seconds_count') - valueOf(before, 'praas_swap_duration_seconds_count'), 1)
    assert.equal(valueOf(swapped, 'praas_processes', { status: 'swapped' }), valueOf(before, 'praas_processes', { status: 'swapped' }) + 1)
    assert.equal(new TextDecoder().decode(await client.invoke(pid, 'incr')), '2')
    const restored = parseMetrics((await get(`${url}metrics`)).body)
    assert.equal(valueOf(restored, 'praas_restores_total', { outcome: 'ok' }) - valueOf(before, 'praas_restores_total', { outcome: 'ok' }), 1)
  })

  it('serves the leader and term, libp2p\'s own metrics and the process\'s', async function () {
    const samples = parseMetrics((await get(`${url}metrics`)).body)
    assert.equal(valueOf(samples, 'praas_leader'), 1, 'a node alone leads')
    assert.ok(valueOf(samples, 'praas_leader_term') >= 1)
    assert.equal(valueOf(samples, 'praas_cluster_members'), 1)
    assert.ok(valueOf(samples, 'praas_connected_peers') >= 1, 'the test\'s client is connected')
    assert.ok(samples.some(s => s.name.startsWith('libp2p_')), 'libp2p metrics')
    assert.ok(samples.some(s => s.name === 'process_cpu_user_seconds_total'), 'process metrics')
  })

  it('answers /healthz, the web view, and 404 elsewhere', async function () {
    const health = await get(`${url}healthz`)
    assert.equal(health.status, 200)
    assert.equal(JSON.parse(health.body).peerId, node.peerId)
    const page = await get(url)
    assert.equal(page.status, 200)
    assert.match(page.body, /<title>praas mesh<\/title>/)
    const mesh = JSON.parse((await get(`${url}api/mesh`)).body)
    assert.equal(mesh.self, node.peerId)
    assert.deepEqual(mesh.nodes.map((n: { peerId: string }) => n.peerId), [node.peerId])
    assert.equal((await get(`${url}nothing`)).status, 404)
    assert.equal((await fetch(`${url}metrics`, { method: 'POST' })).status, 405)
  })

  it('refuses a request under a name other than loopback\'s (DNS rebinding)', async function () {
    const { request } = await import('node:http')
    const status = await new Promise<number>((resolve, reject) => {
      request(`${url}metrics`, { headers: { host: 'evil.example:80' } }, res => { res.resume(); resolve(res.statusCode ?? 0) }).on('error', reject).end()
    })
    assert.equal(status, 421)
  })
})

describe('a node\'s HTTP endpoint bound to a non-loopback address', function () {
  this.timeout(60_000)

  it('asks for a token before it shows any figure', async function () {
    // all interfaces; the test itself talks to it over loopback only
    const node = await startNode({ args: ['--http', '0.0.0.0:0'] })
    try {
      const info = JSON.parse(await readFile(`${node.dataDir}/node.json`, 'utf8')) as NodeJson
      const local = info.http!.replace('0.0.0.0', '127.0.0.1')
      for (const path of ['metrics', 'api/mesh']) {
        const res = await get(`${local}${path}`)
        assert.equal(res.status, 401, path)
        const withToken = await get(`${local}${path}`, { authorization: 'Bearer not-a-token' })
        assert.equal(withToken.status, 401, `${path} with a token nobody verifies`)
        const status = attenuateToken(node.token, { rights: ['status'], ttlMs: 60_000 })
        assert.equal((await get(`${local}${path}`, { authorization: `Bearer ${status}` })).status, 200, `${path} with a token of the status right`)
        const other = attenuateToken(node.token, { rights: ['invoke'], ttlMs: 60_000 })
        assert.equal((await get(`${local}${path}`, { authorization: `Bearer ${other}` })).status, 401, `${path} with a token without the status right`)
      }
      assert.equal((await get(`${local}healthz`)).status, 200)
    } finally {
      await stopCluster([node])
    }
  })
})

describe('a node\'s metrics in a two-node cluster', function () {
  this.timeout(90_000)
  let nodes: TestNode[] = []
  let client: Client

  before(async function () {
    nodes = await startCluster(2, ['--http', '127.0.0.1:0', '--replicas', '2'])
    client = await Client.connect({ bootstrap: [nodes[0].addrs[0]], token: nodes[0].token })
    await client.deploy('testkit', await readFile(fixture('testkit')))
  })

  after(async function () {
    await client?.close()
    await stopCluster(nodes)
  })

  const scrape = async (node: TestNode): Promise<ReturnType<typeof parseMetrics>> => {
    const info = JSON.parse(await readFile(`${node.dataDir}/node.json`, 'utf8')) as NodeJson
    return parseMetrics((await get(`${info.http!}metrics`)).body)
  }

  /**
   * Metrics once the replication round trips stop changing: a call whose result its replica
   * pushed can return before its host has the replica's answer, and counts the round trip then.
   */
  const settled = async (node: TestNode): Promise<ReturnType<typeof parseMetrics>> => {
    let last = await scrape(node)
    for (let i = 0; i < 50; i++) {
      await new Promise(resolve => setTimeout(resolve, 100))
      const now = await scrape(node)
      if (valueOf(now, 'praas_replication_round_trip_seconds_count') === valueOf(last, 'praas_replication_round_trip_seconds_count')) return now
      last = now
    }
    return last
  }

  it('counts the replication round trips of acknowledged writes, and a live migration', async function () {
    const pid = await eventuallyCreate(client, nodes[0].peerId)
    await client.invoke(pid, 'incr')
    const before = await settled(nodes[0])
    const writes = 5
    for (let i = 0; i < writes; i++) await client.invoke(pid, 'incr')
    const after = await settled(nodes[0])
    const trips = valueOf(after, 'praas_replication_round_trips_total', { outcome: 'ok' }) - valueOf(before, 'praas_replication_round_trips_total', { outcome: 'ok' })
    // each sequential write is replicated before its call returns: one round trip each
    assert.equal(trips, writes)
    assert.equal(valueOf(after, 'praas_replication_round_trip_seconds_count') - valueOf(before, 'praas_replication_round_trip_seconds_count'), writes)
    await client.migrate(pid, nodes[1].peerId)
    const moved = await scrape(nodes[0])
    assert.equal(valueOf(moved, 'praas_migrations_total', { outcome: 'ok' }) - valueOf(after, 'praas_migrations_total', { outcome: 'ok' }), 1)
    assert.equal(valueOf(moved, 'praas_migration_duration_seconds_count') - valueOf(after, 'praas_migration_duration_seconds_count'), 1)
    assert.equal(valueOf(moved, 'praas_cluster_members'), 2)
    assert.equal(new TextDecoder().decode(await client.invoke(pid, 'incr')), String(writes + 2))
  })
})

/** Places a process on `node` once the mesh lets it (the app reaches the other node in the background). */
async function eventuallyCreate (client: Client, node: string): Promise<string> {
  let pid = ''
  await eventually(async () => { pid = await client.create('testkit', { node }); return true }, 15_000, `placing on ${node}`)
  return pid
}
