import assert from 'node:assert/strict'
import { LengthPrefixedDecoder } from '@libp2p/utils'
import fc from 'fast-check'
import * as varint from 'uint8-varint'
import {
  CHUNK_BYTES, decodeInvokeFrame, encodeInvokeFrame, InvokeFrame, lengthPrefixed, MAX_INFLIGHT_PER_STREAM,
  MAX_INVOKE_FRAME_BYTES, MAX_PAYLOAD_BYTES, writeFrame, writeMessage
} from '../../protocol/index.js'
import { assertBytesEqual, assertPraasError, bytes, closed, pair, record, until } from './helpers.js'
import type { Stream } from '@libp2p/interface'

const { REQUEST, RESPONSE, CANCEL } = InvokeFrame.Kind
const MiB = 1024 * 1024

/** Every frame that crosses the stream, decoded, for asserting on the wire shape itself. */
function tap (stream: Stream): InvokeFrame[] {
  const frames: InvokeFrame[] = []
  const decoder = new LengthPrefixedDecoder({ maxDataLength: 64 * MiB, maxBufferSize: 64 * MiB })
  stream.addEventListener('message', (evt) => {
    for (const frame of decoder.decode(evt.data)) frames.push(decodeInvokeFrame(frame))
  })
  return frames
}

/** A valid frame padded with an unknown field to exactly `total` encoded bytes. */
function paddedFrame (total: number): Uint8Array {
  const base = encodeInvokeFrame({ id: 9, kind: REQUEST, pid: 'p', fn: 'f', size: 1, chunk: Uint8Array.of(1) })
  let padding = total - base.byteLength - 1 - 3
  while (base.byteLength + 1 + varint.encodingLength(padding) + padding !== total) padding--
  return Uint8Array.from([...base, 0x7a, ...varint.encode(padding), ...new Uint8Array(padding)])
}

