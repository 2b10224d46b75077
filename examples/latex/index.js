// The paper's LaTeX editing service: one process per document session keeps the project's
// files and the build directory in its state, and compiles incrementally with real pdflatex.
// The `stateless_*` functions are the same service written as FaaS functions must be: every
// file lives in an external store (Redis) and is fetched and written back on every call.
/** @typedef {import('praas').Context} Context */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, posix } from 'node:path'

const COMPILE_TIMEOUT_MS = 30_000
/** pdflatex runs again while the log asks for it (cross-references), at most this often. */
const MAX_RUNS = 3
const REDIS_TIMEOUT_MS = 5_000
const SRC = 'src/'
const BUILD = 'build/'
const encoder = new TextEncoder()
const decoder = new TextDecoder()
/** JSON results end with a newline, for the CLI's sake. */
const json = (value) => JSON.stringify(value) + '\n'

// ---- the functions, each in both modes ----------------------------------------------------

/** Input `PATH\n` then the file's bytes: stores a file of the project. Returns {"path","bytes"}. */
export async function put (input, /** @type {Context} */ ctx) { return await putFile(input, processStore(ctx)) }
/** Input `PATH`: returns the file's bytes. */
export async function get (input, /** @type {Context} */ ctx) { return await getFile(input, processStore(ctx)) }
/** Returns [{"path","bytes"}] of the project's files. */
export async function list (_input, /** @type {Context} */ ctx) { return await listFiles(processStore(ctx)) }
/** Input: the main file (default main.tex). Returns {"ok","ran","hash","pdfBytes",…}; ran is false when nothing changed. */
export async function compile (input, /** @type {Context} */ ctx) { return await compileProject(input, processStore(ctx)) }
/** Returns the last PDF built. */
export async function pdf (_input, /** @type {Context} */ ctx) { return await artifact(processStore(ctx), 'pdf') }
/** Returns the log of the last compile, successful or not. */
export async function log (_input, /** @type {Context} */ ctx) { return await artifact(processStore(ctx), 'log') }

// Stateless mode: the input's first line names the store, `redis://HOST:PORT/SESSION`; the rest
// is the input of the function of the same name above.
export async function stateless_put (input) { return await withRedis(input, putFile) }
export async function stateless_get (input) { return await withRedis(input, getFile) }
export async function stateless_list (input) { return await withRedis(input, (_, store) => listFiles(store)) }
export async function stateless_compile (input) { return await withRedis(input, compileProject) }
export async function stateless_pdf (input) { return await withRedis(input, (_, store) => artifact(store, 'pdf')) }
export async function stateless_log (input) { return await withRedis(input, (_, store) => artifact(store, 'log')) }

async function putFile (input, store) {
  const [header, content] = splitLine(input)
  const path = checkPath(header)
  await store.putSource(path, content)
  return json({ path, bytes: content.byteLength })
}

async function getFile (input, store) {
  const path = checkPath(decoder.decode(input))
  const content = await store.source(path)
  if (content == null) throw new Error(`no file ${path}`)
  return content
}

async function listFiles (store) {
  const sources = await store.sources()
  return json([...sources].map(([path, bytes]) => ({ path, bytes: bytes.byteLength })))
}

async function artifact (store, name) {
  const bytes = await store.artifact(name)
  if (bytes == null) throw new Error(`no ${name} yet: compile first`)
  return bytes
}

