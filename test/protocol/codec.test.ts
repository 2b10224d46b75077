import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Uint8ArrayList } from 'uint8arraylist'
import {
  CHUNK_BYTES, checkName, checkPid, CtlRequest, CtlResponse, decodeCtlRequest, decodeCtlResponse, decodeInvokeFrame,
  encodeCtlRequest, encodeCtlResponse, encodeInvokeFrame, InvokeFrame, MAX_APP_SOURCE_BYTES, MAX_ERROR_MESSAGE_LENGTH,
  MAX_LIST_ENTRIES, MAX_NAME_LENGTH, MAX_PID_LENGTH, ProcessInfo, toBytes, WireErrorCode
} from '../../protocol/index.js'
import { ctlRequest, ctlResponse, invokeFrame } from './arbitraries.js'
import { buf, bytes, throwsCode } from './helpers.js'

const REQUEST = InvokeFrame.Kind.REQUEST

/** Uint8Arrays as Buffers, so deepStrictEqual compares their bytes whatever their class. */
function norm (value: unknown): unknown {
  if (value instanceof Uint8Array) return buf(value)
  if (Array.isArray(value)) return value.map(norm)
  if (value != null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, norm(v)]))
  }
  return value
}

/** The same bytes cut into up to four pieces, as a stream hands them to the decoder. */
function pieces (data: Uint8Array, cuts: number[]): Uint8ArrayList {
  const at = [...new Set(cuts.map((c) => c % (data.byteLength + 1)))].sort((a, b) => a - b)
  const list = new Uint8ArrayList()
  let from = 0
  for (const to of [...at, data.byteLength]) {
    list.append(data.subarray(from, to))
    from = to
  }
  return list
}

