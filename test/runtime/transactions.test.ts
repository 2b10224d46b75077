import assert from 'node:assert/strict'
import fc from 'fast-check'
import { PraasError } from '../../protocol/index.js'
import { encode, harness, text } from './harness.js'
import type { Harness } from './harness.js'

const APP = String.raw`
const dec = new TextDecoder()
const num = (b) => Number(b == null ? 0 : dec.decode(b)) || 0
const json = (b) => JSON.parse(dec.decode(b))
export async function incr (input, ctx) {
  const key = dec.decode(input) || 'n'
  return await ctx.state.transaction(async (tx) => {
    const n = num(await tx.get(key))
    await new Promise(resolve => setTimeout(resolve, 0))   // give other calls every chance to interleave
    await tx.put(key, String(n + 1))
    return String(n + 1)
  })
}
export async function plainIncr (input, ctx) {
  const n = num(await ctx.state.get('n'))
  await new Promise(resolve => setTimeout(resolve, 0))
  await ctx.state.put('n', String(n + 1))
}
/** Moves one unit from a to b when a has one: the sum of all keys never changes. */
export async function move (input, ctx) {
  const { from, to } = json(input)
  await ctx.state.transaction(async (tx) => {
    const a = num(await tx.get(from))
    if (a <= 0 || from === to) return
    await tx.put(from, String(a - 1))
    await new Promise(resolve => setTimeout(resolve, 0))
    await tx.put(to, String(num(await tx.get(to)) + 1))
  })
}
/** Reads every key in one transaction: their sum. */
export async function total (_input, ctx) {
  return String(await ctx.state.transaction(async (tx) => {
    let sum = 0
    for (const k of await tx.keys()) sum += num(await tx.get(k))
    return sum
  }))
}
export async function failing (_input, ctx) {
  await ctx.state.transaction(async (tx) => {
    await tx.put('n', '999')
    throw new Error('changed my mind')
  })
}
export async function writeAround (_input, ctx) {
  await ctx.state.transaction(async () => { await ctx.state.put('x', '1') })
}
export async function pair (_input, ctx) {
  await ctx.state.transaction(async (tx) => {
    const v = String(num(await tx.get('a')) + 1)
    await tx.put('a', v)
    await new Promise(resolve => setTimeout(resolve, 1))
    await tx.put('b', v)
  })
}
export async function readPair (_input, ctx) {
  return JSON.stringify([dec.decode(await ctx.state.get('a') ?? new Uint8Array()), dec.decode(await ctx.state.get('b') ?? new Uint8Array())])
}
`

describe('ctx.state.transaction', function () {
  this.timeout(120_000)
  let h: Harness

  beforeEach(async function () {
    h = await harness()
    await h.apps.deploy('tx', encode(APP))
  })

  afterEach(async function () {
    await h.stop()
  })

  const invoke = async (pid: string, fn: string, input: unknown = ''): Promise<string> => text(await h.runtime.invoke(pid, fn, encode(input)))

  it('ends 200 concurrent transactional increments at 200 (plain get + put does not)', async function () {
    const { pid } = h.runtime.create('tx')
    const results = await Promise.all(Array.from({ length: 200 }, async () => await invoke(pid, 'incr', 'n')))
    assert.equal(text(h.runtime.get(pid)!.state.get('n')!), '200')
    assert.deepEqual(results.map(Number).sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i + 1))
    const other = h.runtime.create('tx').pid
    await Promise.all(Array.from({ length: 50 }, async () => await invoke(other, 'plainIncr')))
    assert.ok(Number(text(h.runtime.get(other)!.state.get('n')!)) < 50, 'the race a transaction prevents')
  })

  it('drops the writes of a transaction whose callback throws', async function () {
    const { pid } = h.runtime.create('tx')
    await invoke(pid, 'incr', 'n')
    await assert.rejects(invoke(pid, 'failing'), (err: PraasError) => err.code === 'FUNCTION_ERROR' && /changed my mind/.test(err.message))
    assert.equal(await invoke(pid, 'incr', 'n'), '2')
  })

  it('refuses a write beside the transaction in its own call, instead of waiting for itself', async function () {
    const { pid } = h.runtime.create('tx')
    await assert.rejects(invoke(pid, 'writeAround'), (err: PraasError) => err.code === 'BAD_REQUEST')
    assert.equal(await invoke(pid, 'incr', 'n'), '1')
  })

  it('is never seen half done by reads outside it', async function () {
    const { pid } = h.runtime.create('tx')
    const reads: Array<Promise<string>> = []
    const writes = Array.from({ length: 30 }, async () => { await invoke(pid, 'pair') })
    for (let i = 0; i < 60; i++) {
      reads.push(invoke(pid, 'readPair'))
      await new Promise(resolve => setImmediate(resolve))
    }
    await Promise.all(writes)
    for (const read of await Promise.all(reads)) {
      const [a, b] = JSON.parse(read) as string[]
      assert.equal(a, b, 'a and b change together')
    }
  })

  it('keeps the model: concurrent increments and moves end as some serial order would (fast-check)', async function () {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('incr' as const), key: fc.constantFrom('a', 'b', 'c') }),
      fc.record({ kind: fc.constant('move' as const), from: fc.constantFrom('a', 'b', 'c'), to: fc.constantFrom('a', 'b', 'c') })
    )
    await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
      const { pid } = h.runtime.create('tx')
      await Promise.all(ops.map(async o => o.kind === 'incr' ? await invoke(pid, 'incr', o.key) : await invoke(pid, 'move', o)))
      const state = h.runtime.get(pid)!.state
      const values = ['a', 'b', 'c'].map(k => Number(text(state.get(k) ?? new Uint8Array())) || 0)
      const increments = ops.filter(o => o.kind === 'incr').length
      assert.equal(values.reduce((x, y) => x + y, 0), increments, 'moves keep the sum')
      assert.ok(values.every(v => v >= 0), 'no key went below zero')
      assert.equal(await invoke(pid, 'total'), String(increments))
      h.runtime.delete(pid)
    }), { numRuns: 25 })
  })
})