async function compileProject (input, store) {
  const main = checkPath(decoder.decode(input).trim() || 'main.tex')
  if (!main.endsWith('.tex')) throw new Error(`the main file must be a .tex file, not ${main}`)
  const [sources, last] = await Promise.all([store.sources(), store.artifact('compiled')])
  if (!sources.has(main)) throw new Error(`no file ${main}: put it first`)
  const hash = digest(main, sources)
  const previous = last != null ? JSON.parse(decoder.decode(last)) : undefined
  if (previous?.hash === hash) return json({ ...previous, ran: false })

  const result = await runLatex(main, sources, await store.build())
  if (!result.ok) {
    await store.commit({ log: result.log })
    return json({ ok: false, ran: true, main, hash, runs: result.runs, ms: result.ms, errors: result.errors })
  }
  const compiled = { ok: true, main, hash, pdfBytes: result.pdf.byteLength, runs: result.runs, ms: result.ms }
  await store.commit({ build: result.build, log: result.log, pdf: result.pdf, compiled: encoder.encode(JSON.stringify(compiled)) })
  return json({ ...compiled, ran: true })
}

// ---- pdflatex -----------------------------------------------------------------------------

/** Materialises the build directory and the sources into a temp dir, runs pdflatex, cleans up. */
async function runLatex (main, sources, build) {
  const dir = await mkdtemp(join(tmpdir(), 'praas-latex-'))
  try {
    for (const [path, bytes] of [...build, ...sources]) {
      await mkdir(dirname(join(dir, path)), { recursive: true })
      await writeFile(join(dir, path), bytes)
    }
    // pdflatex writes JOB.pdf and JOB.log into its working dir, whatever folder main is in.
    const stem = posix.basename(main, '.tex')
    const start = performance.now()
    let runs = 0
    let failure
    let log
    do {
      failure = await pdflatex(dir, main)
      runs++
      log = await readFile(join(dir, `${stem}.log`)).catch(() => encoder.encode(failure ?? ''))
    } while (failure == null && runs < MAX_RUNS && /Rerun to get/.test(decoder.decode(log)))
    const ms = Math.round(performance.now() - start)
    if (failure != null) return { ok: false, log, runs, ms, errors: errorsOf(decoder.decode(log), failure) }

    const pdf = await readFile(join(dir, `${stem}.pdf`))
    // The build directory: what pdflatex wrote beside the sources (.aux, .toc, .out…).
    const outputs = new Map()
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const name = entry.name
      if (entry.isFile() && !sources.has(name) && name !== `${stem}.pdf` && name !== `${stem}.log`) outputs.set(name, await readFile(join(dir, name)))
    }
    return { ok: true, pdf, log, build: outputs, runs, ms }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Resolves to undefined on success, or to why pdflatex failed. */
async function pdflatex (cwd, main) {
  return await new Promise((resolve, reject) => {
    const child = spawn('pdflatex', ['-interaction=nonstopmode', '-halt-on-error', '-no-shell-escape', main],
      { cwd, stdio: 'ignore', timeout: COMPILE_TIMEOUT_MS, killSignal: 'SIGKILL' })
    child.once('error', err => {
      reject(err.code === 'ENOENT' ? new Error('pdflatex is not installed on this node (apt-get install texlive-latex-base)') : err)
    })
    child.once('exit', (code, signal) => {
      if (signal != null) resolve(`pdflatex was stopped after ${COMPILE_TIMEOUT_MS} ms (${signal})`)
      else resolve(code === 0 ? undefined : `pdflatex exited with code ${code}`)
    })
  })
}

/** The log's error lines (`! …` and the `l.N` line that follows), or the failure itself. */
function errorsOf (log, failure) {
  const lines = log.split('\n')
  const errors = []
  lines.forEach((line, i) => {
    if (!line.startsWith('!') || line.includes('==> Fatal error')) return
    const where = lines.slice(i + 1, i + 20).find(l => /^l\.\d+/.test(l))
    errors.push(where != null ? `${line} ${where}` : line)
  })
  return errors.length > 0 ? errors.slice(0, 5) : [failure]
}

function digest (main, sources) {
  const hash = createHash('sha256').update(main).update('\0')
  for (const path of [...sources.keys()].sort()) {
    const bytes = sources.get(path)
    hash.update(`${path}\0${bytes.byteLength}\0`).update(bytes)
  }
  return hash.digest('hex')
}

// ---- input --------------------------------------------------------------------------------

/** `HEADER\nREST` -> [HEADER, REST]; without a newline, all of it is the header. */
function splitLine (input) {
  const nl = input.indexOf(10)
  if (nl < 0) return [decoder.decode(input), input.subarray(input.byteLength)]
  return [decoder.decode(input.subarray(0, nl)), input.subarray(nl + 1)]
}

function checkPath (text) {
  const path = posix.normalize(text.trim())
  if (path === '.' || path === '..' || path.startsWith('/') || path.startsWith('../') || path.includes('\0') || path.length > 512) {
    throw new Error(`bad file path "${text}": give a relative path inside the project`)
  }
  return path
}

// ---- the two stores -----------------------------------------------------------------------

/** The process's own state: `src/PATH`, `build/NAME`, and `pdf`, `log`, `compiled`. */
function processStore (ctx) {
  const { state } = ctx
  const under = async (prefix) => {
    const keys = (await state.keys()).filter(k => k.startsWith(prefix)).sort()
    const values = await Promise.all(keys.map(k => state.get(k)))
    return new Map(keys.map((k, i) => [k.slice(prefix.length), values[i]]).filter(([, v]) => v != null))
  }
  return {
    source: (path) => state.get(SRC + path),
    putSource: (path, bytes) => state.put(SRC + path, bytes),
    sources: () => under(SRC),
    build: () => under(BUILD),
    artifact: (name) => state.get(name),
    async commit ({ build, log, pdf, compiled }) {
      if (build != null) {
        const stale = (await state.keys()).filter(k => k.startsWith(BUILD) && !build.has(k.slice(BUILD.length)))
        await Promise.all([...stale.map(k => state.delete(k)), ...[...build].map(([name, bytes]) => state.put(BUILD + name, bytes))])
      }
      if (log != null) await state.put('log', log)
      if (pdf != null) await state.put('pdf', pdf)
      // Last, so that whoever sees the new hash also sees the PDF it describes.
      if (compiled != null) await state.put('compiled', compiled)
    }
  }
}

/** Redis: hashes `latex:SESSION:src` and `latex:SESSION:build`, strings `latex:SESSION:{pdf,log,compiled}`. */
function redisStore (redis, session) {
  const key = (name) => `latex:${session}:${name}`
  const toMap = (flat) => {
    const map = new Map()
    for (let i = 0; i < flat.length; i += 2) map.set(decoder.decode(flat[i]), flat[i + 1])
    return map
  }
  return {
    source: (path) => redis.call('HGET', key('src'), path),
    putSource: (path, bytes) => redis.call('HSET', key('src'), path, bytes),
    sources: async () => toMap(await redis.call('HGETALL', key('src'))),
    build: async () => toMap(await redis.call('HGETALL', key('build'))),
    artifact: (name) => redis.call('GET', key(name)),
    async commit ({ build, log, pdf, compiled }) {
      // One connection runs commands in the order sent, so these go out as one pipeline.
      const commands = []
      if (build != null) commands.push(['DEL', key('build')])
      if (build?.size > 0) commands.push(['HSET', key('build'), ...[...build].flat()])
      if (log != null) commands.push(['SET', key('log'), log])
      if (pdf != null) commands.push(['SET', key('pdf'), pdf])
      if (compiled != null) commands.push(['SET', key('compiled'), compiled])
      await Promise.all(commands.map(args => redis.call(...args)))
    }
  }
}

async function withRedis (input, op) {
  const [line, rest] = splitLine(input)
  let url
  try { url = new URL(line.trim()) } catch { url = undefined }
  const session = url?.pathname.slice(1) ?? ''
  if (url?.protocol !== 'redis:' || url.port === '' || !/^[\w.-]{1,128}$/.test(session)) {
    throw new Error(`the first line must be redis://HOST:PORT/SESSION, not "${line}"`)
  }
  return await op(rest, redisStore(redisAt(url.hostname, Number(url.port)), session))
}

// ---- a minimal Redis client (RESP2 over node:net) ------------------------------------------

/** One connection per address and worker, kept between calls as a warm FaaS instance keeps its client. */
const connections = new Map()

function redisAt (host, port) {
  const address = `${host}:${port}`
  let redis = connections.get(address)
  if (redis == null || redis.closed) connections.set(address, redis = new Redis(host, port))
  return redis
}

class Redis {
  constructor (host, port) {
    this.address = `${host}:${port}`
    this.closed = false
    this.pending = []
    this.chunks = []
    this.size = 0
    this.need = 0
    this.socket = connect({ host, port, noDelay: true })
    // Replies in flight with no byte for this long: the server is gone.
    this.socket.setTimeout(REDIS_TIMEOUT_MS, () => {
      if (this.pending.length > 0) this.fail(new Error(`redis ${this.address} did not answer within ${REDIS_TIMEOUT_MS} ms`))
    })
    this.socket.on('data', chunk => { this.receive(chunk) })
    this.socket.on('error', err => { this.fail(new Error(`redis ${this.address}: ${err.message}`)) })
    this.socket.on('close', () => { this.fail(new Error(`redis ${this.address} closed the connection`)) })
  }

  /** Sends one command; arguments are strings or bytes. Resolves to its reply. */
  async call (...args) {
    if (this.closed) throw new Error(`redis ${this.address} is not connected`)
    const parts = [encoder.encode(`*${args.length}\r\n`)]
    for (const arg of args) {
      const bytes = typeof arg === 'string' ? encoder.encode(arg) : arg
      parts.push(encoder.encode(`$${bytes.byteLength}\r\n`), bytes, encoder.encode('\r\n'))
    }
    this.socket.write(Buffer.concat(parts))
    return await new Promise((resolve, reject) => { this.pending.push({ resolve, reject }) })
  }

  receive (chunk) {
    this.chunks.push(chunk)
    this.size += chunk.byteLength
    if (this.size < this.need) return
    const buffer = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks)
    let at = 0
    for (;;) {
      let reply
      try { reply = parse(buffer, at) } catch (err) { this.fail(err); return }
      if (reply.need != null) { this.need = reply.need - at; break }
      at = reply.next
      const waiter = this.pending.shift()
      if (reply.value instanceof Error) waiter?.reject(reply.value); else waiter?.resolve(reply.value)
    }
    const rest = buffer.subarray(at)
    this.chunks = rest.byteLength > 0 ? [rest] : []
    this.size = rest.byteLength
  }

  fail (err) {
    if (this.closed) return
    this.closed = true
    this.socket.destroy()
    for (const waiter of this.pending.splice(0)) waiter.reject(err)
  }
}

/** One RESP2 reply at `at`: {value, next}, or {need} = the buffer length it needs at least. */
function parse (buffer, at) {
  const eol = buffer.indexOf('\r\n', at)
  if (eol < 0) return { need: buffer.byteLength + 1 }
  const line = buffer.toString('latin1', at + 1, eol)
  const next = eol + 2
  switch (buffer[at]) {
    case 0x2b: return { value: line, next } // +
    case 0x2d: return { value: new Error(`redis: ${line}`), next } // -
    case 0x3a: return { value: Number(line), next } // :
    case 0x24: { // $
      const n = Number(line)
      if (n < 0) return { value: undefined, next }
      if (buffer.byteLength < next + n + 2) return { need: next + n + 2 }
      return { value: new Uint8Array(buffer.buffer, buffer.byteOffset + next, n).slice(), next: next + n + 2 }
    }
    case 0x2a: { // *
      const n = Number(line)
      const items = []
      let end = next
      for (let i = 0; i < n; i++) {
        const item = parse(buffer, end)
        if (item.need != null) return item
        items.push(item.value)
        end = item.next
      }
      return { value: n < 0 ? undefined : items, next: end }
    }
    default: throw new Error(`redis: unexpected reply byte ${buffer[at]}`)
  }
}
