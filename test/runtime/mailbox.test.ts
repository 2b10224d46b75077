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
    const flood: Array<Promise<number>> = []
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

  it('journals what a replica needs: after every cut, a copy built from the cuts alone holds exactly the unread mail (model)', async function () {
    // Puts, takes (some waiting first, so that a put goes straight to a waiting recv) and cuts in
    // any order; a replica applies each cut in order: takes by id, then puts.
    type JournalStep = { op: 'put', key: string, from: string } | { op: 'take', key: string, from: string } | { op: 'cut' }
    const step: fc.Arbitrary<JournalStep> = fc.oneof(
      fc.record({ op: fc.constant('put' as const), key: fc.constantFrom(...KEYS), from: fc.constantFrom(...SENDERS) }),
      fc.record({ op: fc.constant('take' as const), key: fc.constantFrom(...KEYS), from: fc.constantFrom(ANY_SENDER, ...SENDERS) }),
      fc.constant({ op: 'cut' as const })
    )
    await fc.assert(fc.asyncProperty(fc.array(step, { maxLength: 60 }), async (steps) => {
      const mailbox = new Mailbox(1024 * 1024, { journaled: true })
      const replica = new Map<number, { key: string, from: string, text: string }>()
      const taken: Array<Promise<Message>> = []
      let n = 0
      // what the journal should hold: queued messages not cut yet, and ids taken that were cut
      const uncut = new Set<number>()
      let takenCut = 0
      const ids = (): number[] => mailbox.unread().map(u => u.id)
      const cut = (): void => {
        assert.equal(mailbox.journaled, uncut.size > 0 || takenCut > 0, 'journaled says whether a replica must hear of anything')
        const { puts, takes } = mailbox.cutJournal()
        for (const id of takes) assert.ok(replica.delete(id), `take of ${id}, which the replica does not hold`)
        for (const m of puts) {
          assert.ok(!replica.has(m.id), `id ${m.id} put twice`)
          replica.set(m.id, { key: m.key, from: m.from, text: new TextDecoder().decode(m.data) })
        }
        assert.equal(mailbox.journaled, false)
        uncut.clear()
        takenCut = 0
        const unread = mailbox.unread().map(u => ({ id: u.id, key: u.key, from: u.message.from, text: textOf(u.message) }))
        assert.deepEqual([...replica].map(([id, m]) => ({ id, ...m })).sort((a, b) => a.id - b.id), unread)
      }
      for (const s of steps) {
        if (s.op === 'put') {
          const before = ids().length
          const id = await mailbox.put(s.key, message(s.from, `m${n++}`))
          // queued, unless a waiting take got it
          if (ids().length > before) uncut.add(id)
          assert.equal(mailbox.uncut(id), uncut.has(id))
        } else if (s.op === 'take') {
          const before = ids()
          const got = mailbox.take(s.from, s.key)
          got.catch(() => {})
          taken.push(got)
          const after = new Set(ids())
          for (const id of before.filter(id => !after.has(id))) {
            if (!uncut.delete(id)) takenCut++
          }
        } else {
          cut()
        }
      }
      cut()
      mailbox.close(new PraasError('NOT_FOUND', 'closed'))
      await Promise.allSettled(taken)
    }))
  })

  it('numbers restored messages as they were, and goes on after the highest', async function () {
    const mailbox = new Mailbox(1024, { journaled: true })
    mailbox.restore('k', message('p1', 'a'), 4)
    mailbox.restore('k', message('p1', 'b'), 9)
    assert.equal(mailbox.journaled, false, 'a restored message is on the replicas already')
    await mailbox.put('k', message('p2', 'c'))
    assert.deepEqual(mailbox.unread().map(u => u.id), [4, 9, 10])
    assert.deepEqual(mailbox.cutJournal().puts.map(m => m.id), [10])
    assert.equal(textOf(await mailbox.take(ANY_SENDER, 'k')), 'a')
    assert.deepEqual(mailbox.cutJournal().takes, [4])
  })

  it('journals nothing for a message handed to a waiting take, or taken before its cut', async function () {
    const mailbox = new Mailbox(1024, { journaled: true })
    const waiting = mailbox.take(ANY_SENDER, 'k')
    const handed = await mailbox.put('k', message('p1', 'x'))
    assert.equal(textOf(await waiting), 'x')
    assert.equal(mailbox.uncut(handed), false)
    assert.equal(mailbox.journaled, false)
    const queued = await mailbox.put('k', message('p1', 'y'))
    assert.equal(mailbox.uncut(queued), true, 'a queued message waits for its cut')
    assert.equal(textOf(await mailbox.take(ANY_SENDER, 'k')), 'y')
    assert.equal(mailbox.uncut(queued), false)
    assert.equal(mailbox.journaled, false)
    assert.deepEqual(mailbox.cutJournal(), { puts: [], takes: [] })
  })
})
