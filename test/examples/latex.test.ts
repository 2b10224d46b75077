import assert from 'node:assert/strict'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Client, PraasError } from '../../sdk/index.js'
import { startNode, type TestNode } from '../helpers/cluster.js'
import { EXAMPLES } from '../helpers/paths.js'
import { freePort, requireCommand, startRedis, type TestRedis } from './tools.js'

const encoder = new TextEncoder()
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)
const sameBytes = (actual: Uint8Array, expected: Uint8Array): void => { assert.ok(Buffer.from(actual).equals(expected), 'the bytes differ') }

function concat (...parts: Array<Uint8Array | string>): Uint8Array {
  return Buffer.concat(parts.map(p => typeof p === 'string' ? encoder.encode(p) : p))
}

// A label and a reference: the first build needs a second pdflatex run to resolve them.
const MAIN = String.raw`\documentclass{article}
\begin{document}
\section{Hello}\label{hello}
Section~\ref{hello} comes from a praas process.
\input{body}
\end{document}
`
const BROKEN = String.raw`\documentclass{article}
\begin{document}
\nosuchcommand
\end{document}
`
const body = (word: string): string => `${word} `.repeat(200) + '\n'
const FIGURE = Uint8Array.from({ length: 1024 }, (_, i) => (i * 7) & 0xff)

interface CompileResult { ok: boolean, ran: boolean, hash: string, pdfBytes: number, runs: number, errors?: string[] }

interface Mode {
  title: string
  /** The app function that does `name` in this mode. */
  fn(name: string): string
  /** What goes before every input: nothing, or the stateless functions' store line. */
  store(): string
}

