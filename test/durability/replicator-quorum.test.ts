import assert from 'node:assert/strict'
import { RESULT_OK, Replicator } from '../../node/durability/replicator.js'
import { PraasError } from '../../protocol/index.js'
import { rejectsCode } from '../protocol/helpers.js'
import type { StateClient } from '../../node/durability/state-client.js'
import type { ProcessRecord } from '../../node/runtime/index.js'
import type { OutgoingImage } from '../../node/durability/state-client.js'
import type { Logger } from '@libp2p/interface'

const log = Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false }) as unknown as Logger

/** Just what the replicator reads of a process: its writes since the last batch, and an empty mailbox. */
function record (): ProcessRecord {
  return {
    pid: 'p',
    app: 'counter',
    epoch: { term: 1, counter: 1 },
    seq: 0,
    running: 0,
    state: new Map(),
    dirty: new Map(),
    mailbox: { journaled: false, cutJournal: () => ({ puts: [], takes: [] }), unread: () => [] }
  } as unknown as ProcessRecord
}

describe('durability/replicator: no write is acknowledged on fewer replicas than it needs', function () {
  it('fails the calls waiting for a group commit when the reseat before their cut found no replica, and answers nothing more until a new replica holds their writes', async function () {
    // a host of a cluster of three with R = 2: one replica (B) is needed; C is out of reach
    let live = ['B']
    const calls: Array<PromiseWithResolvers<Uint8Array>> = []
    const installs: Array<{ peer: string, image: OutgoingImage }> = []
    const state = {
      replicate: async () => { const call = Promise.withResolvers<Uint8Array>(); calls.push(call); return await call.promise },
      pushSerialized: async (peer: string, _fn: string, image: OutgoingImage) => { installs.push({ peer, image }); return Uint8Array.of(RESULT_OK) },
      drop: () => {}
    } as unknown as StateClient
    const replicator = new Replicator({ selfId: 'A', copies: 2, members: () => live, clusterSize: () => 3, appHash: () => '', state, onStale: () => {}, log })
    const r = record()
    // a call ends: its batch goes to B at once
    r.state.set('n', Uint8Array.of(1))
    r.dirty = new Map([['n', Uint8Array.of(1)]])
    const first = replicator.commit(r)
    first.catch(() => {})
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(calls.length, 1)
    // another call ends while that batch is on its way and a third runs: its writes wait for the
    // next cut, at the end of this turn (group commit)
    r.running = 1
    r.state.set('n', Uint8Array.of(2))
    r.dirty = new Map([['n', Uint8Array.of(2)]])
    const second = replicator.commit(r)
    second.catch(() => {})
    // before that cut, B fails (a cut link, its connection aborted) and no other node is live:
    // the reseat leaves the process with no replica
    live = []
    calls[0].reject(new PraasError('UNAVAILABLE', 'connection aborted'))
    await rejectsCode(first, 'UNAVAILABLE')
    // the second call's write is on this node alone: it must not be acknowledged
    const outcome = await second.then(() => 'acknowledged', (err: PraasError) => err.code)
    assert.equal(outcome, 'UNAVAILABLE')
    // the activation's state holds that write: a call that only reads it is not answered either
    r.running = 0
    r.dirty = new Map()
    await rejectsCode(replicator.commit(r), 'UNAVAILABLE')
    assert.equal(installs.length, 0)
    // C comes back (B stays suspect for a while): C gets a full copy of the state before anything is answered
    live = ['C']
    await replicator.commit(r)
    assert.deepEqual(installs.map(i => i.peer), ['C'])
    assert.equal(r.owes, undefined, 'the activation owes nothing once its replica holds the copy')
    // and the next call pays nothing more
    await replicator.commit(r)
    assert.equal(installs.length, 1)
  })

  it('holds the answers of an activation whose writes wait for replicas that cannot be found, and not of one that wrote nothing', async function () {
    const state = { replicate: async () => await new Promise<Uint8Array>(() => {}), drop: () => {} } as unknown as StateClient
    // R = 2 in a cluster of three, and no other node live: no replica can be had
    const replicator = new Replicator({ selfId: 'A', copies: 2, members: () => [], clusterSize: () => 3, appHash: () => '', state, onStale: () => {}, log })
    const reader = record()
    await rejectsCode(replicator.commit(reader), 'UNAVAILABLE')
    assert.equal(reader.owes, undefined, 'a call that wrote nothing fails, and the activation owes nothing')
    const writer = record()
    writer.dirty = new Map([['n', Uint8Array.of(1)]])
    await rejectsCode(replicator.commit(writer), 'UNAVAILABLE')
    assert.equal(writer.owes, 1)
  })
})
