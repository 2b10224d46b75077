import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import fc from 'fast-check'
import { ProcessState } from '../../node/runtime/process-state.js'
import { fixture } from '../helpers/paths.js'
import { encode, harness } from './harness.js'

type Op =
  | { op: 'set', key: string, value: Uint8Array }
  | { op: 'delete', key: string }
  | { op: 'clear' }

const keys = fc.constantFrom('a', 'b', 'c', 'count', '')
const values = fc.oneof(fc.uint8Array({ maxLength: 70 }), fc.uint8Array({ minLength: 60, maxLength: 300 }))
const ops: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('set' as const), key: keys, value: values }), weight: 5 },
  { arbitrary: fc.record({ op: fc.constant('delete' as const), key: keys }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('clear' as const) }), weight: 1 }
)

const plain = (entries: Iterable<[string, Uint8Array]>): Array<[string, number[]]> => [...entries].map(([k, v]) => [k, [...v]])

describe('runtime: process state', function () {
  it('behaves like a Map of keys to bytes under any sequence of writes, deletes and clears', function () {
    fc.assert(fc.property(fc.array(ops, { maxLength: 40 }), (sequence) => {
      const state = new ProcessState()
      const model = new Map<string, Uint8Array>()
      for (const step of sequence) {
        if (step.op === 'set') {
          assert.equal(state.set(step.key, step.value), state)
          model.set(step.key, step.value)
        } else if (step.op === 'delete') {
          assert.equal(state.delete(step.key), model.delete(step.key))
        } else {
          state.clear()
          model.clear()
        }
        assert.equal(state.size, model.size)
        assert.deepEqual(plain(state), plain(model))
        assert.deepEqual([...state.keys()], [...model.keys()])
        assert.deepEqual([...state.values()].map(v => [...v]), [...model.values()].map(v => [...v]))
        for (const key of ['a', 'b', 'c', 'count', '', 'other']) {
          assert.equal(state.has(key), model.has(key))
          const got = state.get(key)
          assert.deepEqual(got == null ? got : [...got], model.has(key) ? [...model.get(key)!] : undefined)
        }
        const seen: Array<[string, number[]]> = []
        state.forEach((value, key, map) => { assert.equal(map, state); seen.push([key, [...value]]) })
        assert.deepEqual(seen, plain(model))
      }
      // a copy made from it (as an image is) holds the same entries in the same order
      assert.deepEqual(plain(new Map(state)), plain(model))
      assert.deepEqual(plain(new ProcessState(model)), plain(model))
    }))
  })

  it('hands out a copy of a small value, which the caller may change', function () {
    const state = new ProcessState([['k', Uint8Array.of(1, 2, 3)]])
    const first = state.get('k')!
    first[0] = 9
    assert.deepEqual([...state.get('k')!], [1, 2, 3])
  })

  it('is what a created process starts with, and what a restored one of one key gets', async function () {
    const h = await harness()
    try {
      await h.apps.deploy('kit', await readFile(fixture('testkit')))
      const { pid } = h.runtime.create('kit')
      await h.runtime.invoke(pid, 'put', encode({ key: 'n', value: 'seven' }))
      const record = h.runtime.get(pid)!
      assert.ok(record.state instanceof ProcessState)
      assert.equal(new TextDecoder().decode(await h.runtime.invoke(pid, 'get', encode('n'))), 'seven')
      // no message came and none was asked for: no mailbox was made
      assert.equal(record.mailbox, undefined)
      const adopted = h.runtime.adopt({ pid: 'restoredPid00001', app: 'kit', seq: 3, state: new Map([['n', Uint8Array.of(7)]]), messages: [] }, { term: 1, counter: 1 })
      assert.ok(adopted.state instanceof ProcessState)
      assert.deepEqual([...adopted.state.get('n')!], [7])
    } finally {
      await h.stop()
    }
  })
})
