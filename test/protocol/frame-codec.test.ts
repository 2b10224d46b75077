import assert from 'node:assert/strict'
import fc from 'fast-check'
import * as varint from 'uint8-varint'
import { Uint8ArrayList } from 'uint8arraylist'
import {
  CHUNK_BYTES, encodeInvokeFrame, FrameReader, InvokeFrame, lengthPrefixed, MAX_INVOKE_FRAME_BYTES, PraasError
} from '../../protocol/index.js'
import { encodeFrame, FrameDecoder } from '../../protocol/frames.js'
import { takeFresh } from '../../protocol/fresh-bytes.js'
import { invokeFrame } from './arbitraries.js'
import { assertBytesEqual, buf, bytes } from './helpers.js'
import type { InvokeMessage } from '../../protocol/index.js'
import type { MessageStream } from '@libp2p/interface'

const { REQUEST, RESPONSE } = InvokeFrame.Kind

function flat (data: Uint8Array | Uint8ArrayList): Uint8Array {
  return data instanceof Uint8Array ? data : data.subarray()
}

/** `data` cut at the given offsets (each taken modulo its length + 1), as a stream may hand it over. */
function cut (data: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (data.byteLength + 1)))].sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let from = 0
  for (const to of [...at, data.byteLength]) {
    out.push(data.subarray(from, to))
    from = to
  }
  return out
}

/** The smallest MessageStream a FrameReader needs: 'message' events in, abort() recorded. */
class FakeStream extends EventTarget {
  status = 'open'
  aborted?: Error
  abort (err: Error): void {
    this.status = 'aborted'
    this.aborted = err
  }

  push (data: Uint8Array | Uint8ArrayList): void {
    this.dispatchEvent(Object.assign(new Event('message'), { data }))
  }
}

function reader (): { stream: FakeStream, messages: InvokeMessage[], malformed: PraasError[], refused: PraasError[] } {
  const stream = new FakeStream()
  const out = { stream, messages: [] as InvokeMessage[], malformed: [] as PraasError[], refused: [] as PraasError[] }
  // eslint-disable-next-line no-new
  new FrameReader(stream as unknown as MessageStream, {
    onMessage: (m) => { out.messages.push(m) },
    onRefused: (_head, err) => { out.refused.push(err) },
    onControl: () => {},
    onMalformed: (err) => { out.malformed.push(err) }
  })
  return out
}