describe('protocol/frames', function () {
  this.timeout(20_000)

  for (const size of [0, 1, CHUNK_BYTES, CHUNK_BYTES + 1, MiB, MAX_PAYLOAD_BYTES]) {
    it(`reassembles a payload of ${size} bytes byte for byte, with its head`, async () => {
      const [a, b] = await pair()
      const rec = record(b)
      const payload = bytes(size, size)
      await writeMessage(a, { id: 7, kind: REQUEST, pid: 'pid-1', fn: 'echo', timeoutMs: 1234 }, payload)
      await until(() => rec.messages.length === 1 || b.status !== 'open', 'the message')
      assert.equal(b.status, 'open', 'the reader kept the stream open')
      const { head, payload: received } = rec.messages[0]
      assert.deepStrictEqual([head.id, head.kind, head.pid, head.fn, head.timeoutMs, head.size], [7, REQUEST, 'pid-1', 'echo', 1234, size])
      assertBytesEqual(received, payload)
      assert.deepStrictEqual([rec.refused, rec.malformed], [[], []])
    })
  }

  it('writes a payload as ceil(size / CHUNK_BYTES) frames, the head fields on the first only', async () => {
    const [a, b] = await pair()
    const frames = tap(b)
    await writeMessage(a, { id: 3, kind: RESPONSE, pid: 'p', fn: 'f', timeoutMs: 5 }, bytes(2 * CHUNK_BYTES + 1))
    await until(() => frames.length === 3, 'three frames')
    assert.deepStrictEqual(frames.map((f) => [f.id, f.kind, f.size, f.chunk.byteLength, f.more]), [
      [3, RESPONSE, 2 * CHUNK_BYTES + 1, CHUNK_BYTES, true],
      [3, RESPONSE, 2 * CHUNK_BYTES + 1, CHUNK_BYTES, true],
      [3, RESPONSE, 2 * CHUNK_BYTES + 1, 1, false]
    ])
    assert.deepStrictEqual(frames.map((f) => [f.pid, f.fn, f.timeoutMs]), [['p', 'f', 5], ['', '', 0], ['', '', 0]])
  })

  it('applies back-pressure: a 16 MiB write never queues more than a few chunks in the stream', async () => {
    const [a, b] = await pair()
    record(b)
    let largest = 0
    const send = a.send.bind(a)
    a.send = (data) => {
      const ok = send(data)
      largest = Math.max(largest, a.writeBufferLength)
      return ok
    }
    await writeMessage(a, { id: 1, kind: REQUEST }, bytes(MAX_PAYLOAD_BYTES))
    assert.ok(largest <= 4 * MAX_INVOKE_FRAME_BYTES, `${largest} bytes waited in the stream's write buffer`)
  })

  it('reassembles several messages of random sizes written at once, each under its own id', async () => {
    const message = fc.record({
      kind: fc.constantFrom(REQUEST, RESPONSE),
      size: fc.oneof(fc.nat(300), fc.integer({ min: CHUNK_BYTES - 2, max: CHUNK_BYTES + 2 }), fc.nat(3 * CHUNK_BYTES + 17)),
      seed: fc.nat()
    })
    await fc.assert(fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 5 }), async (messages) => {
      const [a, b] = await pair()
      const rec = record(b)
      // ids repeat across kinds on purpose: a REQUEST and a RESPONSE of one id are different messages
      const kindOf = (i: number): InvokeFrame.Kind => i % 2 === 0 ? messages[i].kind : (kindOf(i - 1) === REQUEST ? RESPONSE : REQUEST)
      const sent = messages.map((m, i) => ({ head: { id: 1 + (i >> 1), kind: kindOf(i) }, payload: bytes(m.size, m.seed) }))
      await Promise.all(sent.map(async (m) => { await writeMessage(a, m.head, m.payload) }))
      await until(() => rec.messages.length === sent.length || b.status !== 'open', 'every message')
      assert.equal(b.status, 'open')
      for (const m of sent) {
        const got = rec.messages.find((r) => r.head.id === m.head.id && r.head.kind === m.head.kind)
        assert.ok(got != null, `message ${m.head.kind}:${m.head.id} arrived`)
        assertBytesEqual(got.payload, m.payload)
      }
      a.abort(new Error('done'))
    }), {
      numRuns: 25,
      // 2.1 MiB at once: found by this property, kept so that it is always tried
      examples: [[[{ kind: REQUEST, size: 730072, seed: 0 }, { kind: REQUEST, size: 452914, seed: 0 }, { kind: REQUEST, size: 386369, seed: 0 }, { kind: REQUEST, size: 593246, seed: 0 }]]]
    })
  })

  it('refuses a head declaring more than MAX_PAYLOAD_BYTES with TOO_LARGE, drops its chunks and keeps the stream usable', async () => {
    const [a, b] = await pair()
    const rec = record(b)
    const size = MAX_PAYLOAD_BYTES + 1
    writeFrame(a, { id: 1, kind: REQUEST, pid: 'p', fn: 'f', size, chunk: bytes(CHUNK_BYTES), more: true })
    writeFrame(a, { id: 1, kind: REQUEST, size, chunk: bytes(CHUNK_BYTES), more: true })
    writeFrame(a, { id: 1, kind: REQUEST, size, chunk: bytes(10), more: false })
    await writeMessage(a, { id: 2, kind: REQUEST }, bytes(5))
    await until(() => rec.messages.length === 1, 'the next message')
    assert.deepStrictEqual(rec.refused.map((r) => [r.head.id, r.error.code]), [[1, 'TOO_LARGE']])
    assert.deepStrictEqual(rec.messages.map((m) => m.head.id), [2])
    await writeMessage(a, { id: 1, kind: REQUEST }, bytes(5))
    await until(() => rec.messages.length === 2, 'a new message under the refused id')
  })

  it('refuses a message shorter or longer than its declared size with BAD_REQUEST', async () => {
    const [a, b] = await pair()
    const rec = record(b)
    writeFrame(a, { id: 1, kind: REQUEST, size: 10, chunk: bytes(4), more: false })
    writeFrame(a, { id: 2, kind: REQUEST, size: 10, chunk: bytes(8), more: true })
    writeFrame(a, { id: 2, kind: REQUEST, size: 10, chunk: bytes(8), more: false })
    writeFrame(a, { id: 3, kind: REQUEST, size: 10, chunk: bytes(4), more: true })
    writeFrame(a, { id: 3, kind: REQUEST, size: 10, chunk: bytes(4), more: false })
    await writeMessage(a, { id: 4, kind: REQUEST }, bytes(10))
    await until(() => rec.messages.length === 1, 'the good message')
    assert.deepStrictEqual(rec.refused.map((r) => [r.head.id, r.error.code]), [[1, 'BAD_REQUEST'], [2, 'BAD_REQUEST'], [3, 'BAD_REQUEST']])
    assert.deepStrictEqual(rec.messages.map((m) => m.head.id), [4])
  })

  it('accepts a frame of exactly MAX_INVOKE_FRAME_BYTES', async () => {
    const [a, b] = await pair()
    const rec = record(b)
    a.send(lengthPrefixed(paddedFrame(MAX_INVOKE_FRAME_BYTES)))
    await until(() => rec.messages.length === 1 || b.status !== 'open', 'the frame')
    assert.equal(b.status, 'open')
    assert.equal(rec.messages[0].head.id, 9)
  })

  it('aborts the stream on a length prefix over MAX_INVOKE_FRAME_BYTES, as the frame cannot be skipped', async () => {
    const [a, b] = await pair()
    const rec = record(b)
    const remote = closed(a)
    const local = closed(b)
    a.send(lengthPrefixed(paddedFrame(MAX_INVOKE_FRAME_BYTES + 1)))
    assertPraasError(await local, 'BAD_REQUEST')
    assert.equal(b.status, 'aborted')
    assert.ok(await remote != null, 'the writer saw its stream reset')
    assert.deepStrictEqual([rec.messages.length, rec.malformed.length], [0, 0])
  })

  it('reports a malformed frame of a valid length via onMalformed and still delivers the next frame', async () => {
    const [a, b] = await pair()
    const rec = record(b)
    a.send(lengthPrefixed(Uint8Array.of(0xff, 0xff, 0xff)))
    a.send(lengthPrefixed(encodeInvokeFrame({ id: 0, kind: REQUEST, size: 1, chunk: bytes(1) })))
    await writeMessage(a, { id: 5, kind: REQUEST, fn: 'next' }, bytes(3))
    await until(() => rec.messages.length === 1, 'the next frame')
    assert.equal(rec.malformed.length, 2)
    for (const err of rec.malformed) assertPraasError(err, 'BAD_REQUEST')
    assert.equal(rec.messages[0].head.fn, 'next')
    assert.equal(b.status, 'open')
  })

  it('hands a CANCEL frame to onControl, not to onMessage', async () => {
    const [a, b] = await pair()
    const rec = record(b)
    writeFrame(a, { id: 11, kind: CANCEL })
    await until(() => rec.controls.length === 1, 'the cancel')
    assert.deepStrictEqual([rec.controls[0].id, rec.messages.length], [11, 0])
  })

  it('drops the partial message a CANCEL names, so its id can carry a new message', async () => {
    const [a, b] = await pair()
    const rec = record(b)
    writeFrame(a, { id: 1, kind: REQUEST, fn: 'big', size: 100, chunk: bytes(40), more: true })
    writeFrame(a, { id: 1, kind: CANCEL })
    await writeMessage(a, { id: 1, kind: REQUEST, fn: 'small' }, bytes(3, 3))
    await until(() => rec.messages.length + rec.refused.length === 1, 'the new message')
    assert.deepStrictEqual(rec.refused.map((r) => r.error.message), [])
    assert.equal(rec.messages[0].head.fn, 'small')
    assertBytesEqual(rec.messages[0].payload, bytes(3, 3))
  })

  it(`accepts ${MAX_INFLIGHT_PER_STREAM} partial messages at once and aborts the stream on one more`, async () => {
    const [a, b] = await pair()
    const rec = record(b)
    for (let id = 1; id <= MAX_INFLIGHT_PER_STREAM; id++) writeFrame(a, { id, kind: REQUEST, size: 2, chunk: bytes(1), more: true })
    for (let id = 1; id <= MAX_INFLIGHT_PER_STREAM; id++) writeFrame(a, { id, kind: REQUEST, size: 2, chunk: bytes(1), more: false })
    await until(() => rec.messages.length === MAX_INFLIGHT_PER_STREAM || b.status !== 'open', 'every message')
    assert.equal(b.status, 'open')
    const local = closed(b)
    for (let id = 1; id <= MAX_INFLIGHT_PER_STREAM + 1; id++) writeFrame(a, { id, kind: REQUEST, size: 2, chunk: bytes(1), more: true })
    assertPraasError(await local, 'BAD_REQUEST')
  })

  it('delivers every frame that arrived while the reader was paused once it resumes', async () => {
    const [a, b] = await pair()
    const rec = record(b)
    b.pause()
    const sent = [1, 2, 3, 4, 5].map((id) => ({ id, payload: bytes(CHUNK_BYTES, id) }))
    for (const { id, payload } of sent) writeFrame(a, { id, kind: REQUEST, size: payload.byteLength, chunk: payload })
    await until(() => b.readBufferLength >= 5 * CHUNK_BYTES, 'the data to be buffered')
    b.resume()
    await until(() => rec.messages.length === 5 || b.status !== 'open', 'every message')
    assert.equal(b.status, 'open', 'the reader kept the stream open')
    for (const { id, payload } of sent) assertBytesEqual(rec.messages.find((m) => m.head.id === id)!.payload, payload)
  })

  it('forgets partial messages when cleared, so a stream reset leaves nothing behind', async () => {
    const [a, b] = await pair()
    const rec = record(b)
    const frames = tap(b)
    writeFrame(a, { id: 1, kind: REQUEST, size: 10, chunk: bytes(5), more: true })
    await until(() => frames.length === 1, 'the head to be read')
    rec.reader.clear()
    writeFrame(a, { id: 1, kind: REQUEST, size: 10, chunk: bytes(10), more: false })
    await until(() => rec.messages.length + rec.refused.length === 1, 'the next message')
    assert.deepStrictEqual(rec.messages.map((m) => m.payload.byteLength), [10])
  })
})
