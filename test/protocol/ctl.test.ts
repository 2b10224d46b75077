import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import {
  CtlChannels, CtlRequest, ERROR_CODES, InvokeChannel, MAX_APP_SOURCE_BYTES, MAX_CTL_MESSAGE_BYTES, PraasError, ProcessStatus,
  serveCtlStream
} from '../../protocol/index.js'
import { assertBytesEqual, bytes, pair, rejectsCode, until } from './helpers.js'
import type { CtlHandler } from '../../protocol/index.js'
import type { Stream } from '@libp2p/interface'

const LIMIT = { timeoutMs: 20_000 }
/** Never dialled: the opener hands out the stream pair's end. */
const TARGET = [multiaddr('/ip4/127.0.0.1/tcp/9')]

/** A node's control stream served through `handler`, and a CtlChannels whose one stream is the other end. */
async function serve (handler: CtlHandler, options = { timeoutMs: 20_000 }): Promise<{ ctl: CtlChannels, client: Stream, server: Stream, seen: CtlRequest[], dials: () => number }> {
  const [client, server] = await pair()
  const seen: CtlRequest[] = []
  serveCtlStream(server, async (request, opts) => { seen.push(request); return await handler(request, opts) }, options)
  let dialled = 0
  const ctl = new CtlChannels(async () => {
    dialled++
    if (dialled > 1) throw new Error('the node is gone')
    return client
  })
  return { ctl, client, server, seen, dials: () => dialled }
}

