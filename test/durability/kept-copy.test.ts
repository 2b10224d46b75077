import assert from 'node:assert/strict'
import { Lifecycle } from '../../node/durability/lifecycle.js'
import { ReplicaStore } from '../../node/storage/index.js'
import { withDir } from '../storage/arbitraries.js'
import type { LifecycleInit } from '../../node/durability/lifecycle.js'
import type { ProcessRecord } from '../../node/runtime/index.js'
import type { Logger } from '@libp2p/interface'

const log = Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false }) as unknown as Logger
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
const EPOCH = { term: 3, counter: 1 }

/** An activation at batch 5 whose state holds n = 11; `uncut`: n = 11 was written after batch 5 and not cut yet (batch 5 has n = 10). */
function activation (uncut: boolean): ProcessRecord {
  return {
    pid: 'p',
    app: 'counter',
    epoch: EPOCH,
    seq: 5,
    state: new Map([['n', bytes('11')]]),
    dirty: new Map(uncut ? [['n', bytes('11')]] : []),
    mailbox: { journaled: false, unread: () => [] }
  } as unknown as ProcessRecord
}

describe('durability: the copy an activation keeps when it steps down', function () {
  for (const uncut of [false, true]) {
    it(uncut
      ? 'is the version of the next batch when it holds writes no batch carries yet: no other copy of its version holds another state'
      : 'is the version of its last batch when every write was cut', async function () {
      await withDir(async (dir) => {
        const replicas = new ReplicaStore(`${dir}/replicas`)
        await replicas.open()
        const lifecycle = new Lifecycle({ replicas, replicator: { tracking: true }, apps: { get: () => undefined }, log } as unknown as LifecycleInit)
        lifecycle.keepCopy(activation(uncut))
        const version = replicas.version('p')
        assert.deepEqual({ epoch: version?.epoch, seq: version?.seq }, { epoch: EPOCH, seq: uncut ? 6 : 5 })
        assert.equal(new TextDecoder().decode(replicas.get('p')!.state.get('n')), '11')
        await replicas.close()
      })
    })
  }
})
