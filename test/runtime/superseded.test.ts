import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { PraasError } from '../../protocol/index.js'
import { fixture } from '../helpers/paths.js'
import { encode, harness, text } from './harness.js'
import type { Committer, ProcessRecord } from '../../node/runtime/index.js'
import type { Harness } from './harness.js'

/** Stands in for the replicator of an activation that a newer one superseded: every commit that carries writes fails MOVED, as a fenced replica answers. */
class Fenced implements Committer {
  readonly tracking = true
  async commit (record: ProcessRecord): Promise<void> {
    await new Promise(resolve => setImmediate(resolve))
    if (record.dirty.size > 0 || record.mailbox?.journaled === true) throw new PraasError('MOVED', `process ${record.pid} has a newer activation elsewhere`)
  }
}

const codeOf = async (promise: Promise<unknown>): Promise<string> => await promise.then(() => 'answered', (err: PraasError) => err.code)

describe('runtime: a call whose activation was superseded', function () {
  let h: Harness

  beforeEach(async function () {
    h = await harness({ committer: new Fenced() })
    await h.apps.deploy('kit', await readFile(fixture('testkit')))
  })

  afterEach(async function () {
    await h.stop()
  })

  it('fails UNAVAILABLE, never MOVED, once it ran: MOVED would have its caller send it again, and its write may be in the newer activation', async function () {
    const { pid } = h.runtime.create('kit')
    assert.equal(await codeOf(h.runtime.invoke(pid, 'incr', new Uint8Array(0))), 'UNAVAILABLE')
    // a message that went in and could not be made durable: the same
    assert.equal(await codeOf(h.runtime.deliver(pid, 'k', { from: 'sender', data: encode('m') })), 'UNAVAILABLE')
    // a call that reaches no activation here did not run: MOVED, and its caller looks elsewhere
    h.runtime.release(pid, new PraasError('MOVED', 'stepped down'))
    assert.equal(await codeOf(h.runtime.invoke(pid, 'incr', new Uint8Array(0))), 'MOVED')
  })

  it('cannot write into the activation that came back after its own was let go', async function () {
    const { pid } = h.runtime.create('kit')
    // a call reads n (nothing: 0) and writes 1 after 200 ms
    const slow = h.runtime.invoke(pid, 'slowIncr', encode('200'))
    await new Promise(resolve => setTimeout(resolve, 50))
    // meanwhile its activation steps down, and the process comes back here from a copy at n = 10
    h.runtime.release(pid, new PraasError('MOVED', 'stepped down'))
    const back = h.runtime.adopt({ pid, app: 'kit', seq: 1, state: new Map([['n', encode('10')]]), messages: [] }, { term: 2, counter: 1 })
    assert.notEqual(await codeOf(slow), 'answered')
    assert.equal(text(back.state.get('n')!), '10', 'the late write of the old call did not reach the new activation')
  })
})
