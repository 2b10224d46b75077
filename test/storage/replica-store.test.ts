import assert from 'node:assert/strict'
import { readFile, stat, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import fc from 'fast-check'
import { ReplicaStore } from '../../node/storage/index.js'
import { frame } from '../../node/storage/replica-log.js'
import { ReplicaRecord } from '../../protocol/pb/storage.js'
import { throwsCode } from '../protocol/helpers.js'
import { epoch, plain, withDir } from './arbitraries.js'
import type { ActivationEpoch, ApplyResult, ProcessImage, WriteBatch } from '../../node/storage/index.js'

type Command =
  | { kind: 'apply', batch: WriteBatch }
  | { kind: 'install', image: ProcessImage }
  | { kind: 'fence', pid: string, epoch: ActivationEpoch }
  | { kind: 'drop', pid: string }
  | { kind: 'rebase', pid: string, from: { epoch: ActivationEpoch, seq: number }, to: ActivationEpoch }
  | { kind: 'reopen' }

const PIDS = ['a', 'b/ü']
const pid = fc.constantFrom(...PIDS)
const seq = fc.nat(5)
const value = fc.option(fc.uint8Array({ maxLength: 40 }), { nil: undefined })

/** Message ids from a small range, so that batches take messages that earlier ones put. */
const messageId = fc.integer({ min: 1, max: 6 })
const message = (from: string): fc.Arbitrary<ProcessImage['messages'][number]> =>
  fc.record({ id: messageId, key: fc.constantFrom('m', 'n'), from: fc.constant(from), data: fc.uint8Array({ maxLength: 8 }) })

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      pid,
      epoch,
      seq,
      ops: fc.array(fc.record({ key: fc.constantFrom('x', 'y', 'z'), value }), { maxLength: 3 }),
      puts: fc.uniqueArray(message('s'), { maxLength: 2, selector: (m) => m.id }),
      takes: fc.array(messageId, { maxLength: 2 })
    }).map((b) => ({ kind: 'apply' as const, batch: { ...b, app: 'app', appHash: '' } }))
  },
  {
    weight: 2,
    arbitrary: fc.record({
      pid,
      epoch,
      seq,
      state: fc.array(fc.tuple(fc.constantFrom('x', 'y', 'w'), fc.uint8Array({ maxLength: 40 })), { maxLength: 3 }).map((e) => new Map(e)),
      messages: fc.uniqueArray(message('p'), { maxLength: 3, selector: (m) => m.id })
    }).map((i) => ({ kind: 'install' as const, image: { ...i, app: 'app', appHash: '' } }))
  },
  { weight: 1, arbitrary: fc.record({ pid, epoch }).map((f) => ({ kind: 'fence' as const, ...f })) },
  { weight: 1, arbitrary: pid.map((p) => ({ kind: 'drop' as const, pid: p })) },
  {
    weight: 2,
    arbitrary: fc.record({ pid, from: fc.record({ epoch, seq }), to: epoch }).map((r) => ({ kind: 'rebase' as const, ...r }))
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) }
)

/** The image with its mail in id order, as the store hands it out. */
function byId (image: ProcessImage | undefined): ProcessImage | undefined {
  return image == null ? undefined : { ...image, messages: [...image.messages].sort((a, b) => a.id - b.id) }
}

function cmp (a: ActivationEpoch, b: ActivationEpoch): number {
  return a.term !== b.term ? a.term - b.term : a.counter - b.counter
}

/** The specification, as plainly as it can be written. */
class Model {
  images = new Map<string, ProcessImage>()
  fences = new Map<string, ActivationEpoch>()

  apply (b: WriteBatch): ApplyResult {
    const held = this.images.get(b.pid)
    const fence = this.fences.get(b.pid)
    if ((fence != null && cmp(b.epoch, fence) < 0) || (held != null && cmp(b.epoch, held.epoch) < 0)) return 'stale'
    if (held == null || cmp(b.epoch, held.epoch) > 0) return 'gap'
    if (b.seq <= held.seq) return 'ok'
    if (b.seq !== held.seq + 1) return 'gap'
    for (const op of b.ops) {
      if (op.value == null) held.state.delete(op.key)
      else held.state.set(op.key, op.value)
    }
    // takes first, then puts: a batch never takes a message it puts (the host drops such a pair)
    held.messages = held.messages.filter((m) => !(b.takes ?? []).includes(m.id))
    for (const m of b.puts ?? []) held.messages = [...held.messages.filter((h) => h.id !== m.id), m]
    held.seq = b.seq
    return 'ok'
  }

  install (image: ProcessImage): ApplyResult {
    const held = this.images.get(image.pid)
    const fence = this.fences.get(image.pid)
    if (fence != null && cmp(image.epoch, fence) < 0) return 'stale'
    if (held != null && (cmp(image.epoch, held.epoch) < 0 || (cmp(image.epoch, held.epoch) === 0 && image.seq < held.seq))) return 'stale'
    this.images.set(image.pid, { ...image, state: new Map(image.state), messages: [...image.messages] })
    return 'ok'
  }