describe('the LaTeX example (examples/latex) on a node process', function () {
  this.timeout(120_000)
  let node: TestNode
  let redis: TestRedis
  let client: Client

  before(async function () {
    requireCommand('pdflatex', 'texlive-latex-base')
    requireCommand('redis-server', 'redis-server')
    ;[node, redis] = await Promise.all([startNode(), startRedis()])
    client = await Client.connect({ bootstrap: [node.addrs[0]], token: node.token })
    await client.deploy('latex', await readFile(join(EXAMPLES, 'latex', 'index.js')))
  })

  after(async function () {
    await client?.close()
    await redis?.stop()
    if (node != null) {
      await node.kill('SIGKILL')
      await rm(node.dataDir, { recursive: true, force: true })
    }
  })

  const modes: Mode[] = [
    { title: 'a session process, files in its state', fn: name => name, store: () => '' },
    { title: 'the stateless functions, files in redis-server', fn: name => `stateless_${name}`, store: () => `${redis.url}/doc-${Date.now()}\n` }
  ]

  for (const mode of modes) {
    describe(mode.title, function () {
      let pid: string
      let store: string
      const call = async (name: string, data: Uint8Array | string = ''): Promise<Uint8Array> =>
        await client.invoke(pid, mode.fn(name), concat(store, data))
      const compile = async (): Promise<CompileResult> => JSON.parse(text(await call('compile')))

      before(async function () {
        pid = await client.create('latex')
        store = mode.store()
      })

      it('returns the bytes of a stored file, binary ones too', async function () {
        assert.deepEqual(JSON.parse(text(await call('put', concat('main.tex\n', MAIN)))), { path: 'main.tex', bytes: MAIN.length })
        await call('put', concat('body.tex\n', body('first')))
        await call('put', concat('img/figure.bin\n', FIGURE))
        assert.equal(text(await call('get', 'main.tex')), MAIN)
        sameBytes(await call('get', 'img/figure.bin'), FIGURE)
        assert.deepEqual(JSON.parse(text(await call('list'))).map((f: { path: string }) => f.path).sort(), ['body.tex', 'img/figure.bin', 'main.tex'])
      })

      it('compiles the project into a PDF with pdflatex, running it twice for a reference', async function () {
        const result = await compile()
        assert.equal(result.ok, true, JSON.stringify(result))
        assert.equal(result.ran, true)
        assert.equal(result.runs, 2)
        const pdf = await call('pdf')
        assert.equal(text(pdf.subarray(0, 5)), '%PDF-')
        assert.equal(pdf.byteLength, result.pdfBytes)
        assert.match(text(await call('log')), /Output written on main\.pdf/)
      })

      it('answers an unchanged compile from its cache without running pdflatex', async function () {
        const first = await compile()
        const again = await compile()
        assert.equal(again.ran, false)
        assert.equal(again.ok, true)
        assert.equal(again.hash, first.hash)
      })

      it('recompiles an edited project in one run, the build directory being kept', async function () {
        const before = await compile()
        await call('put', concat('body.tex\n', body('second')))
        const after = await compile()
        assert.equal(after.ran, true)
        assert.notEqual(after.hash, before.hash)
        // The .aux of the last build already resolves the reference.
        assert.equal(after.runs, 1)
      })

      it('reports LaTeX errors and keeps serving the last good PDF', async function () {
        const good = await call('pdf')
        await call('put', concat('main.tex\n', BROKEN))
        const result = await compile()
        assert.equal(result.ok, false)
        assert.match(result.errors?.join('\n') ?? '', /Undefined control sequence/)
        sameBytes(await call('pdf'), good)
        await call('put', concat('main.tex\n', MAIN))
        assert.equal((await compile()).ran, false, 'the sources of the last good PDF are back')
      })

      it('fails a get of a missing file with FUNCTION_ERROR and serves the next call', async function () {
        const err = await call('get', 'nope.tex').then(() => undefined, (e: unknown) => e)
        assert.ok(err instanceof PraasError && err.code === 'FUNCTION_ERROR', String(err))
        assert.match(err.message, /no file nope\.tex/)
        assert.equal(text(await call('get', 'main.tex')), MAIN)
      })
    })
  }

  it('keeps the files of each session process apart', async function () {
    const [a, b] = [await client.create('latex'), await client.create('latex')]
    await client.invoke(a, 'put', 'only-a.tex\nA')
    assert.equal(text(await client.invoke(a, 'get', 'only-a.tex')), 'A')
    await assert.rejects(client.invoke(b, 'get', 'only-a.tex'), /no file only-a\.tex/)
  })

  it('serves a stateless session from any process, since the files live in redis', async function () {
    const store = `${redis.url}/shared-${Date.now()}\n`
    const [a, b] = [await client.create('latex'), await client.create('latex')]
    await client.invoke(a, 'stateless_put', concat(store, 'main.tex\n', MAIN))
    await client.invoke(a, 'stateless_put', concat(store, 'body.tex\n', body('shared')))
    assert.equal((JSON.parse(text(await client.invoke(a, 'stateless_compile', store))) as CompileResult).ran, true)
    assert.equal((JSON.parse(text(await client.invoke(b, 'stateless_compile', store))) as CompileResult).ran, false)
    assert.equal(text((await client.invoke(b, 'stateless_pdf', store)).subarray(0, 5)), '%PDF-')
  })

  it('fails a stateless call with FUNCTION_ERROR when redis is unreachable, and serves the next one', async function () {
    const pid = await client.create('latex')
    const err = await client.invoke(pid, 'stateless_list', `redis://127.0.0.1:${await freePort()}/gone`).then(() => undefined, (e: unknown) => e)
    assert.ok(err instanceof PraasError && err.code === 'FUNCTION_ERROR', String(err))
    assert.match(err.message, /ECONNREFUSED/)
    assert.ok(Array.isArray(JSON.parse(text(await client.invoke(pid, 'stateless_list', `${redis.url}/other`)))))
  })

  it('names the store line it wants when a stateless input lacks one', async function () {
    const pid = await client.create('latex')
    await assert.rejects(client.invoke(pid, 'stateless_get', 'main.tex'), /redis:\/\/HOST:PORT\/SESSION/)
  })
})
