import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { PraasError } from '../../protocol/index.js'
import { newPid } from '../../node/runtime/index.js'
import type { AppRegistry, Runtime } from '../../node/runtime/index.js'
import { fixture } from '../helpers/paths.js'
import { harness, text } from './harness.js'
import type { Harness } from './harness.js'

describe('runtime', function () {
  let h: Harness
  let apps: AppRegistry
  let runtime: Runtime

  beforeEach(async function () {
    h = await harness()
    apps = h.apps
    runtime = h.runtime
    await apps.deploy('kit', await readFile(fixture('testkit')))
  })

  afterEach(async function () {
    await h.stop()
  })

  it('lets concurrent invocations of one process see each other\'s writes', async function () {
    const { pid } = runtime.create('kit')
    const writes = Array.from({ length: 50 }, async (_, i) => {
      await runtime.invoke(pid, 'put', new TextEncoder().encode(JSON.stringify({ key: `k${i}`, value: String(i) })))
    })
    await Promise.all(writes)
    const keys = JSON.parse(text(await runtime.invoke(pid, 'keys', new Uint8Array()))) as string[]
    assert.equal(keys.length, 50)
    assert.equal(text(await runtime.invoke(pid, 'get', new TextEncoder().encode('k49'))), '49')
  })

  it('runs the invocations of one process concurrently, not one after another', async function () {
    const { pid } = runtime.create('kit')
    const waiting = runtime.invoke(pid, 'waitForFlag', new Uint8Array(), { timeoutMs: 5000 })
    await new Promise(resolve => setTimeout(resolve, 50))
    await runtime.invoke(pid, 'put', new TextEncoder().encode(JSON.stringify({ key: 'flag', value: 'up' })))
    assert.equal(text(await waiting), 'up')
  })

  it('shows a write to the reads that follow it: its own, not awaited, and another invocation\'s', async function () {
    const { pid } = runtime.create('kit')
    const encode = (value: unknown): Uint8Array => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value))
    await runtime.invoke(pid, 'put', encode({ key: 'k', value: 'first' }))
    await runtime.invoke(pid, 'readMany', encode({ key: 'k', n: 5 }))
    assert.equal(text(await runtime.invoke(pid, 'writeThenRead', encode('k'))), 'second')
    for (let i = 0; i < 20; i++) {
      // on whichever of the two workers each lands
      await Promise.all([runtime.invoke(pid, 'readMany', encode({ key: 'k', n: 3 })), runtime.invoke(pid, 'readMany', encode({ key: 'k', n: 3 }))])
      await runtime.invoke(pid, 'put', encode({ key: 'k', value: `v${i}` }))
      const seen = await Promise.all([runtime.invoke(pid, 'get', encode('k')), runtime.invoke(pid, 'get', encode('k'))])
      assert.deepEqual(seen.map(text), [`v${i}`, `v${i}`])
    }
  })

  it('answers the writes of a call that only read before them at once: later reads of the call see them, keys in the order a Map gives', async function () {
    await apps.deploy('held', new TextEncoder().encode(String.raw`
        const e = new TextEncoder()
        const d = new TextDecoder()
        export async function shuffle (input, ctx) {
          const before = await ctx.state.keys()
          await ctx.state.put('c', e.encode('3'))
          await ctx.state.delete('a')
          await ctx.state.put('a', e.encode('1 again'))
          await ctx.state.put('b', e.encode('2 again'))
          const seen = await ctx.state.get('a')
          let bad = ''
          try { await ctx.state.put('', e.encode('x')) } catch (err) { bad = err.code }
          return JSON.stringify({ before, during: await ctx.state.keys(), a: d.decode(seen), bad })
        }
        export async function after (input, ctx) {
          const keys = await ctx.state.keys()
          const values = await Promise.all(keys.map(async k => d.decode(await ctx.state.get(k))))
          return JSON.stringify({ keys, values })
        }
        export async function seed (input, ctx) { await ctx.state.put('a', e.encode('1')); await ctx.state.put('b', e.encode('2')); return '' }
      `))
    const { pid } = runtime.create('held')
    await runtime.invoke(pid, 'seed', new Uint8Array())
    const during = JSON.parse(text(await runtime.invoke(pid, 'shuffle', new Uint8Array())))
    // as a Map does it: a rewritten key keeps its place, one deleted and written again goes last
    assert.deepEqual(during, { before: ['a', 'b'], during: ['b', 'c', 'a'], a: '1 again', bad: 'BAD_REQUEST' })
    assert.deepEqual(JSON.parse(text(await runtime.invoke(pid, 'after', new Uint8Array()))), { keys: ['b', 'c', 'a'], values: ['2 again', '3', '1 again'] })
  })

  it('applies the writes of a call stopped at its slice and run again on the pool once, from the rerun', async function () {
    await apps.deploy('countburn', new TextEncoder().encode(String.raw`
        const e = new TextEncoder()
        const d = new TextDecoder()
        export async function incrThenBurn (input, ctx) {
          const n = Number(d.decode((await ctx.state.get('n')) ?? new Uint8Array())) || 0
          await ctx.state.put('n', e.encode(String(n + 1)))
          const t = Date.now()
          while (Date.now() - t < 30) {}
          return String(n + 1)
        }
      `))
    const { pid } = runtime.create('countburn')
    for (let i = 1; i <= 3; i++) assert.equal(text(await runtime.invoke(pid, 'incrThenBurn', new Uint8Array())), String(i))
  })

  it('keeps each process\'s state apart', async function () {
    const a = runtime.create('kit').pid
    const b = runtime.create('kit').pid
    await runtime.invoke(a, 'incr', new Uint8Array())
    await runtime.invoke(a, 'incr', new Uint8Array())
    assert.equal(text(await runtime.invoke(b, 'incr', new Uint8Array())), '1')
    assert.equal(text(await runtime.invoke(a, 'incr', new Uint8Array())), '3')
  })

  it('fails a throwing function with FUNCTION_ERROR and keeps the writes it made', async function () {
    const { pid } = runtime.create('kit')
    await runtime.invoke(pid, 'incr', new Uint8Array())
    const err = await runtime.invoke(pid, 'boom', new TextEncoder().encode('why')).catch((e: PraasError) => e)
    assert.ok(err instanceof PraasError)
    assert.equal((err as PraasError).code, 'FUNCTION_ERROR')
    assert.match((err as PraasError).message, /boom: why/)
    // A write a function made before it threw was applied (each state operation is atomic).
    assert.equal(text(await runtime.invoke(pid, 'get', new TextEncoder().encode('n'))), 'clobbered-before-throw')
    assert.equal(text(await runtime.invoke(pid, 'echo', new TextEncoder().encode('still here'))), 'still here')
  })

  it('stops a runaway function with TIMEOUT while another process of the app answers', async function () {
    const runaway = runtime.create('kit').pid
    const neighbour = runtime.create('kit').pid
    await runtime.invoke(runaway, 'incr', new Uint8Array())
    let runawaySettled = false
    const spinning = runtime.invoke(runaway, 'spin', new Uint8Array(), { timeoutMs: 8000 })
      .finally(() => { runawaySettled = true })
      .catch((e: PraasError) => e)
    await new Promise(resolve => setTimeout(resolve, 50))
    assert.equal(text(await runtime.invoke(neighbour, 'echo', new TextEncoder().encode('hi'))), 'hi')
    assert.equal(runawaySettled, false, 'the neighbour answered before the runaway call ended')
    const err = await spinning
    assert.equal((err as PraasError).code, 'TIMEOUT')
    // The isolate stays usable: the process answers again, with its state intact.
    assert.equal(text(await runtime.invoke(runaway, 'incr', new Uint8Array())), '2')
  })

  it('fails an unknown function or process with NOT_FOUND, a pid hosted elsewhere with MOVED', async function () {
    const { pid } = runtime.create('kit')
    const noFn = await runtime.invoke(pid, 'nope', new Uint8Array()).catch((e: PraasError) => e)
    assert.equal((noFn as PraasError).code, 'NOT_FOUND')
    const elsewhere = await runtime.invoke('not-here', 'echo', new Uint8Array()).catch((e: PraasError) => e)
    assert.equal((elsewhere as PraasError).code, 'MOVED')
    assert.throws(() => runtime.create('no-such-app'), { code: 'NOT_FOUND' })
  })

  it('runs ctx.invoke on its own pid inside the process', async function () {
    const { pid } = runtime.create('kit')
    const out = await runtime.invoke(pid, 'call', new TextEncoder().encode(JSON.stringify({ fn: 'incr' })))
    assert.equal(text(out), '1')
    assert.equal(text(await runtime.invoke(pid, 'whoami', new Uint8Array())), JSON.stringify({ pid, app: 'kit' }))
  })

  it('refuses a module that does not load, and keeps the version it had', async function () {
    const err = await apps.deploy('kit', new TextEncoder().encode('export const = broken')).catch((e: PraasError) => e)
    assert.equal((err as PraasError).code, 'BAD_REQUEST')
    const noFns = await apps.deploy('empty', new TextEncoder().encode('export const x = 1')).catch((e: PraasError) => e)
    assert.equal((noFns as PraasError).code, 'BAD_REQUEST')
    const { pid } = runtime.create('kit')
    assert.equal(text(await runtime.invoke(pid, 'echo', new TextEncoder().encode('ok'))), 'ok')
  })

  it('gives a result over 16 MiB TOO_LARGE', async function () {
    const { pid } = runtime.create('kit')
    const err = await runtime.invoke(pid, 'blob', new TextEncoder().encode(String(16 * 1024 * 1024 + 1))).catch((e: PraasError) => e)
    assert.equal((err as PraasError).code, 'TOO_LARGE')
    assert.equal((await runtime.invoke(pid, 'blob', new TextEncoder().encode('1024'))).byteLength, 1024)
  })
})

describe('newPid', function () {
  it('makes distinct pids that a command line cannot take for an option', function () {
    const pids = Array.from({ length: 5000 }, () => newPid())
    assert.equal(new Set(pids).size, pids.length)
    for (const pid of pids) assert.match(pid, /^[A-Za-z0-9_][A-Za-z0-9_-]{15}$/)
  })
})
