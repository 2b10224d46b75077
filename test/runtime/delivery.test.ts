import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { PraasError } from '../../protocol/index.js'
import type { Committer, MailJournal, ProcessRecord } from '../../node/runtime/index.js'
import { fixture } from '../helpers/paths.js'
import { encode, harness, text } from './harness.js'
import type { Harness } from './harness.js'

/**
 * Stands in for the replicator: each commit cuts the mailbox's journal at the end of the turn (as
 * a batch would) and waits until the test says the batches are on the replicas (`release`: this
 * one and every later one), or failed (`fail`: the ones waiting).
 */
class Batches implements Committer {
  readonly tracking = true
  readonly cut: MailJournal[] = []
  private waiting: Array<PromiseWithResolvers<void>> = []
  private released = false

  async commit (record: ProcessRecord): Promise<void> {
    await new Promise(resolve => setImmediate(resolve))
    if (record.mailbox?.journaled === true) this.cut.push(record.mailbox.cutJournal())
    if (this.released) return
    const batch = Promise.withResolvers<void>()
    this.waiting.push(batch)
    await batch.promise
  }

  release (): void {
    this.released = true
    for (const batch of this.waiting) batch.resolve()
    this.waiting = []
  }

  hold (): void {
    this.released = false
  }

  /** Fails the batches that wait now, once they are cut. */
  async fail (error: PraasError): Promise<void> {
    for (let i = 0; i < 3; i++) await new Promise(resolve => setImmediate(resolve))
    for (const batch of this.waiting) batch.reject(error)
    this.waiting = []
  }
}

/** Whether `promise` has settled after the turns queued so far ran. */
async function settled (promise: Promise<unknown>): Promise<boolean> {
  let done = false
  promise.then(() => { done = true }, () => { done = true })
  for (let i = 0; i < 3; i++) await new Promise(resolve => setImmediate(resolve))
  return done
}

const message = (text: string): { from: string, data: Uint8Array } => ({ from: 'sender', data: new TextEncoder().encode(text) })
const recvOne = (timeoutMs = 5000): Uint8Array => encode({ from: '*', key: 'k', timeoutMs })

describe('runtime: delivery of replicated messages', function () {
  let h: Harness
  let batches: Batches

  beforeEach(async function () {
    batches = new Batches()
    h = await harness({ committer: batches })
    await h.apps.deploy('kit', await readFile(fixture('testkit')))
  })

  afterEach(async function () {
    batches.release()
    await h.stop()
  })

  it('acknowledges a queued message only once the batch that holds it is on the replicas', async function () {
    const { pid } = h.runtime.create('kit')
    const delivered = h.runtime.deliver(pid, 'k', message('one'))
    assert.equal(await settled(delivered), false)
    assert.deepEqual(batches.cut.map(b => b.puts.map(m => new TextDecoder().decode(m.data))), [['one']])
    batches.release()
    await delivered
  })

  it('acknowledges at once a message handed to a waiting recv, and one a recv takes before its batch is durable', async function () {
    const { pid } = h.runtime.create('kit')
    const waiting = h.runtime.invoke(pid, 'recvOne', recvOne())
    await new Promise(resolve => setTimeout(resolve, 50))
    await h.runtime.deliver(pid, 'k', message('handed'))
    const queued = h.runtime.deliver(pid, 'k', message('queued'))
    assert.equal(await settled(queued), false)
    const taking = h.runtime.invoke(pid, 'recvOne', recvOne())
    await queued
    // the two calls return once what they took is replicated
    batches.release()
    assert.deepEqual([JSON.parse(text(await waiting)).text, JSON.parse(text(await taking)).text], ['handed', 'queued'])
    // nothing to hold was ever cut: the handed one never, the queued one was put and then taken
    const puts = batches.cut.flatMap(b => b.puts.map(m => m.id))
    const takes = batches.cut.flatMap(b => b.takes)
    assert.deepEqual(takes.filter(id => !puts.includes(id)), [])
  })

  it('replicates the take of a call before the call returns', async function () {
    const { pid } = h.runtime.create('kit')
    batches.release()
    await h.runtime.deliver(pid, 'k', message('m'))
    const [put] = batches.cut.flatMap(b => b.puts)
    batches.hold()
    const call = h.runtime.invoke(pid, 'recvOne', recvOne())
    assert.equal(await settled(call), false, 'the call waits for its take to be durable')
    assert.deepEqual(batches.cut.at(-1)?.takes, [put.id])
    batches.release()
    assert.equal(JSON.parse(text(await call)).text, 'm')
  })

  it('takes back a message whose batch failed, so that sending it again leaves one copy', async function () {
    const { pid } = h.runtime.create('kit')
    const failed = h.runtime.deliver(pid, 'k', message('once'))
    await batches.fail(new PraasError('UNAVAILABLE', 'no replica'))
    await assert.rejects(failed, (err: PraasError) => err.code === 'UNAVAILABLE')
    batches.release()
    await h.runtime.deliver(pid, 'k', message('once'))
    assert.deepEqual(h.runtime.get(pid)!.mailbox!.unread().map(u => new TextDecoder().decode(u.message.data)), ['once'])
    // the replicas drop the first copy with the next batch
    assert.ok(batches.cut.some(b => b.takes.length === 1))
  })
})
