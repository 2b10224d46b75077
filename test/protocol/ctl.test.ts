import assert from 'node:assert/strict'
import { lpStream } from '@libp2p/utils'
import {
  CtlRequest, decodeCtlResponse, ERROR_CODES, MAX_APP_SOURCE_BYTES, MAX_CTL_MESSAGE_BYTES, PraasError, ProcessStatus,
  requestCtl, serveCtlStream
} from '../../protocol/index.js'
import { assertBytesEqual, bytes, pair, rejectsCode, until } from './helpers.js'
import type { CtlResponse } from '../../protocol/index.js'

type Handler = Parameters<typeof serveCtlStream>[1]

const bounded = (): { signal: AbortSignal } => ({ signal: AbortSignal.timeout(20_000) })

/** Serves one control stream and counts the requests its handler saw. */
async function serve (handler: Handler): Promise<{ client: Awaited<ReturnType<typeof pair>>[0], seen: CtlRequest[], served: Promise<void> }> {
  const [client, server] = await pair()
  const seen: CtlRequest[] = []
  const served = serveCtlStream(server, async (request, options) => { seen.push(request); return handler(request, options) }, bounded())
  return { client, seen, served }
}

describe('protocol/ctl', function () {
  this.timeout(20_000)

  it('round trips a request and its response, then closes the stream on both ends', async () => {
    const { client, seen, served } = await serve(async (request) => ({
      processes: [{ pid: request.pid, app: request.app, status: ProcessStatus.SWAPPED, node: 'n1', addrs: ['/ip4/127.0.0.1/tcp/1'] }],
      hash: request.hash
    }))
    const response = await requestCtl(client, { op: CtlRequest.Op.LOCATE, app: 'counter', pid: 'c-1', hash: 'ab'.repeat(32), local: true }, bounded())
    await served
    assert.deepStrictEqual(seen.map((r) => [r.op, r.app, r.pid, r.local]), [[CtlRequest.Op.LOCATE, 'counter', 'c-1', true]])
    assert.equal(response.error, undefined)
    assert.deepStrictEqual(response.processes, [{ pid: 'c-1', app: 'counter', status: ProcessStatus.SWAPPED, node: 'n1', addrs: ['/ip4/127.0.0.1/tcp/1'] }])
    assert.equal(response.hash, 'ab'.repeat(32))
    await until(() => client.status === 'closed', 'the client stream to close')
  })

  it('carries an app source of exactly MAX_APP_SOURCE_BYTES each way', async () => {
    const { client, seen } = await serve(async (request) => ({ source: request.source }))
    const source = bytes(MAX_APP_SOURCE_BYTES, 3) as Uint8Array<ArrayBuffer>
    const response = await requestCtl(client, { op: CtlRequest.Op.DEPLOY, app: 'big', source }, bounded())
    assertBytesEqual(seen[0].source, source, 'source received')
    assertBytesEqual(response.source, source, 'source returned')
  })

  for (const code of ERROR_CODES) {
    it(`gives the caller a ${code} thrown by the handler as ${code}, with its message`, async () => {
      const { client } = await serve(async () => { throw new PraasError(code, `because ${code}`) })
      const err = await rejectsCode(requestCtl(client, { op: CtlRequest.Op.CREATE, app: 'a' }, bounded()), code)
      assert.equal(err.message, `because ${code}`)
      assert.notEqual(client.status, 'open')
    })
  }

  it('answers an app source over MAX_APP_SOURCE_BYTES with TOO_LARGE, without calling the handler', async () => {
    const { client, seen } = await serve(async () => ({}))
    const source = new Uint8Array(MAX_APP_SOURCE_BYTES + 1)
    await rejectsCode(requestCtl(client, { op: CtlRequest.Op.DEPLOY, app: 'a', source }, bounded()), 'TOO_LARGE')
    assert.equal(seen.length, 0)
  })

  it('answers a request over MAX_CTL_MESSAGE_BYTES with TOO_LARGE, without calling the handler', async () => {
    const { client, seen } = await serve(async () => ({}))
    const source = new Uint8Array(MAX_CTL_MESSAGE_BYTES + 1)
    await rejectsCode(requestCtl(client, { op: CtlRequest.Op.DEPLOY, app: 'a', source }, bounded()), 'TOO_LARGE')
    assert.equal(seen.length, 0)
  })

  it('answers bytes that are not a control request with BAD_REQUEST, without calling the handler', async () => {
    const { client, seen } = await serve(async () => ({}))
    const lp = lpStream(client)
    await lp.write(Uint8Array.of(0x08, 0x63, 0xff), bounded())
    const response: CtlResponse = decodeCtlResponse(await lp.read(bounded()))
    assert.equal(response.error?.code, 'BAD_REQUEST')
    assert.equal(seen.length, 0)
  })

  it('fails with TIMEOUT when no answer comes in time, and aborts the stream', async () => {
    const [client] = await pair()
    await rejectsCode(requestCtl(client, { op: CtlRequest.Op.PING }, { signal: AbortSignal.timeout(50) }), 'TIMEOUT')
    assert.equal(client.status, 'aborted')
  })

  it('fails with UNAVAILABLE when the remote resets the stream instead of answering', async () => {
    const [client, server] = await pair()
    const call = requestCtl(client, { op: CtlRequest.Op.PING }, bounded())
    await until(() => server.readBufferLength > 0, 'the request to arrive')
    server.abort(new Error('going away'))
    await rejectsCode(call, 'UNAVAILABLE')
  })
})
