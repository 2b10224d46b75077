import assert from 'node:assert/strict'
import {
  Cancellation, InvokeChannel, InvokeFrame, MAX_ERROR_MESSAGE_LENGTH, MAX_PAYLOAD_BYTES, PraasError, serveInvokeStream, wasUnsent, writeFrame
} from '../../protocol/index.js'
import { assertBytesEqual, assertPraasError, bytes, pair, record, rejectsCode, until } from './helpers.js'
import type { InvokeHandler, InvokeRequest } from '../../protocol/index.js'
import type { Stream } from '@libp2p/interface'

const MiB = 1024 * 1024
const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const str = (b: Uint8Array): string => new TextDecoder().decode(b)

/** A call that hangs fails the test in seconds rather than at the suite timeout. */
const bounded = (): { signal: AbortSignal } => ({ signal: AbortSignal.timeout(20_000) })

const request = (payload: Uint8Array | string = '', fn = 'echo'): InvokeRequest =>
  ({ pid: 'p1', fn, payload: typeof payload === 'string' ? text(payload) : payload, timeoutMs: 0 })

const echo: InvokeHandler = async ({ payload }) => payload

interface Served { channel: InvokeChannel, client: Stream, server: Stream, closes: number[] }

async function serve (handler: InvokeHandler): Promise<Served> {
  const [client, server] = await pair()
  serveInvokeStream(server, handler)
  const closes: number[] = []
  const channel = new InvokeChannel(client, () => { closes.push(Date.now()) })
  return { channel, client, server, closes }
}

/** A handler that runs until its signal aborts, and says when it started and why it stopped. */
function stuck (): { handler: InvokeHandler, started: number, reasons: unknown[] } {
  const state = { started: 0, reasons: [] as unknown[], handler: null as unknown as InvokeHandler }
  state.handler = async (_request, { signal }) => {
    state.started++
    return new Promise((_resolve, reject) => {
      signal.addEventListener('abort', () => { state.reasons.push(signal.reason); reject(signal.reason) }, { once: true })
    })
  }
  return state
}

