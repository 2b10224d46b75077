import assert from 'node:assert/strict'
import * as varint from 'uint8-varint'
import { ReplicaChannel, serveReplicateStream } from '../../node/durability/replica-channel.js'
import { PraasError } from '../../protocol/index.js'
import { assertBytesEqual, bytes, pair, rejectsCode } from '../protocol/helpers.js'
import type { Stream } from '@libp2p/interface'

/** A host's channel over one end of an in-memory stream pair, and a replica serving the other with `handle`. */
async function channel (answer: (request: Uint8Array) => Uint8Array, timeoutMs = 10_000): Promise<{ host: ReplicaChannel, hostEnd: Stream, replicaEnd: Stream, closed: Promise<void> }> {
  const [hostEnd, replicaEnd] = await pair()
  serveReplicateStream(replicaEnd, (request) => ({ answer: answer(request), apply: () => {} }))
  let onClose: () => void = () => {}
  const closed = new Promise<void>(resolve => { onClose = resolve })
  return { host: new ReplicaChannel(hostEnd, timeoutMs, onClose), hostEnd, replicaEnd, closed }
}

describe('durability/replica-channel (/praas/replicate/1.0.0)', function () {
  it('answers calls in order, several on their way at once, small and large', async function () {
    const seen: number[] = []
    const { host } = await channel((request) => {
      seen.push(request.byteLength)
      // an answer that names the request: its length and first byte
      return Uint8Array.of(request.byteLength % 251, request[0] ?? 0)
    })
    const requests = [bytes(1, 1), bytes(100, 2), bytes(2 * 1024 * 1024, 3), bytes(0, 4), bytes(70_000, 5)]
    const answers = await Promise.all(requests.map(async r => await host.call(r)))
    answers.forEach((answer, i) => { assertBytesEqual(answer, Uint8Array.of(requests[i].byteLength % 251, requests[i][0] ?? 0), `answer ${i}`) })
    assert.deepEqual(seen, requests.map(r => r.byteLength))
  })

  it('makes the changes of each request before the next is handled, and the last ones once its answer left', async function () {
    const [hostEnd, replicaEnd] = await pair()
    const events: string[] = []
    serveReplicateStream(replicaEnd, (request) => {
      events.push(`handle ${request[0]}`)
      return { answer: Uint8Array.of(request[0]), apply: () => { events.push(`apply ${request[0]}`) } }
    })
    const host = new ReplicaChannel(hostEnd, 10_000, () => {})
    await Promise.all([1, 2, 3].map(async n => await host.call(Uint8Array.of(n))))
    assert.deepEqual(events, ['handle 1', 'apply 1', 'handle 2', 'apply 2', 'handle 3', 'apply 3'])
  })

  it('passes an error the replica throws back to that call only, with its code', async function () {
    const { host } = await channel((request) => {
      if (request[0] === 9) throw new PraasError('UNAVAILABLE', 'the replica log cannot write')
      return Uint8Array.of(1)
    })
    const [ok, failed, after] = [host.call(Uint8Array.of(1)), host.call(Uint8Array.of(9)), host.call(Uint8Array.of(2))]
    assertBytesEqual(await ok, Uint8Array.of(1))
    const err = await rejectsCode(failed, 'UNAVAILABLE')
    assert.equal(err.message, 'the replica log cannot write')
    assertBytesEqual(await after, Uint8Array.of(1))
  })

  it('fails every call on its way when the stream closes, and says the channel is closed', async function () {
    // nobody serves the other end: the calls wait until it goes away
    const [hostEnd, silent] = await pair()
    let onClose: () => void = () => {}
    const closed = new Promise<void>(resolve => { onClose = resolve })
    const host = new ReplicaChannel(hostEnd, 10_000, onClose)
    const waiting = [host.call(Uint8Array.of(1)), host.call(Uint8Array.of(2))]
    silent.abort(new Error('replica gone'))
    for (const call of waiting) await rejectsCode(call, 'UNAVAILABLE')
    await closed
    assert.equal(host.isOpen, false)
    await rejectsCode(host.call(Uint8Array.of(1)), 'UNAVAILABLE')
  })

  it('drops the stream when the oldest call gets no answer in time', async function () {
    const [hostEnd] = await pair()
    let onClose: () => void = () => {}
    const closed = new Promise<void>(resolve => { onClose = resolve })
    const host = new ReplicaChannel(hostEnd, 100, onClose)
    await rejectsCode(host.call(Uint8Array.of(1)), 'UNAVAILABLE')
    await closed
  })

  it('resets a stream whose frame claims more than the limit, before reading it', async function () {
    const { hostEnd, replicaEnd } = await channel(() => Uint8Array.of(0))
    const reset = new Promise<Error | undefined>(resolve => { replicaEnd.addEventListener('close', (evt) => { resolve(evt.error) }, { once: true }) })
    hostEnd.send(varint.encode(64 * 1024 * 1024))
    assert.ok((await reset) != null)
  })
})
