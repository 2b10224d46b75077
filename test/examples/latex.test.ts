import assert from 'node:assert/strict'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Client, PraasError } from '../../sdk/index.js'
import { startNode, type TestNode } from '../helpers/cluster.js'
import { EXAMPLES } from '../helpers/paths.js'
import { freePort, hasCommand, missing, startRedis, type TestRedis } from './tools.js'

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

describe('the test tools', function () {
  it('tell a missing program from one that is there, so that suites needing one can be pending', function () {
    assert.equal(hasCommand('sh'), true)
    assert.equal(hasCommand('no-such-program-praas'), false)
    assert.equal(missing(['sh', 'dash']), undefined)
    assert.match(missing(['no-such-program-praas', 'nothing']) ?? '', /^pending: no-such-program-praas is not installed \(apt-get install nothing\)$/)
  })
})

const LATEX_SUITE = 'the LaTeX example (examples/latex) on a node process'
const absent = missing(['pdflatex', 'texlive-latex-base'], ['redis-server', 'redis-server'])
;(absent == null ? describe : describe.skip)(absent == null ? LATEX_SUITE : `${LATEX_SUITE} (${absent})`, function () {
  this.timeout(120_000)
  let node: TestNode
  let redis: TestRedis
  let client: Client

  before(async function () {
    ;[node, redis] = await Promise.all([startNode(), startRedis()])
    client = await Client.connect({ bootstrap: [node.addrs[0]], token: node.token })
    await client.deploy('latex', await readFile(join(EXAMPLES, 'latex', 'index.js')), { allow: ['exec:pdflatex', `net:127.0.0.1:${redis.port}`] })
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

  describe('a multi-file project (\\include of chapters in a folder)', function () {
    const ROOT = String.raw`\documentclass{report}
\begin{document}
\tableofcontents
\include{chapters/one}
\include{chapters/two}
\end{document}
`
    const chapter = (title: string, body: string): string => `\\chapter{${title}}\\label{${title}}\n${body}\n`
    let pid: string
    const call = async (name: string, data: Uint8Array | string = ''): Promise<Uint8Array> => await client.invoke(pid, name, data)
    const compile = async (): Promise<CompileResult> => JSON.parse(text(await call('compile')))

    before(async function () {
      pid = await client.create('latex')
      await call('put', concat('main.tex\n', ROOT))
      await call('put', concat('chapters/one.tex\n', chapter('One', 'See chapter~\\ref{Two}.')))
      await call('put', concat('chapters/two.tex\n', chapter('Two', 'The second.')))
    })

    it('keeps the build files of every folder: an edited chapter compiles in one run', async function () {
      const first = await compile()
      assert.equal(first.ok, true, JSON.stringify(first))
      assert.ok(first.runs >= 2)
      await call('put', concat('chapters/two.tex\n', chapter('Two', 'The second, edited.')))
      const edited = await compile()
      assert.equal(edited.ok, true, JSON.stringify(edited))
      assert.equal(edited.runs, 1, 'the chapters\' .aux files were kept')
    })

    it('names the file of each error and does not cut it at TeX\'s line wrap', async function () {
      const long = 'averyveryverylongundefinedcontrolsequencenamethatgoespasttexswrapcolumnofseventyninecharacters'
      await call('put', concat('chapters/two.tex\n', chapter('Two', `Text.\n\\${long}\n`)))
      const failed = await compile()
      assert.equal(failed.ok, false)
      const error = failed.errors?.[0] ?? ''
      assert.match(error, /^chapters\/two\.tex:3: Undefined control sequence/, error)
      assert.ok(error.includes(long), error)
    })

    it('answers a revert to the last good sources with that compile, and its log', async function () {
      await call('put', concat('chapters/two.tex\n', chapter('Two', 'The second, edited.')))
      const reverted = await compile()
      assert.equal(reverted.ran, false)
      assert.equal(reverted.ok, true)
      assert.match(text(await call('log')), /Output written on main\.pdf/)
      assert.doesNotMatch(text(await call('log')), /Undefined control sequence/)
    })

    it('deletes and renames files', async function () {
      await call('put', concat('chapters/three.tex\n', chapter('Three', 'Spare.')))
      assert.deepEqual(JSON.parse(text(await call('rename', 'chapters/three.tex\nchapters/four.tex'))), { from: 'chapters/three.tex', to: 'chapters/four.tex' })
      assert.equal(text(await call('get', 'chapters/four.tex')).includes('Spare.'), true)
      await assert.rejects(call('get', 'chapters/three.tex'), /no file chapters\/three\.tex/)
      await call('remove', 'chapters/four.tex')
      await assert.rejects(call('get', 'chapters/four.tex'), /no file chapters\/four\.tex/)
      assert.deepEqual(JSON.parse(text(await call('list'))).map((f: { path: string }) => f.path).sort(), ['chapters/one.tex', 'chapters/two.tex', 'main.tex'])
      await assert.rejects(call('remove', 'chapters/four.tex'), /no file/)
    })
  })

  it('refuses the stateless functions and pdflatex to an app deployed without the grants', async function () {
    await client.deploy('latex-bare', await readFile(join(EXAMPLES, 'latex', 'index.js')))
    const pid = await client.create('latex-bare')
    await client.invoke(pid, 'put', concat('main.tex\n', MAIN))
    await assert.rejects(client.invoke(pid, 'compile'), /ctx\.exec is not a function|exec/)
    await assert.rejects(client.invoke(pid, 'stateless_list', `${redis.url}/x`), /--allow net:127\.0\.0\.1/)
  })

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

  it('fails a stateless call to a Redis it may not reach, and serves the next one', async function () {
    const pid = await client.create('latex')
    const err = await client.invoke(pid, 'stateless_list', `redis://127.0.0.1:${await freePort()}/gone`).then(() => undefined, (e: unknown) => e)
    // an address outside its grants: ctx.connect's own error reaches the caller
    assert.ok(err instanceof PraasError && err.code === 'UNAUTHORIZED', String(err))
    assert.match(err.message, /may not connect/)
    assert.ok(Array.isArray(JSON.parse(text(await client.invoke(pid, 'stateless_list', `${redis.url}/other`)))))
  })

  it('names the store line it wants when a stateless input lacks one', async function () {
    const pid = await client.create('latex')
    await assert.rejects(client.invoke(pid, 'stateless_get', 'main.tex'), /redis:\/\/HOST:PORT\/SESSION/)
  })
})