describe('protocol/codec', () => {
  describe('round trips', () => {
    it('decodes every valid invoke frame to exactly what was encoded', () => {
      fc.assert(fc.property(invokeFrame(), (frame) => {
        assert.deepStrictEqual(norm(decodeInvokeFrame(encodeInvokeFrame(frame))), norm(frame))
      }), { numRuns: 400 })
    })

    it('decodes an invoke frame the same from a Uint8ArrayList cut anywhere', () => {
      fc.assert(fc.property(invokeFrame(1024), fc.array(fc.nat(), { maxLength: 3 }), (frame, cuts) => {
        const encoded = encodeInvokeFrame(frame)
        assert.deepStrictEqual(norm(decodeInvokeFrame(pieces(encoded, cuts))), norm(frame))
      }), { numRuns: 200 })
    })

    it('decodes every valid control request to exactly what was encoded', () => {
      fc.assert(fc.property(ctlRequest, (request) => {
        assert.deepStrictEqual(norm(decodeCtlRequest(encodeCtlRequest(request))), norm(request))
      }), { numRuns: 300 })
    })

    it('decodes every valid control response to exactly what was encoded', () => {
      fc.assert(fc.property(ctlResponse, fc.array(fc.nat(), { maxLength: 3 }), (response, cuts) => {
        const encoded = encodeCtlResponse(response)
        assert.deepStrictEqual(norm(decodeCtlResponse(encoded)), norm(response))
        assert.deepStrictEqual(norm(decodeCtlResponse(pieces(encoded, cuts))), norm(response))
      }), { numRuns: 300 })
    })

    it('carries an app source of exactly MAX_APP_SOURCE_BYTES both ways', () => {
      const source = bytes(MAX_APP_SOURCE_BYTES, 7) as Uint8Array<ArrayBuffer>
      assert.ok(buf(decodeCtlRequest(encodeCtlRequest({ op: CtlRequest.Op.DEPLOY, app: 'a', source })).source).equals(buf(source)))
      assert.ok(buf(decodeCtlResponse(encodeCtlResponse({ source })).source).equals(buf(source)))
    })

    it('carries MAX_LIST_ENTRIES processes in one response', () => {
      const processes = Array.from({ length: MAX_LIST_ENTRIES }, (_, i) => ({ pid: `p${i}`, app: 'a', status: 'ACTIVE' as ProcessInfo['status'], node: 'n', addrs: [] }))
      const decoded = decodeCtlResponse(encodeCtlResponse({ processes }))
      assert.equal(decoded.processes.length, MAX_LIST_ENTRIES)
      assert.equal(decoded.processes[MAX_LIST_ENTRIES - 1].pid, `p${MAX_LIST_ENTRIES - 1}`)
    })
  })

  describe('invoke frame validation', () => {
    const valid = { id: 1, kind: REQUEST, pid: 'p', fn: 'f', size: 3, chunk: bytes(3) }

    it('accepts a pid and a function name of exactly 128 characters', () => {
      const frame = decodeInvokeFrame(encodeInvokeFrame({ ...valid, pid: 'p'.repeat(MAX_PID_LENGTH), fn: 'f'.repeat(MAX_NAME_LENGTH) }))
      assert.equal(frame.pid.length, MAX_PID_LENGTH)
      assert.equal(frame.fn.length, MAX_NAME_LENGTH)
    })

    it('refuses a frame without a request id (id 0) with BAD_REQUEST', () => {
      throwsCode(() => decodeInvokeFrame(encodeInvokeFrame({ ...valid, id: 0 })), 'BAD_REQUEST')
    })

    it('refuses a pid of 129 characters with BAD_REQUEST', () => {
      throwsCode(() => decodeInvokeFrame(encodeInvokeFrame({ ...valid, pid: 'p'.repeat(MAX_PID_LENGTH + 1) })), 'BAD_REQUEST')
    })

    it('refuses a function name of 129 characters with BAD_REQUEST', () => {
      throwsCode(() => decodeInvokeFrame(encodeInvokeFrame({ ...valid, fn: 'f'.repeat(MAX_NAME_LENGTH + 1) })), 'BAD_REQUEST')
    })

    it('accepts a chunk of exactly CHUNK_BYTES and refuses CHUNK_BYTES + 1 with BAD_REQUEST', () => {
      const size = CHUNK_BYTES + 1
      assert.equal(decodeInvokeFrame(encodeInvokeFrame({ ...valid, size, chunk: bytes(CHUNK_BYTES) })).chunk.byteLength, CHUNK_BYTES)
      throwsCode(() => decodeInvokeFrame(encodeInvokeFrame({ ...valid, size, chunk: bytes(CHUNK_BYTES + 1) })), 'BAD_REQUEST')
    })

    it('refuses a chunk larger than the declared size with BAD_REQUEST', () => {
      throwsCode(() => decodeInvokeFrame(encodeInvokeFrame({ ...valid, size: 2, chunk: bytes(3) })), 'BAD_REQUEST')
    })

    it('accepts an error message of 4096 characters and refuses 4097 with BAD_REQUEST', () => {
      const error = (n: number): { code: WireErrorCode, message: string } => ({ code: WireErrorCode.FUNCTION_ERROR, message: 'e'.repeat(n) })
      assert.equal(decodeInvokeFrame(encodeInvokeFrame({ id: 1, error: error(MAX_ERROR_MESSAGE_LENGTH) })).error?.message.length, MAX_ERROR_MESSAGE_LENGTH)
      throwsCode(() => decodeInvokeFrame(encodeInvokeFrame({ id: 1, error: error(MAX_ERROR_MESSAGE_LENGTH + 1) })), 'BAD_REQUEST')
    })

    it('refuses an unknown frame kind or error code with BAD_REQUEST', () => {
      throwsCode(() => decodeInvokeFrame(Uint8Array.of(0x08, 0x01, 0x10, 0x07)), 'BAD_REQUEST')
      throwsCode(() => decodeInvokeFrame(Uint8Array.of(0x08, 0x01, 0x4a, 0x02, 0x08, 0x63)), 'BAD_REQUEST')
    })

    it('refuses a truncated frame with BAD_REQUEST', () => {
      const encoded = encodeInvokeFrame(valid)
      throwsCode(() => decodeInvokeFrame(encoded.subarray(0, encoded.byteLength - 1)), 'BAD_REQUEST')
    })

    it('refuses deeply nested unknown groups with BAD_REQUEST instead of overflowing the stack', () => {
      // field 15, wire type 3 (start group), 200k times: each level recurses once in skipType
      throwsCode(() => decodeInvokeFrame(new Uint8Array(200_000).fill(0x7b)), 'BAD_REQUEST')
    })

    it('skips unknown fields, as protobuf allows', () => {
      const encoded = encodeInvokeFrame(valid)
      const padded = Uint8Array.from([...encoded, 0x7a, 0x02, 0xff, 0xff])
      assert.deepStrictEqual(norm(decodeInvokeFrame(padded)), norm(decodeInvokeFrame(encoded)))
    })
  })

  describe('control message validation', () => {
    it('refuses an app source over MAX_APP_SOURCE_BYTES with TOO_LARGE, both ways', () => {
      const source = bytes(MAX_APP_SOURCE_BYTES + 1) as Uint8Array<ArrayBuffer>
      throwsCode(() => decodeCtlRequest(encodeCtlRequest({ op: CtlRequest.Op.DEPLOY, app: 'a', source })), 'TOO_LARGE')
      throwsCode(() => decodeCtlResponse(encodeCtlResponse({ source })), 'TOO_LARGE')
    })

    it('refuses over-long names, pids, node ids and hashes in a request with BAD_REQUEST', () => {
      throwsCode(() => decodeCtlRequest(encodeCtlRequest({ app: 'a'.repeat(MAX_NAME_LENGTH + 1) })), 'BAD_REQUEST')
      throwsCode(() => decodeCtlRequest(encodeCtlRequest({ pid: 'p'.repeat(MAX_PID_LENGTH + 1) })), 'BAD_REQUEST')
      throwsCode(() => decodeCtlRequest(encodeCtlRequest({ node: 'n'.repeat(257) })), 'BAD_REQUEST')
      throwsCode(() => decodeCtlRequest(encodeCtlRequest({ hash: 'h'.repeat(65) })), 'BAD_REQUEST')
    })

    it('refuses a response whose process entries break the limits with BAD_REQUEST', () => {
      const entry = { pid: 'p', app: 'a', status: 'ACTIVE' as ProcessInfo['status'], node: 'n', addrs: ['/ip4/1.2.3.4/tcp/1'] }
      const refuse = (patch: Partial<ProcessInfo>): void => {
        throwsCode(() => decodeCtlResponse(encodeCtlResponse({ processes: [entry, { ...entry, ...patch }] })), 'BAD_REQUEST')
      }
      assert.equal(decodeCtlResponse(encodeCtlResponse({ processes: [{ ...entry, addrs: Array(64).fill('a'.repeat(1024)) }] })).processes[0].addrs.length, 64)
      refuse({ pid: 'p'.repeat(MAX_PID_LENGTH + 1) })
      refuse({ app: 'a'.repeat(MAX_NAME_LENGTH + 1) })
      refuse({ node: 'n'.repeat(257) })
      refuse({ addrs: Array(65).fill('/ip4/1.2.3.4/tcp/1') })
      refuse({ addrs: ['a'.repeat(1025)] })
    })

    it('refuses a response whose peer entries break the limits with BAD_REQUEST', () => {
      const peer = { id: '12D3KooW', addrs: ['/ip4/1.2.3.4/tcp/1'], load: 3 }
      assert.deepStrictEqual(decodeCtlResponse(encodeCtlResponse({ peers: [peer] })).peers, [peer])
      throwsCode(() => decodeCtlResponse(encodeCtlResponse({ peers: [{ ...peer, id: 'i'.repeat(257) }] })), 'BAD_REQUEST')
      throwsCode(() => decodeCtlResponse(encodeCtlResponse({ peers: [{ ...peer, addrs: Array(65).fill('a') }] })), 'BAD_REQUEST')
      throwsCode(() => decodeCtlResponse(encodeCtlResponse({ peers: Array(4097).fill(peer) })), 'BAD_REQUEST')
    })

    it('refuses a response of more than MAX_LIST_ENTRIES processes with BAD_REQUEST', () => {
      const processes = Array.from({ length: MAX_LIST_ENTRIES + 1 }, () => ({}))
      throwsCode(() => decodeCtlResponse(encodeCtlResponse({ processes } as Partial<CtlResponse>)), 'BAD_REQUEST')
    })

    it('refuses an error message over 4096 characters in a response with BAD_REQUEST', () => {
      const error = { code: WireErrorCode.NOT_FOUND, message: 'e'.repeat(MAX_ERROR_MESSAGE_LENGTH + 1) }
      throwsCode(() => decodeCtlResponse(encodeCtlResponse({ error })), 'BAD_REQUEST')
    })
  })

  describe('payload and name helpers', () => {
    it('takes strings as UTF-8, bytes as themselves and nothing as empty', () => {
      assert.deepStrictEqual(buf(toBytes('hé')), Buffer.from('hé', 'utf8'))
      const data = bytes(5)
      assert.equal(toBytes(data), data)
      assert.equal(toBytes(undefined).byteLength, 0)
      assert.equal(toBytes(null).byteLength, 0)
      throwsCode(() => toBytes(42 as unknown as string), 'BAD_REQUEST')
    })

    it('accepts any string of 1 to 128 characters as a pid, and nothing else', () => {
      fc.assert(fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 64 }), (pid) => { checkPid(pid) }))
      checkPid('x'.repeat(MAX_PID_LENGTH))
      throwsCode(() => { checkPid('') }, 'BAD_REQUEST')
      throwsCode(() => { checkPid('x'.repeat(MAX_PID_LENGTH + 1)) }, 'BAD_REQUEST')
      throwsCode(() => { checkPid(7) }, 'BAD_REQUEST')
    })

    it('accepts names of letters, digits, _ $ - . up to 128 characters, and nothing else', () => {
      checkName('counter_v2.$x-1', 'app')
      checkName('a'.repeat(MAX_NAME_LENGTH), 'app')
      for (const bad of ['', 'a'.repeat(MAX_NAME_LENGTH + 1), 'a b', 'a/b', 'é', null]) {
        throwsCode(() => { checkName(bad, 'app') }, 'BAD_REQUEST')
      }
    })
  })
})
