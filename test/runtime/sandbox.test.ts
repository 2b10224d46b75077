import assert from 'node:assert/strict'
import { PraasError } from '../../protocol/index.js'
import { encode, harness, text } from './harness.js'
import type { Harness } from './harness.js'

const MiB = 1024 * 1024

/** Deploys `source` as app `name` and creates a process of it; returns a caller of its functions. */
async function app (h: Harness, name: string, source: string, manifest: { memoryMiB?: number, cpuMs?: number, allow?: string[] } = {}): Promise<(fn: string, input?: unknown, timeoutMs?: number) => Promise<string>> {
  await h.apps.deploy(name, encode(source), manifest)
  const { pid } = h.runtime.create(name)
  return async (fn, input = '', timeoutMs) => text(await h.runtime.invoke(pid, fn, encode(input as string), { timeoutMs }))
}

async function failure (promise: Promise<unknown>): Promise<PraasError> {
  const err = await promise.then(() => undefined, (e: unknown) => e)
  assert.ok(err instanceof PraasError, `expected a PraasError, got ${String(err)}`)
  return err
}

// Every way out of the sandbox we could think of: each must find nothing of the node.
const PROBES = String.raw`
const tryIt = (f) => { try { const v = f(); return v === undefined ? 'undefined' : typeof v } catch (e) { return 'threw' } }
export async function globals () {
  const g = Function('return this')()
  const names = ['process', 'require', 'module', 'Buffer', 'global', 'fetch', 'WebAssembly', 'SharedArrayBuffer', 'Deno', 'Bun', '__praas']
  return JSON.stringify(Object.fromEntries(names.map(n => [n, typeof g[n]])))
}
export async function chains () {
  const out = {}
  out.ctorChain = tryIt(() => ({}).constructor.constructor('return typeof process')())
  out.fnThis = tryIt(() => (function () { return this })().process)
  out.ctxProto = tryIt(() => Object.getPrototypeOf(arguments).constructor.constructor('return process')())
  return JSON.stringify(out)
}
export async function ctxWalk (_input, ctx) {
  // everything reachable from ctx and the values the host handed in is this isolate's own
  const F = ctx.state.get.constructor
  const seen = [await F('return typeof process')(), ctx.constructor.constructor('return typeof require')()]
  const value = await ctx.state.get('k')
  seen.push(value.constructor.constructor('return typeof process')())
  seen.push(Object.getOwnPropertyNames(ctx).sort().join(','))
  return JSON.stringify(seen)
}
export async function dynamicImport () {
  try { await import('node:fs'); return 'imported' } catch (e) { return 'refused: ' + e.message }
}
export async function evalIt () {
  return String(eval('typeof process')) + ' ' + String(new Function('return typeof require')())
}
export async function protoTrick (input) {
  // poisoning this isolate's prototypes harms only this isolate
  Object.prototype.then = undefined
  Array.prototype.push = () => { throw new Error('poisoned') }
  Uint8Array.prototype.slice = () => { throw new Error('poisoned') }
  return input
}
`

