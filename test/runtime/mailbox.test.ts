import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ANY_SENDER, Mailbox } from '../../node/runtime/index.js'
import { senderShare } from '../../node/runtime/mailbox.js'
import { PraasError } from '../../protocol/index.js'
import type { Message } from '../../node/runtime/index.js'

const message = (from: string, text: string): Message => ({ from, data: new TextEncoder().encode(text) })
const textOf = (m: Message): string => new TextDecoder().decode(m.data)

async function codeOf (promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
    return undefined
  } catch (err) {
    return (err as PraasError).code
  }
}

/** Whether `promise` has settled after the microtasks and timers queued so far ran. */
async function settled (promise: Promise<unknown>): Promise<boolean> {
  let done = false
  promise.then(() => { done = true }, () => { done = true })
  await new Promise(resolve => setImmediate(resolve))
  return done
}

type Step =
  | { op: 'put', key: string, from: string, text: string }
  | { op: 'take', key: string, from: string }

const KEYS = ['a', 'b']
const SENDERS = ['p1', 'p2', 'p3']

describe('Mailbox', function () {
  it('hands out messages as a FIFO per key and sender, and serves waiters in the order they came (model)', async function () {
    // The model: one arrival-ordered list of unread messages per key, and one list of waiting
    // takes per key. A put goes to the first waiter that wants it, else to the end of its list.
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ op: fc.constant('put' as const), key: fc.constantFrom(...KEYS), from: fc.constantFrom(...SENDERS), text: fc.string({ maxLength: 8 }) }),
      fc.record({ op: fc.constant('take' as const), key: fc.constantFrom(...KEYS), from: fc.constantFrom(ANY_SENDER, ...SENDERS) })
    )
    await fc.assert(fc.asyncProperty(fc.array(step, { maxLength: 60 }), async (steps) => {
      const mailbox = new Mailbox(1024 * 1024)
      const unread = new Map<string, Message[]>(KEYS.map(k => [k, []]))
      const waiting = new Map<string, Array<{ from: string, expect: Message[] }>>(KEYS.map(k => [k, []]))
      const takes: Array<{ got: Promise<Message>, expect: Message[] }> = []
      const wants = (from: string, m: Message): boolean => from === ANY_SENDER || m.from === from
      let n = 0
      for (const s of steps) {
        if (s.op === 'put') {
          const m = message(s.from, `${n++}:${s.text}`)
          await mailbox.put(s.key, m)
          const waiters = waiting.get(s.key)!
          const index = waiters.findIndex(w => wants(w.from, m))
          if (index >= 0) waiters.splice(index, 1)[0].expect.push(m)
          else unread.get(s.key)!.push(m)
        } else {
          const expect: Message[] = []
          const queue = unread.get(s.key)!
          const index = queue.findIndex(m => wants(s.from, m))
          if (index >= 0) expect.push(queue.splice(index, 1)[0])
          else waiting.get(s.key)!.push({ from: s.from, expect })
          takes.push({ got: mailbox.take(s.from, s.key), expect })
        }
      }
      mailbox.close(new PraasError('NOT_FOUND', 'closed'))
      for (const { got, expect } of takes) {
        if (expect.length === 0) {
          assert.equal(await codeOf(got), 'NOT_FOUND')
        } else {
          assert.equal(textOf(await got), textOf(expect[0]))
        }
      }
      // in order within each key (the order of the keys themselves is not specified)
      for (const key of KEYS) {
        const left = mailbox.unread().filter(u => u.key === key).map(u => textOf(u.message))
        assert.deepEqual(left, unread.get(key)!.map(textOf))
      }
    }))
  })

  it('fails a take that waits past its timeoutMs with TIMEOUT, and keeps the next message for the next take', async function () {
    const mailbox = new Mailbox(1024)
    assert.equal(await codeOf(mailbox.take(ANY_SENDER, 'k', { timeoutMs: 20 })), 'TIMEOUT')
    await mailbox.put('k', message('p1', 'late'))
    assert.equal(mailbox.unread().length, 1)
    assert.equal(textOf(await mailbox.take(ANY_SENDER, 'k', { timeoutMs: 20 })), 'late')
  })

  it('fails a waiting take with TIMEOUT when its signal fires, and takes at once what is there without waiting', async function () {
    const mailbox = new Mailbox(1024)
    const controller = new AbortController()
    const waiting = mailbox.take('p1', 'k', { signal: controller.signal })
    assert.equal(await settled(waiting), false)
    controller.abort()
    assert.equal(await codeOf(waiting), 'TIMEOUT')
    await mailbox.put('k', message('p1', 'there'))
    // already there: served even with a signal that has fired, and with no timer to wait for
    assert.equal(textOf(await mailbox.take('p1', 'k', { signal: controller.signal, timeoutMs: 1 })), 'there')
  })

  it('makes a sender to a full mailbox wait until a take makes room, in order, and loses nothing', async function () {
    const per = 64 + 4 // a 4-byte message and the per-message overhead
    const mailbox = new Mailbox(2 * per)
    await mailbox.put('k', message('p1', 'm000'))
    await mailbox.put('k', message('p1', 'm001'))
    const third = mailbox.put('k', message('p1', 'm002'))
    const fourth = mailbox.put('k', message('p1', 'm003'))
    assert.equal(await settled(third), false)
    assert.equal(textOf(await mailbox.take('p1', 'k')), 'm000')
    await third
    assert.equal(await settled(fourth), false)
    const got = [textOf(await mailbox.take('p1', 'k')), textOf(await mailbox.take('p1', 'k'))]
    await fourth
    got.push(textOf(await mailbox.take('p1', 'k')))
    assert.deepEqual(got, ['m001', 'm002', 'm003'])
    assert.equal(mailbox.size, 0)
  })

  it('keeps one sender that filled its share from blocking another sender, and lets waiting senders in by turns', async function () {
    const limit = 64 * 1024 * 1024
    const share = senderShare(limit)
    const big = new Uint8Array(4 * 1024 * 1024)
    const mailbox = new Mailbox(limit)
    const flood: Array<Promise<void>> = []
    // the flooder fills its share (16 MiB and a bit) and then waits
    for (let i = 0; i < 8; i++) flood.push(mailbox.put('k', { from: 'flooder', data: big }))
    const waiting = await Promise.all(flood.map(settled))
    assert.ok(waiting.filter(done => !done).length >= 4, 'the flooder waits past its share')
    assert.ok(mailbox.size <= share)
    // another sender's messages go straight in, under the same key
    await mailbox.put('k', message('p2', 'hi'))
    assert.equal(textOf(await mailbox.take('p2', 'k')), 'hi')
    // reading the flooder's messages lets its waiting sends in, in the order sent
    for (let i = 0; i < 8; i++) assert.equal((await mailbox.take('flooder', 'k')).data.byteLength, big.byteLength)
    await Promise.all(flood)
    assert.equal(mailbox.size, 0)
  })
})