  rebase (p: string, from: { epoch: ActivationEpoch, seq: number }, to: ActivationEpoch): ApplyResult {
    const held = this.images.get(p)
    const fence = this.fences.get(p)
    if ((fence != null && cmp(to, fence) < 0) || (held != null && cmp(to, held.epoch) < 0)) return 'stale'
    if (held == null || cmp(held.epoch, from.epoch) !== 0 || held.seq !== from.seq || cmp(to, from.epoch) < 0) return 'gap'
    held.epoch = to
    return 'ok'
  }

  fence (p: string, e: ActivationEpoch): void {
    const fence = this.fences.get(p)
    if (fence == null || cmp(e, fence) > 0) this.fences.set(p, e)
  }
}

async function opened (dir: string, maxLogBytes?: number): Promise<ReplicaStore> {
  const store = new ReplicaStore(dir, { maxLogBytes })
  await store.open()
  return store
}

function batch (p: string, s: number, ops: WriteBatch['ops'], e = { term: 1, counter: 0 }): WriteBatch {
  return { pid: p, app: 'app', appHash: '', epoch: e, seq: s, ops }
}

/** A replica of pid `p` with no state, as of `s` in epoch (1, 0). */
function empty (s: number): ProcessImage {
  return { pid: 'p', app: 'app', appHash: '', epoch: { term: 1, counter: 0 }, seq: s, state: new Map(), messages: [] }
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('storage/replica-store', () => {
  it('behaves like the model under any sequence of batches, installs, fences, drops and restarts', async function () {
    this.timeout(60_000)
    await fc.assert(fc.asyncProperty(fc.array(command, { maxLength: 40 }), fc.constantFrom(undefined, 300), async (commands, maxLogBytes) => {
      await withDir(async (dir) => {
        const model = new Model()
        let store = await opened(dir, maxLogBytes)
        for (const c of commands) {
          if (c.kind === 'apply') assert.equal(store.apply(c.batch), model.apply(c.batch), 'apply')
          else if (c.kind === 'install') assert.equal(store.install(c.image), model.install(c.image), 'install')
          else if (c.kind === 'fence') { store.fence(c.pid, c.epoch); model.fence(c.pid, c.epoch) } else if (c.kind === 'drop') { store.drop(c.pid); model.images.delete(c.pid) } else if (c.kind === 'rebase') assert.equal(store.rebase(c.pid, c.from, c.to), model.rebase(c.pid, c.from, c.to), 'rebase')
          else {
            await store.close()
            store = await opened(dir, maxLogBytes)
          }
        }
        const check = (s: ReplicaStore): void => {
          assert.deepEqual(s.pids().sort(), [...model.images.keys()].sort())
          for (const p of PIDS) assert.deepStrictEqual(plain(s.get(p)), plain(byId(model.images.get(p))), p)
        }
        check(store)
        await store.close()
        const reopened = await opened(dir, maxLogBytes)
        check(reopened)
        await reopened.close()
      })
    }), { numRuns: 150 })
  })

  it('asks for a full image before the first batch and after a skipped one', async () => {
    await withDir(async (dir) => {
      const store = await opened(dir)
      assert.equal(store.apply(batch('p', 1, [])), 'gap')
      store.install(empty(1))
      assert.equal(store.apply(batch('p', 2, [{ key: 'k', value: enc('v') }])), 'ok')
      assert.equal(store.apply(batch('p', 2, [{ key: 'k', value: enc('other') }])), 'ok')
      assert.equal(store.apply(batch('p', 4, [])), 'gap')
      assert.equal(store.apply(batch('p', 1, [], { term: 2, counter: 0 })), 'gap')
      assert.equal(store.apply(batch('p', 3, [], { term: 0, counter: 9 })), 'stale')
      store.fence('p', { term: 1, counter: 1 })
      assert.equal(store.apply(batch('p', 3, [])), 'stale')
      assert.equal(new TextDecoder().decode(store.get('p')!.state.get('k')), 'v')
      assert.equal(store.get('p')!.seq, 2)
      await store.close()
    })
  })

  it('gives copies that later batches do not change', async () => {
    await withDir(async (dir) => {
      const store = await opened(dir)
      store.install(empty(0))
      const before = store.get('p')!
      store.apply(batch('p', 1, [{ key: 'k', value: enc('v') }]))
      assert.equal(before.state.size, 0)
      assert.equal(before.seq, 0)
      await store.close()
      throwsCode(() => store.apply(batch('p', 2, [])), 'UNAVAILABLE')
    })
  })

  it('loses only the last record when the log tail is torn', async () => {
    await withDir(async (dir) => {
      const store = await opened(dir)
      store.install(empty(0))
      for (let s = 1; s <= 5; s++) {
        store.apply(batch('p', s, [{ key: `k${s}`, value: enc(`v${s}`) }]))
        await store.flush()
      }
      await store.close()
      const log = join(dir, 'log')
      await truncate(log, (await stat(log)).size - 3)
      const reopened = await opened(dir)
      const image = reopened.get('p')!
      assert.equal(image.seq, 4)
      assert.deepEqual([...image.state.keys()], ['k1', 'k2', 'k3', 'k4'])
      assert.equal(reopened.apply(batch('p', 5, [{ key: 'k5', value: enc('again') }])), 'ok')
      await reopened.close()
      const again = await opened(dir)
      assert.equal(again.get('p')!.seq, 5)
      await again.close()
    })
  })

  it('drops a corrupt last record and keeps the ones before it', async () => {
    await withDir(async (dir) => {
      const store = await opened(dir)
      store.install(empty(0))
      await store.flush()
      store.apply(batch('p', 1, [{ key: 'k', value: enc('value') }]))
      await store.close()
      const log = join(dir, 'log')
      const bytes = await readFile(log)
      bytes[bytes.byteLength - 2] ^= 0xff
      await writeFile(log, bytes)
      const reopened = await opened(dir)
      assert.equal(reopened.get('p')!.seq, 0)
      await reopened.close()
    })
  })

  it('compacts a log of overwritten values and keeps the live state', async () => {
    await withDir(async (dir) => {
      const store = await opened(dir, 64 * 1024)
      store.install(empty(0))
      for (let s = 1; s <= 200; s++) {
        store.apply(batch('p', s, [{ key: 'k', value: new Uint8Array(1024).fill(s) }]))
        if (s % 10 === 0) await store.flush()
      }
      await store.close()
      assert.ok((await stat(join(dir, 'log'))).size < 100 * 1024)
      const reopened = await opened(dir, 64 * 1024)
      assert.equal(reopened.get('p')!.seq, 200)
      assert.equal(reopened.get('p')!.state.get('k')![0], 200)
      await reopened.close()
    })
  })

  it('reads a log written before messages were numbered: they are numbered in order, and a rebase with mail replaces it', async () => {
    await withDir(async (dir) => {
      const head = { pid: 'p', app: 'app', appHash: '', term: 1, counter: 0, seq: 0, ops: [], taken: [] }
      const mail = (texts: string[]): ReplicaRecord['messages'] => texts.map(t => ({ id: 0, key: 'k', from: 'q', data: enc(t) as Uint8Array<ArrayBuffer> }))
      const records = [
        { ...head, kind: ReplicaRecord.Kind.INSTALL, messages: mail(['a', 'b']) },
        { ...head, kind: ReplicaRecord.Kind.REBASE, term: 2, messages: mail(['c']) },
        { ...head, kind: ReplicaRecord.Kind.INSTALL, pid: 'r', messages: mail(['d']) },
        { ...head, kind: ReplicaRecord.Kind.REBASE, pid: 'r', term: 2, messages: [] }
      ]
      await writeFile(join(dir, 'log'), Buffer.concat(records.flatMap(r => frame(ReplicaRecord.encode(r)))))
      const store = await opened(dir)
      const texts = (p: string): Array<[number, string]> => store.get(p)!.messages.map(m => [m.id, new TextDecoder().decode(m.data)])
      assert.deepEqual(texts('p'), [[1, 'c']])
      assert.deepEqual(store.get('p')!.epoch, { term: 2, counter: 0 })
      // a rebase without mail keeps the held mail
      assert.deepEqual(texts('r'), [[1, 'd']])
      await store.close()
    })
  })

  it('puts and takes messages by id with the batches, and keeps them across a restart', async () => {
    await withDir(async (dir) => {
      const store = await opened(dir)
      store.install({ ...empty(0), messages: [{ id: 3, key: 'k', from: 'q', data: enc('held') }] })
      const put = (id: number, text: string): ProcessImage['messages'][number] => ({ id, key: 'k', from: 'q', data: enc(text) })
      assert.equal(store.apply({ ...batch('p', 1, []), puts: [put(4, 'x'), put(5, 'y')] }), 'ok')
      assert.equal(store.apply({ ...batch('p', 2, []), takes: [3, 5] }), 'ok')
      const ids = (s: ReplicaStore): number[] => s.get('p')!.messages.map(m => m.id)
      assert.deepEqual(ids(store), [4])
      await store.close()
      const reopened = await opened(dir)
      assert.deepEqual(ids(reopened), [4])
      assert.equal(new TextDecoder().decode(reopened.get('p')!.messages[0].data), 'x')
      await reopened.close()
    })
  })
})
