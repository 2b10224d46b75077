import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ByteBudget } from '../../protocol/budget.js'
import { CHUNK_BYTES, InvokeFrame, PraasError, writeFrame, writeMessage } from '../../protocol/index.js'
import { bytes, closed, pair, record, until } from './helpers.js'

const REQUEST = InvokeFrame.Kind.REQUEST

describe('protocol/budget: what a peer can make a node hold', () => {
  it('takes from a budget and its parent together or not at all, and gives back what it took (model)', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(100))), (ops) => {
      const parent = new ByteBudget(150)
      const budget = new ByteBudget(100, parent)
      const held: number[] = []
      for (const [take, n] of ops) {
        if (take) {
          const fits = budget.used + n <= 100 && parent.used + n <= 150
          assert.equal(budget.take(n), fits)
          if (fits) held.push(n)
        } else if (held.length > 0) {
          budget.give(held.pop()!)
        }
        const sum = held.reduce((a, b) => a + b, 0)
        assert.equal(budget.used, sum)
        assert.equal(parent.used, sum)
      }
    }))
  })

  it('refuses a request past its connection\'s budget at the first frame, discards its chunks, and gives the bytes back when done', async () => {
    const [a, b] = await pair()
    const budget = new ByteBudget(3 * CHUNK_BYTES)
    const rec = record(b, { budget })
    // two requests of two chunks each: the second does not fit beside the first
    for (const id of [1, 2]) writeFrame(a, { id, kind: REQUEST, pid: 'p', fn: 'f', size: 2 * CHUNK_BYTES, chunk: bytes(CHUNK_BYTES), more: true })
    await until(() => rec.refused.length === 1, 'the refusal')
    assert.deepEqual(rec.refused.map(r => [r.head.id, r.error.code]), [[2, 'UNAVAILABLE']])
    assert.equal(budget.used, 2 * CHUNK_BYTES)
    for (const id of [1, 2]) writeFrame(a, { id, kind: REQUEST, size: 2 * CHUNK_BYTES, chunk: bytes(CHUNK_BYTES), more: false })
    await until(() => rec.messages.length === 1, 'the first request whole')
    assert.deepEqual(rec.messages.map(m => [m.head.id, m.held]), [[1, 2 * CHUNK_BYTES]])
    // the handler gives the bytes back once it is done with the request
    budget.give(rec.messages[0].held!)
    assert.equal(budget.used, 0)
  })

  it('refuses a request its admission check rejects at the first frame, and never buffers its payload', async () => {
    const [a, b] = await pair()
    const budget = new ByteBudget(64 * CHUNK_BYTES)
    const rec = record(b, { budget, admit: (pid) => pid === 'mine' ? undefined : new PraasError('UNAUTHORIZED', 'not yours') })
    writeFrame(a, { id: 1, kind: REQUEST, pid: 'theirs', fn: 'f', size: 8 * CHUNK_BYTES, chunk: bytes(CHUNK_BYTES), more: true })
    for (let i = 0; i < 6; i++) writeFrame(a, { id: 1, kind: REQUEST, size: 8 * CHUNK_BYTES, chunk: bytes(CHUNK_BYTES), more: true })
    await writeMessage(a, { id: 2, kind: REQUEST, pid: 'mine', fn: 'f' }, bytes(10))
    await until(() => rec.messages.length === 1, 'the admitted request')
    assert.deepEqual(rec.refused.map(r => [r.head.id, r.error.code]), [[1, 'UNAUTHORIZED']])
    assert.equal(budget.used, 10, 'only the admitted request holds bytes')
  })

  it('drops a request whose frames stop coming after the time limit, and gives its bytes back', async () => {
    const [a, b] = await pair()
    const budget = new ByteBudget(64 * CHUNK_BYTES)
    const rec = record(b, { budget, partialTimeoutMs: 200 })
    writeFrame(a, { id: 1, kind: REQUEST, pid: 'p', fn: 'f', size: 4 * CHUNK_BYTES, chunk: bytes(CHUNK_BYTES), more: true })
    await until(() => budget.used > 0, 'the first frame')
    await until(() => rec.refused.length === 1, 'the timeout', 3_000)
    assert.deepEqual(rec.refused.map(r => [r.head.id, r.error.code]), [[1, 'TIMEOUT']])
    assert.equal(budget.used, 0)
    assert.equal(b.status, 'open', 'the stream stays usable')
  })

  it('resets a stream on which a frame trickles in past the time limit', async () => {
    const [a, b] = await pair()
    record(b, { partialTimeoutMs: 200 })
    const reset = closed(b)
    // a length prefix of a 1000-byte frame, then only a few of its bytes
    a.send(Uint8Array.of(0xe8, 0x07, 1, 2, 3))
    const error = await reset
    assert.equal((error as PraasError | undefined)?.code, 'TIMEOUT')
  })

  it('discards a response nobody awaits without reading its chunks into memory', async () => {
    const [a, b] = await pair()
    const { FrameReader } = await import('../../protocol/frames.js')
    const got: number[] = []
    // the caller's side awaits response 2 only
    void new FrameReader(b, {
      onMessage: (m) => { got.push(m.head.id) },
      onRefused: () => {},
      onControl: () => {},
      onMalformed: () => {},
      expects: (id) => id === 2
    })
    writeFrame(a, { id: 1, kind: InvokeFrame.Kind.RESPONSE, size: 2 * CHUNK_BYTES, chunk: bytes(CHUNK_BYTES), more: true })
    writeFrame(a, { id: 1, kind: InvokeFrame.Kind.RESPONSE, size: 2 * CHUNK_BYTES, chunk: bytes(CHUNK_BYTES), more: false })
    await writeMessage(a, { id: 2, kind: InvokeFrame.Kind.RESPONSE }, bytes(5))
    await until(() => got.length === 1, 'the awaited response')
    assert.deepEqual(got, [2])
  })
})