describe('the sandbox', function () {
  this.timeout(60_000)
  let h: Harness

  beforeEach(async function () {
    h = await harness({ functionTimeoutMs: 5_000 })
  })

  afterEach(async function () {
    await h.stop()
  })

  it('gives app code no global of Node, by any path', async function () {
    const call = await app(h, 'probe', PROBES)
    assert.deepEqual(JSON.parse(await call('globals')), {
      process: 'undefined', require: 'undefined', module: 'undefined', Buffer: 'undefined', global: 'undefined', fetch: 'undefined', WebAssembly: 'object', SharedArrayBuffer: 'function', Deno: 'undefined', Bun: 'undefined', __praas: 'undefined'
    })
    assert.deepEqual(JSON.parse(await call('chains')), { ctorChain: 'string', fnThis: 'threw', ctxProto: 'threw' })
    assert.equal(await call('evalIt'), 'undefined undefined')
    assert.match(await call('dynamicImport'), /^refused/)
  })

  it('hands in values whose prototypes lead nowhere but the isolate', async function () {
    const call = await app(h, 'probe', PROBES + 'export async function put (i, ctx) { await ctx.state.put("k", i) }')
    await call('put', 'v')
    assert.deepEqual(JSON.parse(await call('ctxWalk')), ['undefined', 'undefined', 'undefined', 'app,invoke,pid,recv,send,state'])
  })

  it('keeps a poisoned isolate from harming the node', async function () {
    const call = await app(h, 'probe', PROBES)
    assert.equal(await call('protoTrick', 'x'), 'x')
    assert.equal(await call('protoTrick', 'y'), 'y')
  })

  it('refuses static imports and a module whose top-level code reaches for Node', async function () {
    for (const source of [
      'import fs from "node:fs"\nexport async function f () {}',
      'import { x } from "./other.js"\nexport async function f () {}',
      'process.exit(1)\nexport async function f () {}',
      'for (;;) {}\nexport async function f () {}',
      'const a = []; for (;;) a.push(new Array(1e6).fill(1))\nexport async function f () {}'
    ]) {
      const err = await failure(h.apps.deploy('bad', encode(source), { memoryMiB: 32 }))
      assert.equal(err.code, 'BAD_REQUEST', source)
    }
    // top-level code runs inside the sandbox
    const call = await app(h, 'top', 'const where = typeof process + " " + typeof TextEncoder\nexport async function where_ () { return where }')
    assert.equal(await call('where_'), 'undefined function')
  })

  it('stops memory bombs of the heap and of array buffers, and a neighbour keeps answering', async function () {
    const neighbour = await app(h, 'neighbour', 'export async function echo (i) { return i }')
    const call = await app(h, 'bomb', String.raw`
      export async function heap () { const a = []; for (;;) a.push('x'.repeat(1e5) + Math.random()) }
      export async function buffers () { const a = []; for (;;) a.push(new Uint8Array(16 * 1024 * 1024).fill(1)) }
      export async function fine () { return 'ok' }
    `, { memoryMiB: 64 })
    for (const fn of ['heap', 'buffers', 'heap']) {
      const before = process.memoryUsage().rss
      const err = await failure(call(fn))
      assert.equal(err.code, 'FUNCTION_ERROR', err.message)
      assert.match(err.message, /memory limit of 64 MiB/)
      assert.equal(await neighbour('echo', 'hi'), 'hi')
      assert.equal(await call('fine'), 'ok')
      assert.ok(process.memoryUsage().rss - before < 512 * MiB, 'the node stays within bounds')
    }
  })

  it('stops sync loops, microtask loops and deep recursion; only that call fails', async function () {
    const neighbour = await app(h, 'neighbour', 'export async function echo (i) { return i }')
    const call = await app(h, 'loops', String.raw`
      export async function spin () { for (;;) {} }
      export async function micro () { const f = () => Promise.resolve().then(f); f(); await new Promise(() => {}) }
      export async function deep () { const f = (n) => f(n + 1) + 1; return String(f(0)) }
      export async function ok () { return 'ok' }
    `)
    assert.equal((await failure(call('spin', '', 300))).code, 'TIMEOUT')
    assert.equal((await failure(call('micro', '', 300))).code, 'TIMEOUT')
    const deep = await failure(call('deep'))
    assert.equal(deep.code, 'FUNCTION_ERROR')
    assert.match(deep.message, /call stack/)
    assert.equal(await call('ok'), 'ok')
    assert.equal(await neighbour('echo', 'still'), 'still')
  })

  it('stops a call at its CPU limit with FUNCTION_ERROR naming it', async function () {
    const call = await app(h, 'cpu', 'export async function spin () { for (;;) {} }\nexport async function ok () { return "ok" }', { cpuMs: 50 })
    const err = await failure(call('spin'))
    assert.equal(err.code, 'FUNCTION_ERROR')
    assert.match(err.message, /CPU limit of 50 ms/)
    assert.equal(await call('ok'), 'ok')
  })

  it('refuses a result over 16 MiB with TOO_LARGE', async function () {
    const call = await app(h, 'big', 'export async function big () { return new Uint8Array(16 * 1024 * 1024 + 1) }', { memoryMiB: 128 })
    assert.equal((await failure(call('big'))).code, 'TOO_LARGE')
  })

  it('gives app code the web globals, working as the web\'s do', async function () {
    const call = await app(h, 'web', String.raw`
      export async function web () {
        const out = {}
        out.text = new TextDecoder().decode(new TextEncoder().encode('héllo €'))
        const url = new URL('/a/b?x=1&y=two#frag', 'https://example.com:8443')
        url.searchParams.append('z', 'a b')
        out.url = [url.href, url.host, url.pathname, url.searchParams.get('y')]
        out.digest = [...new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode('abc')))].slice(0, 4)
        const key = await crypto.subtle.importKey('raw', new TextEncoder().encode('k'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify'])
        const sig = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode('m'))
        out.hmac = await crypto.subtle.verify('HMAC', key, sig, new TextEncoder().encode('m'))
        out.random = crypto.getRandomValues(new Uint8Array(8)).length
        out.uuid = /^[0-9a-f-]{36}$/.test(crypto.randomUUID())
        out.clone = structuredClone({ a: [1, { b: new Uint8Array([1, 2]) }] }).a[1].b[1]
        out.timer = await new Promise(resolve => { const t0 = performance.now(); setTimeout(() => resolve(performance.now() - t0 >= 15), 20) })
        out.b64 = atob(btoa('hi'))
        console.log('a log line', { n: 1 })
        return JSON.stringify(out)
      }
    `)
    assert.deepEqual(JSON.parse(await call('web')), {
      text: 'héllo €',
      url: ['https://example.com:8443/a/b?x=1&y=two&z=a+b#frag', 'example.com:8443', '/a/b', 'two'],
      digest: [0xba, 0x78, 0x16, 0xbf],
      hmac: true,
      random: 8,
      uuid: true,
      clone: 2,
      timer: true,
      b64: 'hi'
    })
  })

  it('fails no call for a promise rejection no code handled: the call that left it answers, and so do the others', async function () {
    await h.apps.deploy('careless', encode(String.raw`
      export async function careless (input, ctx) {
        ctx.send('no-such-process-here', 'k', 'lost') // not awaited: it rejects, NOT_FOUND, with no handler
        Promise.reject(new Error('nobody listens'))
        return 'answered'
      }
      export async function other (input, ctx) { await ctx.state.put('k', input); return 'other' }
    `))
    const { pid } = h.runtime.create('careless')
    const call = async (fn: string): Promise<string> => text(await h.runtime.invoke(pid, fn, encode('x')))
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(await Promise.all([call('careless'), call('other'), call('careless')]), ['answered', 'other', 'answered'])
    }
  })

  it('runs a call moved to the pool once: what its stopped first run left queued does nothing', async function () {
    await h.apps.deploy('mover', encode(String.raw`
      export async function slow (input, ctx) {
        // queued before the loop, so left behind when the first run is stopped at its slice
        Promise.resolve().then(() => ctx.state.put('ran-' + crypto.randomUUID(), new Uint8Array(1)))
        const t = Date.now()
        while (Date.now() - t < 60) {}
        return 'slow'
      }
      export async function quick () { return 'quick' }
      export async function runs (input, ctx) { return String((await ctx.state.keys()).filter(k => k.startsWith('ran-')).length) }
    `))
    const { pid } = h.runtime.create('mover')
    const call = async (fn: string): Promise<string> => text(await h.runtime.invoke(pid, fn, new Uint8Array(0)))
    const slowCall = { done: false }
    const slow = call('slow').finally(() => { slowCall.done = true })
    // calls of the same isolate while the first is being moved: each runs its leftover microtasks
    while (!slowCall.done) {
      assert.equal(await call('quick'), 'quick')
      await new Promise(resolve => setTimeout(resolve, 1))
    }
    assert.equal(await slow, 'slow')
    assert.equal(await call('runs'), '1')
  })

  it('runs two CPU-bound calls of one process at once, off the event loop', async function () {
    const call = await app(h, 'cpu2', 'export async function burn (i) { const t = Date.now(); while (Date.now() - t < Number(new TextDecoder().decode(i))) {} return JSON.stringify([t, Date.now()]) }')
    await call('burn', '50') // its first call shows it computes for long: its calls go to the pool
    let ticks = 0
    const ticker = setInterval(() => { ticks++ }, 5)
    const [a, b] = (await Promise.all([call('burn', '300'), call('burn', '300')])).map(r => JSON.parse(r) as [number, number])
    clearInterval(ticker)
    assert.ok(a[0] < b[1] && b[0] < a[1], `the two calls overlapped in time: ${JSON.stringify([a, b])}`)
    assert.ok(ticks >= 10, `the event loop turned ${ticks} times during the calls`)
  })
})
