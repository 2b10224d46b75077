import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { parseHttpAddress } from '../../node/http/address.js'
import { MeshView } from '../../node/http/mesh.js'
import { NodeMetrics } from '../../node/http/metrics.js'
import { HttpEndpoint } from '../../node/http/server.js'
import type { HttpAddress } from '../../node/http/address.js'
import type { Authorize } from '../../node/http/server.js'
import type { AddressInfo } from 'node:net'

const STATS = { active: 2, swapped: 1, callsTotal: 10, callsPerSecond: 1.5, mailboxBytes: 64, http: '' }

/** An endpoint over a mesh of one node (this one), with real metrics. */
function endpoint (address: HttpAddress, authorize?: Authorize): HttpEndpoint {
  const mesh = new MeshView({
    selfId: 'self',
    selfAddrs: () => ['/ip4/127.0.0.1/tcp/1/p2p/self'],
    members: () => [],
    leader: () => ({ leader: 'self', term: 3 }),
    selfBeat: () => undefined,
    stats: () => STATS,
    fetch: async () => { throw new Error('no other node') }
  })
  return new HttpEndpoint({ address, authorize, metrics: new NodeMetrics(), mesh, health: () => ({ ok: true }) })
}

describe('node/http endpoint', () => {
  it('parses --http, and refuses what is not HOST:PORT', () => {
    assert.deepEqual(parseHttpAddress(undefined), { host: '127.0.0.1', port: 4080, fallback: true })
    assert.deepEqual(parseHttpAddress('0.0.0.0:9100'), { host: '0.0.0.0', port: 9100, fallback: false })
    assert.deepEqual(parseHttpAddress('[::1]:80'), { host: '::1', port: 80, fallback: false })
    assert.equal(parseHttpAddress('off'), undefined)
    for (const bad of ['4080', 'host', 'host:', 'host:99999', ':80', 'a b:1']) {
      assert.throws(() => parseHttpAddress(bad), { code: 'BAD_REQUEST' }, bad)
    }
  })

  it('passes the bearer token to its authorize hook, and answers 401 when it says no', async () => {
    const seen: Array<string | undefined> = []
    const http = endpoint({ host: '127.0.0.1', port: 0, fallback: false }, async (bearer) => {
      seen.push(bearer)
      return bearer === 'good'
    })
    const url = await http.start()
    try {
      const none = await fetch(`${url}api/mesh`)
      assert.equal(none.status, 401)
      assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/)
      assert.equal((await fetch(`${url}metrics`, { headers: { authorization: 'Bearer bad' } })).status, 401)
      const good = await fetch(`${url}api/mesh`, { headers: { authorization: 'Bearer good' } })
      assert.equal(good.status, 200)
      const mesh = await good.json()
      assert.deepEqual({ leader: mesh.leader, term: mesh.term, stats: mesh.nodes[0].stats }, { leader: 'self', term: 3, stats: STATS })
      assert.deepEqual(seen, [undefined, 'bad', 'good'])
      // the page and the health check carry no figures
      assert.equal((await fetch(url)).status, 200)
      assert.equal((await fetch(`${url}healthz`)).status, 200)
    } finally {
      await http.stop()
    }
  })

  it('takes a free port when the default one is taken, and keeps a port asked for', async () => {
    const blocker = createServer()
    await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as AddressInfo).port
    try {
      const fallback = endpoint({ host: '127.0.0.1', port, fallback: true })
      const url = await fallback.start()
      assert.notEqual(new URL(url).port, String(port))
      await fallback.stop()
      await assert.rejects(endpoint({ host: '127.0.0.1', port, fallback: false }).start(), { code: 'EADDRINUSE' })
    } finally {
      blocker.close()
    }
  })

  it('reports calls per second over the last seconds without a timer of its own, and 0 once they stop', async function () {
    this.timeout(20_000)
    const metrics = new NodeMetrics()
    assert.equal(metrics.callRate().perSecond, 0)
    // 20 calls in each of three seconds
    for (let second = 0; second < 3; second++) {
      for (let i = 0; i < 20; i++) metrics.call('app', 'fn', 'ok', performance.now())
      await new Promise(resolve => setTimeout(resolve, 1000))
    }
    const busy = metrics.callRate()
    assert.equal(busy.total, 60)
    assert.ok(busy.perSecond > 10 && busy.perSecond < 40, `${busy.perSecond} calls per second`)
    // six quiet seconds later the window holds no call
    await new Promise(resolve => setTimeout(resolve, 6000))
    assert.equal(metrics.callRate().perSecond, 0)
    assert.equal(metrics.callRate().total, 60)
  })

  it('reports 0 calls per second once the window holds no call, when the last calls came just after a sample', async function () {
    this.timeout(20_000)
    const metrics = new NodeMetrics()
    metrics.callRate()
    for (let i = 0; i < 20; i++) metrics.call('app', 'fn', 'ok', performance.now())
    await new Promise(resolve => setTimeout(resolve, 1100))
    // a sample is taken with the first of these, none with the rest or the read just after
    for (let i = 0; i < 20; i++) metrics.call('app', 'fn', 'ok', performance.now())
    await new Promise(resolve => setTimeout(resolve, 400))
    assert.ok(metrics.callRate().perSecond > 0)
    await new Promise(resolve => setTimeout(resolve, 6000))
    assert.deepEqual(metrics.callRate(), { total: 40, perSecond: 0 })
  })
})