describe('protocol/ctl', function () {
  this.timeout(20_000)

  it('round trips requests and responses on one stream, opened once', async () => {
    const { ctl, client, seen, dials } = await serve(async (request) => ({
      processes: [{ pid: request.pid, app: request.app, status: ProcessStatus.SWAPPED, node: 'n1', addrs: ['/ip4/127.0.0.1/tcp/1'] }],
      hash: request.hash
    }))
    for (const pid of ['c-1', 'c-2']) {
      const response = await ctl.request('n1', TARGET, { op: CtlRequest.Op.LOCATE, app: 'counter', pid, hash: 'ab'.repeat(32), local: true }, LIMIT)
      assert.equal(response.error, undefined)
      assert.deepStrictEqual(response.processes, [{ pid, app: 'counter', status: ProcessStatus.SWAPPED, node: 'n1', addrs: ['/ip4/127.0.0.1/tcp/1'] }])
      assert.equal(response.hash, 'ab'.repeat(32))
    }
    assert.deepStrictEqual(seen.map((r) => [r.op, r.app, r.pid, r.local]), [[CtlRequest.Op.LOCATE, 'counter', 'c-1', true], [CtlRequest.Op.LOCATE, 'counter', 'c-2', true]])
    assert.equal(dials(), 1)
    assert.equal(client.status, 'open')
  })

  it('answers concurrent requests each with its own response, whatever order they finish in', async () => {
    const { ctl } = await serve(async (request) => {
      await new Promise(resolve => setTimeout(resolve, 40 - request.pid.length * 10))
      return { hash: request.pid }
    })
    const answers = await Promise.all(['a', 'bb', 'ccc'].map(async pid => (await ctl.request('n1', TARGET, { op: CtlRequest.Op.LOCATE, pid }, LIMIT)).hash))
    assert.deepStrictEqual(answers, ['a', 'bb', 'ccc'])
  })

  it('carries an app source of exactly MAX_APP_SOURCE_BYTES each way', async () => {
    const { ctl, seen } = await serve(async (request) => ({ source: request.source }))
    const source = bytes(MAX_APP_SOURCE_BYTES, 3) as Uint8Array<ArrayBuffer>
    const response = await ctl.request('n1', TARGET, { op: CtlRequest.Op.DEPLOY, app: 'big', source }, LIMIT)
    assertBytesEqual(seen[0].source, source, 'source received')
    assertBytesEqual(response.source, source, 'source returned')
  })

  for (const code of ERROR_CODES) {
    it(`gives the caller a ${code} thrown by the handler as ${code}, with its message, and keeps the stream`, async () => {
      const { ctl, client } = await serve(async (request) => {
        if (request.op === CtlRequest.Op.CREATE) throw new PraasError(code, `because ${code}`)
        return {}
      })
      const err = await rejectsCode(ctl.request('n1', TARGET, { op: CtlRequest.Op.CREATE, app: 'a' }, LIMIT), code)
      assert.equal(err.message, `because ${code}`)
      await ctl.request('n1', TARGET, { op: CtlRequest.Op.PING }, LIMIT)
      assert.equal(client.status, 'open')
    })
  }

  it('gives a handler failure that is not a PraasError as UNAVAILABLE', async () => {
    const { ctl } = await serve(async () => { throw new TypeError('oops') })
    await rejectsCode(ctl.request('n1', TARGET, { op: CtlRequest.Op.PING }, LIMIT), 'UNAVAILABLE')
  })

  it('refuses an app source over MAX_APP_SOURCE_BYTES with TOO_LARGE, without calling the handler', async () => {
    const { ctl, seen } = await serve(async () => ({}))
    const source = new Uint8Array(MAX_APP_SOURCE_BYTES + 1)
    await rejectsCode(ctl.request('n1', TARGET, { op: CtlRequest.Op.DEPLOY, app: 'a', source }, LIMIT), 'TOO_LARGE')
    assert.equal(seen.length, 0)
  })

  it('answers a request over MAX_CTL_MESSAGE_BYTES sent anyway with TOO_LARGE, without calling the handler', async () => {
    const { client, seen } = await serve(async () => ({}))
    const channel = new InvokeChannel(client)
    const payload = CtlRequest.encode({ op: CtlRequest.Op.DEPLOY, app: 'a', source: new Uint8Array(MAX_CTL_MESSAGE_BYTES) })
    await rejectsCode(channel.call({ pid: '', fn: 'ctl', payload, timeoutMs: 0 }, LIMIT), 'TOO_LARGE')
    assert.equal(seen.length, 0)
  })

  it('answers bytes that are not a control request, or another call, with BAD_REQUEST, without calling the handler', async () => {
    const { client, seen } = await serve(async () => ({}))
    const channel = new InvokeChannel(client)
    await rejectsCode(channel.call({ pid: '', fn: 'ctl', payload: Uint8Array.of(0x08, 0x63, 0xff), timeoutMs: 0 }, LIMIT), 'BAD_REQUEST')
    await rejectsCode(channel.call({ pid: '', fn: 'deploy', payload: new Uint8Array(0), timeoutMs: 0 }, LIMIT), 'BAD_REQUEST')
    assert.equal(seen.length, 0)
  })

  it('fails with TIMEOUT when no answer comes in time, cancels the request on the node, and keeps the stream', async () => {
    let cancelled = false
    const { ctl, client } = await serve(async (request, { signal }) => {
      if (request.op === CtlRequest.Op.PING) return {}
      await new Promise<void>(resolve => signal?.addEventListener('abort', () => { cancelled = true; resolve() }))
      return {}
    })
    await rejectsCode(ctl.request('n1', TARGET, { op: CtlRequest.Op.LIST }, { timeoutMs: 50 }), 'TIMEOUT')
    await until(() => cancelled, 'the node to see the cancel')
    await ctl.request('n1', TARGET, { op: CtlRequest.Op.PING }, LIMIT)
    assert.equal(client.status, 'open')
  })

  it("stops the node's handler at the node's own limit", async () => {
    const { ctl } = await serve(async (_request, { signal }) => {
      await new Promise((resolve, reject) => signal?.addEventListener('abort', () => { reject(new PraasError('TIMEOUT', 'too slow')) }))
      return {}
    }, { timeoutMs: 50 })
    await rejectsCode(ctl.request('n1', TARGET, { op: CtlRequest.Op.LIST }, LIMIT), 'TIMEOUT')
  })

  it('fails with UNAVAILABLE when the node resets the stream instead of answering, and when it cannot be dialled again', async () => {
    const { ctl, server, seen } = await serve(async () => await new Promise(() => {}))
    const call = ctl.request('n1', TARGET, { op: CtlRequest.Op.PING }, LIMIT)
    await until(() => seen.length > 0, 'the request to arrive')
    server.abort(new Error('going away'))
    await rejectsCode(call, 'UNAVAILABLE')
    await rejectsCode(ctl.request('n1', TARGET, { op: CtlRequest.Op.PING }, LIMIT), 'UNAVAILABLE')
  })
})
