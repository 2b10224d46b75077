import assert from 'node:assert/strict'
import { receiveChunks, sendChunks } from '../../node/durability/index.js'
import { assertBytesEqual, bytes, pair } from '../protocol/helpers.js'
import type { Stream } from '@libp2p/interface'

/** Resolves with the error a stream closed with (undefined for a clean close). */
async function closed (stream: Stream): Promise<Error | undefined> {
  return await new Promise(resolve => { stream.addEventListener('close', (evt) => { resolve(evt.error) }, { once: true }) })
}

describe('durability/chunk-stream (/praas/state/1.0.0/chunks)', function () {
  it('hands over every chunk whole and in order, then acks', async function () {
    const [sender, receiver] = await pair()
    const chunks = [bytes(1024 * 1024, 1), bytes(1024 * 1024, 2), bytes(12345, 3)]
    const got: Uint8Array[] = []
    receiveChunks(receiver, (chunk) => { got.push(chunk) }, { signal: AbortSignal.timeout(10_000), maxBytes: 64 * 1024 * 1024 })
    await sendChunks(sender, chunks.map(c => c.byteLength), chunks, { signal: AbortSignal.timeout(10_000) })
    assert.equal(got.length, chunks.length)
    chunks.forEach((chunk, i) => { assertBytesEqual(got[i], chunk, `chunk ${i}`) })
    // consecutive views of one buffer: an image is rebuilt from them without a copy
    let end = got[0].byteOffset
    for (const chunk of got) {
      assert.equal(chunk.buffer, got[0].buffer)
      assert.equal(chunk.byteOffset, end)
      end += chunk.byteLength
    }
  })

  it('cuts a body of pieces that straddle chunk boundaries into the announced chunks', async function () {
    const [sender, receiver] = await pair()
    const whole = Buffer.concat([bytes(700_000, 4), bytes(600_000, 5), bytes(10, 6), bytes(300_000, 7)])
    const lengths = [1024 * 1024, whole.byteLength - 1024 * 1024]
    // pieces at other places than the chunk boundary, one of them empty
    const pieces = [whole.subarray(0, 700_000), whole.subarray(700_000, 700_000), whole.subarray(700_000, 1_300_010), whole.subarray(1_300_010)]
    const got: Uint8Array[] = []
    receiveChunks(receiver, (chunk) => { got.push(chunk) }, { signal: AbortSignal.timeout(10_000), maxBytes: 64 * 1024 * 1024 })
    await sendChunks(sender, lengths, pieces, { signal: AbortSignal.timeout(10_000) })
    assert.deepEqual(got.map(c => c.byteLength), lengths)
    assertBytesEqual(got[0], whole.subarray(0, lengths[0]), 'chunk 0')
    assertBytesEqual(got[1], whole.subarray(lengths[0]), 'chunk 1')
  })

  it('refuses to send a body that does not make the chunks it announces, and aborts the stream', async function () {
    const [sender] = await pair()
    const end = closed(sender)
    await assert.rejects(sendChunks(sender, [10, 10], [bytes(15, 1)], { signal: AbortSignal.timeout(10_000) }), (err: any) => err.code === 'BAD_REQUEST')
    assert.equal((await end as { code?: string })?.code, 'BAD_REQUEST')
  })

  it('aborts a stream that sends more bytes than its header announced', async function () {
    const [sender, receiver] = await pair()
    const end = closed(receiver)
    const got: Uint8Array[] = []
    receiveChunks(receiver, (chunk) => { got.push(chunk) }, { signal: AbortSignal.timeout(10_000), maxBytes: 1024 })
    // one chunk of 4 bytes announced, 6 sent in one write
    sender.send(Uint8Array.of(1, 4, 10, 11, 12, 13, 14, 15))
    assert.equal((await end as { code?: string })?.code, 'BAD_REQUEST')
    assert.equal(got.length, 0)
  })

  it('aborts a stream whose header is malformed, without waiting for more', async function () {
    const [sender, receiver] = await pair()
    const end = closed(receiver)
    receiveChunks(receiver, () => { assert.fail('no chunk may come out of a malformed header') }, { signal: AbortSignal.timeout(10_000), maxBytes: 1024 })
    sender.send(new Uint8Array(64).fill(0xff))
    assert.equal((await end as { code?: string })?.code, 'BAD_REQUEST')
  })

  it('refuses an image larger than the receiver takes, before buffering it', async function () {
    const [sender, receiver] = await pair()
    const end = closed(receiver)
    receiveChunks(receiver, () => {}, { signal: AbortSignal.timeout(10_000), maxBytes: 1000 })
    await assert.rejects(sendChunks(sender, [600, 600], [bytes(600, 1), bytes(600, 2)], { signal: AbortSignal.timeout(10_000) }))
    assert.equal((await end as { code?: string })?.code, 'TOO_LARGE')
  })
})