describe('protocol/invoke', function () {
  this.timeout(20_000)

  it('returns the handler result to the caller, with pid, fn and timeoutMs handed to the handler', async () => {
    const seen: InvokeRequest[] = []
    const { channel } = await serve(async (req) => { seen.push(req); return text(`hello ${str(req.payload)}`) })
    const out = await channel.call({ pid: 'counter-1', fn: 'greet', payload: text('bob'), timeoutMs: 750 }, bounded())
    assert.equal(str(out), 'hello bob')
    assert.deepStrictEqual(seen.map((r) => [r.pid, r.fn, r.timeoutMs]), [['counter-1', 'greet', 750]])
    assert.equal(channel.inflight, 0)
  })

  it('answers 64 concurrent calls each with its own result, whatever order they finish in', async () => {
    const { channel } = await serve(async ({ pid, fn, payload }) => {
      await new Promise((resolve) => setTimeout(resolve, (payload[0] * 7) % 23))
      return text(`${pid}/${fn}/${payload[0]}`)
    })
    const calls = Array.from({ length: 64 }, async (_, i) => channel.call({ pid: `p${i}`, fn: `f${i % 5}`, payload: Uint8Array.of(i), timeoutMs: 0 }, bounded()))
    assert.equal(channel.inflight, 64)
    const results = await Promise.all(calls)
    assert.deepStrictEqual(results.map(str), results.map((_, i) => `p${i}/f${i % 5}/${i}`))
    assert.equal(channel.inflight, 0)
  })

  it('gives the caller the code and message of a PraasError the handler throws', async () => {
    const { channel } = await serve(async () => { throw new PraasError('NOT_FOUND', 'no function nope') })
    const err = await rejectsCode(channel.call(request('', 'nope'), bounded()), 'NOT_FOUND')
    assert.equal(err.message, 'no function nope')
  })

  it('turns a plain Error thrown by the handler into FUNCTION_ERROR carrying its message', async () => {
    const { channel } = await serve(async () => { throw new TypeError('x is not a function') })
    const err = await rejectsCode(channel.call(request(), bounded()), 'FUNCTION_ERROR')
    assert.equal(err.message, 'x is not a function')
  })

  it('cuts an error message to 4096 characters rather than losing the answer', async () => {
    const { channel } = await serve(async () => { throw new Error('e'.repeat(10_000)) })
    const err = await rejectsCode(channel.call(request(), bounded()), 'FUNCTION_ERROR')
    assert.equal(err.message, 'e'.repeat(MAX_ERROR_MESSAGE_LENGTH))
  })

  it('keeps the channel usable after a failed call', async () => {
    const { channel } = await serve(async ({ payload }) => { if (payload.byteLength === 0) throw new Error('empty'); return payload })
    await rejectsCode(channel.call(request(), bounded()), 'FUNCTION_ERROR')
    assert.equal(str(await channel.call(request('again'), bounded())), 'again')
  })

  it('round trips a 1 MiB payload byte for byte', async () => {
    const { channel } = await serve(echo)
    const payload = bytes(MiB, 42)
    assertBytesEqual(await channel.call(request(payload), bounded()), payload)
  })

  it('answers a small call while a large result is still being sent', async () => {
    const { channel } = await serve(async ({ fn, payload }) => fn === 'big' ? bytes(8 * MiB) : payload)
    const order: string[] = []
    const big = channel.call(request('', 'big'), bounded()).then((out) => { order.push('big'); return out })
    await new Promise((resolve) => setTimeout(resolve, 2))
    const small = channel.call(request('small'), bounded()).then((out) => { order.push('small'); return out })
    const [bigOut, smallOut] = await Promise.all([big, small])
    assert.equal(bigOut.byteLength, 8 * MiB)
    assert.equal(str(smallOut), 'small')
    assert.deepStrictEqual(order, ['small', 'big'])
  })

  it('rejects a payload over 16 MiB locally with TOO_LARGE, sends nothing, and the next call works', async () => {
    let runs = 0
    const { channel } = await serve(async ({ payload }) => { runs++; return payload })
    await rejectsCode(channel.call(request(new Uint8Array(17 * MiB)), bounded()), 'TOO_LARGE')
    assert.equal(channel.inflight, 0)
    assert.equal(str(await channel.call(request('next'), bounded())), 'next')
    assert.equal(runs, 1)
  })

  it('accepts a payload of exactly 16 MiB', async () => {
    const { channel } = await serve(async ({ payload }) => text(String(payload.byteLength)))
    assert.equal(str(await channel.call(request(new Uint8Array(MAX_PAYLOAD_BYTES)), bounded())), String(MAX_PAYLOAD_BYTES))
  })

  it('fails a call whose result is over 16 MiB with TOO_LARGE', async () => {
    const { channel } = await serve(async () => new Uint8Array(MAX_PAYLOAD_BYTES + 1))
    await rejectsCode(channel.call(request(), bounded()), 'TOO_LARGE')
  })

  it('answers a request that declares more than 16 MiB with TOO_LARGE, without running the handler', async () => {
    const [client, server] = await pair()
    let runs = 0
    serveInvokeStream(server, async ({ payload }) => { runs++; return payload })
    const rec = record(client)
    writeFrame(client, { id: 5, kind: InvokeFrame.Kind.REQUEST, pid: 'p', fn: 'f', size: MAX_PAYLOAD_BYTES + 1, chunk: bytes(10), more: true })
    await until(() => rec.messages.length === 1, 'the answer')
    const { head } = rec.messages[0]
    assert.deepStrictEqual([head.id, head.kind, head.error?.code], [5, InvokeFrame.Kind.RESPONSE, 'TOO_LARGE'])
    assert.equal(runs, 0)
  })

  it('rejects an aborted call with TIMEOUT and aborts the handler on the other end (CANCEL)', async () => {
    const handler = stuck()
    const { channel } = await serve(async (req, options) => req.fn === 'stuck' ? handler.handler(req, options) : req.payload)
    const controller = new AbortController()
    const call = channel.call(request('', 'stuck'), { signal: controller.signal })
    await until(() => handler.started === 1, 'the handler to start')
    controller.abort()
    await rejectsCode(call, 'TIMEOUT')
    await until(() => handler.reasons.length === 1, 'the handler to be aborted')
    assertPraasError(handler.reasons[0], 'TIMEOUT')
    assert.equal(channel.inflight, 0)
    assert.equal(str(await channel.call(request('after'), bounded())), 'after')
  })

  it('is cancelled by a Cancellation given as `cancel`, as by a signal, without making the Cancellation\'s signal', async () => {
    const handler = stuck()
    const { channel } = await serve(async (req, options) => req.fn === 'stuck' ? handler.handler(req, options) : req.payload)
    const cancel = new Cancellation()
    let signalMade = false
    const signal = Object.getOwnPropertyDescriptor(Cancellation.prototype, 'signal')!.get!
    Object.defineProperty(cancel, 'signal', { get () { signalMade = true; return signal.call(cancel) } })
    const call = channel.call(request('', 'stuck'), { cancel, timeoutMs: 20_000 })
    await until(() => handler.started === 1, 'the handler to start')
    cancel.abort(new PraasError('TIMEOUT', 'the calling function ended'))
    await rejectsCode(call, 'TIMEOUT')
    await until(() => handler.reasons.length === 1, 'the handler to be aborted')
    assert.equal(channel.inflight, 0)
    assert.equal(str(await channel.call(request('after'), { cancel: new Cancellation(), timeoutMs: 20_000 })), 'after')
    await rejectsCode(channel.call(request('late'), { cancel }), 'TIMEOUT')
    assert.equal(signalMade, false)
  })

  it('rejects a call whose time limit passes with TIMEOUT', async () => {
    const { channel } = await serve(stuck().handler)
    await rejectsCode(channel.call(request(), { signal: AbortSignal.timeout(30) }), 'TIMEOUT')
  })

  it('rejects a call made with an already aborted signal with TIMEOUT, sending nothing', async () => {
    const handler = stuck()
    const { channel } = await serve(handler.handler)
    await rejectsCode(channel.call(request(), { signal: AbortSignal.abort() }), 'TIMEOUT')
    await new Promise((resolve) => setTimeout(resolve, 20))
    assert.deepStrictEqual([handler.started, channel.inflight], [0, 0])
  })

  it('rejects every pending call with UNAVAILABLE when the remote end resets the stream', async () => {
    const handler = stuck()
    const { channel, server, closes } = await serve(handler.handler)
    const calls = [1, 2, 3].map(async () => channel.call(request(), bounded()))
    await until(() => handler.started === 3, 'the handlers to start')
    server.abort(new Error('node going away'))
    for (const call of calls) await rejectsCode(call, 'UNAVAILABLE')
    assert.deepStrictEqual([channel.isOpen, channel.inflight, closes.length], [false, 0, 1])
    assert.equal(handler.reasons.length, 3, 'the server aborted its running handlers')
    await rejectsCode(channel.call(request(), bounded()), 'UNAVAILABLE')
  })

  it('rejects pending calls with UNAVAILABLE when the channel is closed, and aborts them on the other end', async () => {
    const handler = stuck()
    const { channel } = await serve(handler.handler)
    const call = channel.call(request(), bounded())
    await until(() => handler.started === 1, 'the handler to start')
    channel.close()
    await rejectsCode(call, 'UNAVAILABLE')
    assert.equal(channel.isOpen, false)
    await until(() => handler.reasons.length === 1, 'the handler to be aborted')
    assertPraasError(handler.reasons[0], 'UNAVAILABLE')
  })

  describe('says which failed calls never left the caller (safe to send again)', function () {
    it('marks a call on a closed stream, and not one that was sent when its stream died', async () => {
      const handler = stuck()
      const { channel, server } = await serve(handler.handler)
      const sent = channel.call(request(), bounded())
      await until(() => handler.started === 1, 'the handler to start')
      server.abort(new Error('node died'))
      const ran = await rejectsCode(sent, 'UNAVAILABLE')
      assert.equal(wasUnsent(ran), false, 'a call that reached the callee may have run')
      const late = await rejectsCode(channel.call(request(), bounded()), 'UNAVAILABLE')
      assert.equal(wasUnsent(late), true)
    })

    it('marks the calls whose frames still waited in the writer when the stream closed', async () => {
      const seen: string[] = []
      const { channel, client } = await serve(async ({ payload }) => { seen.push(str(payload)); return await new Promise(() => {}) })
      // the first frame of an event-loop turn goes out at once, the others at the turn's end
      const first = channel.call(request('a'), bounded())
      const queued = [channel.call(request('b'), bounded()), channel.call(request('c'), bounded())]
      client.abort(new Error('connection lost'))
      assert.equal(wasUnsent(await rejectsCode(first, 'UNAVAILABLE')), false)
      for (const call of queued) assert.equal(wasUnsent(await rejectsCode(call, 'UNAVAILABLE')), true)
      await new Promise((resolve) => setTimeout(resolve, 20))
      assert.ok(!seen.includes('b') && !seen.includes('c'), `the callee saw ${seen.join(', ')}`)
    })

    it('marks a large call whose last chunk was never written, however much of it was', async () => {
      const [client, server] = await pair({ capacity: 2, delay: 20 })
      let started = 0
      serveInvokeStream(server, async ({ payload }) => { started++; return payload })
      const channel = new InvokeChannel(client)
      const call = channel.call(request(bytes(4 * MiB)), bounded())
      await new Promise((resolve) => setTimeout(resolve, 30))
      client.abort(new Error('connection lost'))
      assert.equal(wasUnsent(await rejectsCode(call, 'UNAVAILABLE')), true)
      assert.equal(started, 0)
    })

    it('never marks an answer: a handler\'s UNAVAILABLE ran on the callee', async () => {
      const { channel } = await serve(async () => { throw new PraasError('UNAVAILABLE', 'replicas out of reach') })
      assert.equal(wasUnsent(await rejectsCode(channel.call(request(), bounded()), 'UNAVAILABLE')), false)
    })
  })
})