describe('protocol/frames: encoding and decoding', function () {
  this.timeout(60_000)

  it('encodeFrame writes exactly lengthPrefixed(encodeInvokeFrame(frame)), in one buffer', () => {
    const big = fc.tuple(fc.integer({ min: 16 * 1024, max: CHUNK_BYTES }), fc.nat()).map(([n, seed]) => bytes(n, seed))
    fc.assert(fc.property(invokeFrame(), fc.option(big, { nil: undefined }), (frame, chunk) => {
      const f = chunk == null ? frame : { ...frame, chunk: chunk as Uint8Array<ArrayBuffer>, size: Math.max(frame.size, chunk.byteLength) }
      const encoded = encodeFrame(f)
      assert.ok(encoded instanceof Uint8Array)
      assertBytesEqual(encoded, lengthPrefixed(encodeInvokeFrame(f)), 'encoded frame')
    }), { numRuns: 300 })
  })

  describe('FrameDecoder', () => {
    it('yields the same frames however the bytes are cut, skipping empty frames', () => {
      const body = fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 70_000 }).map((n) => bytes(n, n)))
      fc.assert(fc.property(fc.array(body, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), (bodies, cuts) => {
        const wire = new Uint8ArrayList(...bodies.map((b) => new Uint8ArrayList(varint.encode(b.byteLength), b))).subarray()
        const decoder = new FrameDecoder(MAX_INVOKE_FRAME_BYTES)
        const got: Uint8Array[] = []
        for (const piece of cut(wire, cuts)) decoder.decode(piece, (frame) => got.push(flat(frame)))
        assert.deepStrictEqual(got.map(buf), bodies.filter((b) => b.byteLength > 0).map(buf))
        assert.equal(decoder.pending, 0)
      }), { numRuns: 200 })
    })

    it('takes a Uint8ArrayList of many buffers as well as one buffer', () => {
      const decoder = new FrameDecoder(100)
      const got: Uint8Array[] = []
      decoder.decode(new Uint8ArrayList(Uint8Array.of(3, 1), Uint8Array.of(2), Uint8Array.of(3, 2, 9)), (frame) => got.push(flat(frame)))
      assert.deepStrictEqual(got.map((g) => [...g]), [[1, 2, 3]])
      assert.equal(decoder.pending, 2)
      decoder.decode(Uint8Array.of(8), (frame) => got.push(flat(frame)))
      assert.deepStrictEqual(got.map((g) => [...g]), [[1, 2, 3], [9, 8]])
    })

    it('throws on a length over the limit, as soon as the prefix shows it, and accepts the limit itself', () => {
      const max = MAX_INVOKE_FRAME_BYTES
      assert.throws(() => { new FrameDecoder(max).decode(varint.encode(max + 1), () => {}) }, /exceeds/)
      // three bytes with the continuation bit: at least 2^21, over the limit, before the rest arrives
      assert.throws(() => { new FrameDecoder(max).decode(Uint8Array.of(0x80, 0x80, 0x80), () => {}) }, /exceeds/)
      assert.throws(() => { new FrameDecoder(max).decode(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff), () => {}) }, /exceeds/)
      const decoder = new FrameDecoder(max)
      let length = -1
      decoder.decode(new Uint8ArrayList(varint.encode(max), new Uint8Array(max)), (frame) => { length = frame.byteLength })
      assert.equal(length, max)
      // an incomplete prefix waits
      const waiting = new FrameDecoder(max)
      waiting.decode(Uint8Array.of(0x80), () => assert.fail('no frame yet'))
      assert.equal(waiting.pending, 1)
    })
  })

  describe('FrameReader', () => {
    const frames = fc.array(invokeFrame().filter((f) => f.kind !== InvokeFrame.Kind.CANCEL).map((f) => ({ ...f, more: false, size: f.chunk.byteLength })), { minLength: 1, maxLength: 6 })

    it('decodes frames split anywhere, into views, exactly as one buffer each would decode', () => {
      fc.assert(fc.property(frames, fc.array(fc.nat(), { maxLength: 20 }), (list, cuts) => {
        const wire = new Uint8ArrayList(...list.map((f) => lengthPrefixed(encodeInvokeFrame(f)))).subarray()
        const { stream, messages, malformed } = reader()
        for (const piece of cut(wire, cuts)) stream.push(piece)
        assert.equal(stream.aborted, undefined)
        assert.deepStrictEqual(malformed, [])
        assert.equal(messages.length, list.length)
        list.forEach((f, i) => {
          const { head, payload } = messages[i]
          assert.deepStrictEqual([head.id, head.kind, head.pid, head.fn, head.timeoutMs, head.size, head.key, head.from, head.more, head.error?.code, head.error?.message],
            [f.id, f.kind, f.pid, f.fn, f.timeoutMs, f.size, f.key, f.from, f.more, f.error?.code, f.error?.message])
          assertBytesEqual(payload, f.chunk)
        })
      }), { numRuns: 200 })
    })

    it('reports a malformed frame split across buffers and stays in step', () => {
      const good = lengthPrefixed(encodeInvokeFrame({ id: 2, kind: REQUEST, fn: 'next', size: 3, chunk: bytes(3) }))
      const cases = [
        Uint8Array.of(0xff, 0xff, 0xff), // not protobuf
        encodeInvokeFrame({ id: 0, kind: REQUEST, size: 40_000, chunk: bytes(40_000) }), // no request id
        encodeInvokeFrame({ id: 1, kind: REQUEST, size: 5, chunk: bytes(40_000) }), // chunk over its declared size
        Uint8Array.from([...encodeInvokeFrame({ id: 1, kind: REQUEST, size: 9, chunk: bytes(9) }), 0x3a, 0x05, 1, 2]) // a second, truncated chunk field
      ]
      for (const body of cases) {
        const wire = new Uint8ArrayList(lengthPrefixed(body), good).subarray()
        for (const at of [1, 2, 5, Math.floor(wire.byteLength / 2), wire.byteLength - 1]) {
          const { stream, messages, malformed } = reader()
          stream.push(new Uint8ArrayList(wire.subarray(0, at), wire.subarray(at)))
          assert.equal(stream.aborted, undefined)
          assert.equal(malformed.length, 1, `malformed frame cut at ${at}`)
          assert.ok(malformed[0] instanceof PraasError && malformed[0].code === 'BAD_REQUEST')
          assert.deepStrictEqual(messages.map((m) => m.head.fn), ['next'])
        }
      }
    })

    it('marks a reassembled request payload fresh (its handler may transfer it), never a response payload', () => {
      for (const kind of [REQUEST, RESPONSE]) {
        const payload = bytes(CHUNK_BYTES + 10, 3)
        const { stream, messages } = reader()
        stream.push(encodeFrame({ id: 1, kind, size: payload.byteLength, chunk: payload.subarray(0, CHUNK_BYTES), more: true }))
        stream.push(encodeFrame({ id: 1, kind, size: payload.byteLength, chunk: payload.subarray(CHUNK_BYTES), more: false }))
        assert.equal(messages.length, 1)
        assertBytesEqual(messages[0].payload, payload)
        assert.equal(Object.getPrototypeOf(messages[0].payload), Uint8Array.prototype, 'a plain Uint8Array, as before')
        assert.equal(takeFresh(messages[0].payload) != null, kind === REQUEST, `${kind} payload marked fresh`)
      }
    })
  })
})
