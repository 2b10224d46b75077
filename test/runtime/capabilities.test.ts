import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { PraasError } from '../../protocol/index.js'
import { parseGrants } from '../../node/runtime/capabilities.js'
import { encode, harness, text } from './harness.js'
import type { Harness } from './harness.js'
import type { AddressInfo, Server } from 'node:net'

const APP = String.raw`
const dec = new TextDecoder()
const json = (b) => JSON.parse(dec.decode(b))
export async function has (_i, ctx) { return JSON.stringify([typeof ctx.exec, typeof ctx.connect]) }
export async function run (input, ctx) {
  const { program, args, files, outputs, timeoutMs } = json(input)
  const r = await ctx.exec(program, args, { files, outputs, timeoutMs })
  return JSON.stringify({ code: r.code, signal: r.signal, stdout: r.stdout.byteLength, head: dec.decode(r.stdout.subarray(0, 64)), truncated: r.truncated, files: Object.fromEntries(Object.entries(r.files).map(([k, v]) => [k, dec.decode(v)])) })
}
export async function echoOver (input, ctx) {
  const { address, text } = json(input)
  const conn = await ctx.connect(address)
  const writer = conn.writable.getWriter()
  await writer.write(new TextEncoder().encode(text))
  const reader = conn.readable.getReader()
  let got = ''
  while (got.length < text.length) {
    const { value, done } = await reader.read()
    if (done) break
    got += dec.decode(value)
  }
  conn.close()
  return got
}
`

describe('capabilities: ctx.exec and ctx.connect', function () {
  this.timeout(60_000)
  let h: Harness
  let server: Server
  let port: number

  before(async function () {
    server = createServer(socket => { socket.pipe(socket) })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  })

  after(async function () {
    server.close()
  })

  beforeEach(async function () {
    h = await harness({ functionTimeoutMs: 10_000 })
  })

  afterEach(async function () {
    await h.stop()
  })

  async function deploy (name: string, allow: string[]): Promise<(fn: string, input?: unknown) => Promise<string>> {
    await h.apps.deploy(name, encode(APP), { allow })
    const { pid } = h.runtime.create(name)
    return async (fn, input = '') => text(await h.runtime.invoke(pid, fn, encode(input)))
  }

  it('parses grants and refuses anything else', function () {
    assert.deepEqual(parseGrants(['exec:pdflatex', 'net:127.0.0.1:6379', 'net:[::1]:80']), { exec: new Set(['pdflatex']), net: new Set(['127.0.0.1:6379', '[::1]:80']) })
    for (const bad of ['exec:/bin/sh', 'exec:a b', 'exec:', 'net:host', 'net:host:99999', 'file:/etc/passwd', 'exec:../x']) {
      assert.throws(() => parseGrants([bad]), { code: 'BAD_REQUEST' }, bad)
    }
  })

  it('installs neither for an app granted nothing', async function () {
    const call = await deploy('plain', [])
    assert.deepEqual(JSON.parse(await call('has')), ['undefined', 'undefined'])
  })

  it('refuses a program that was not granted', async function () {
    const call = await deploy('cat', ['exec:cat'])
    assert.deepEqual(JSON.parse(await call('has')), ['function', 'undefined'])
    await assert.rejects(call('run', { program: 'ls', args: ['/'] }), (err: PraasError) => err.code === 'UNAUTHORIZED' && /--allow exec:ls/.test(err.message))
  })

  it('runs a granted program in a fresh directory holding the files, without a shell', async function () {
    const call = await deploy('tools', ['exec:cat', 'exec:cp', 'exec:pwd', 'exec:sleep', 'exec:head', 'exec:mkdir'])
    const cat = JSON.parse(await call('run', { program: 'cat', args: ['in/a.txt', '$HOME'], files: { 'in/a.txt': 'hello' } }))
    assert.equal(cat.head, 'hello', 'the file is there and $HOME reaches cat as it is (no shell)')
    assert.notEqual(cat.code, 0)
    const first = JSON.parse(await call('run', { program: 'pwd', args: [] })).head
    const second = JSON.parse(await call('run', { program: 'pwd', args: [] })).head
    assert.notEqual(first, second, 'each run gets a directory of its own')
    const cp = JSON.parse(await call('run', { program: 'cp', args: ['a.txt', 'b.txt'], files: { 'a.txt': 'copied' }, outputs: ['b.txt', 'missing.txt'] }))
    assert.deepEqual(cp.files, { 'b.txt': 'copied' })
    const made = JSON.parse(await call('run', { program: 'cp', args: ['-r', 'd', 'e'], files: { 'd/x.txt': 'x', 'keep.txt': 'k' }, outputs: ['**'] }))
    assert.deepEqual(made.files, { 'e/x.txt': 'x' }, '** returns what the program made, not what it was given')
  })

  it('kills a program at its time limit and bounds its output', async function () {
    const call = await deploy('tools', ['exec:sleep', 'exec:head'])
    const slept = JSON.parse(await call('run', { program: 'sleep', args: ['10'], timeoutMs: 200 }))
    assert.deepEqual([slept.code, slept.signal], [null, 'SIGKILL'])
    const flood = JSON.parse(await call('run', { program: 'head', args: ['-c', '5000000', '/dev/zero'] }))
    assert.deepEqual([flood.stdout, flood.truncated], [1024 * 1024, true])
  })

  it('refuses a path outside the directory', async function () {
    const call = await deploy('cat2', ['exec:cat'])
    await assert.rejects(call('run', { program: 'cat', args: ['x'], files: { '../x': 'out' } }), (err: PraasError) => err.code === 'BAD_REQUEST')
  })

  it('connects to a granted address, and to no other', async function () {
    const call = await deploy('net', [`net:127.0.0.1:${port}`])
    assert.equal(await call('echoOver', { address: `127.0.0.1:${port}`, text: 'ping over tcp' }), 'ping over tcp')
    await assert.rejects(call('echoOver', { address: `127.0.0.1:${port + 1}`, text: 'x' }), (err: PraasError) => err.code === 'UNAUTHORIZED')
    await assert.rejects(call('echoOver', { address: `localhost:${port}`, text: 'x' }), (err: PraasError) => err.code === 'UNAUTHORIZED')
  })
})
