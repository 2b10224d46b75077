// The paper's LaTeX editing service: one process per document session keeps the project's
// files and the build files (of every folder) in its state, and compiles incrementally with
// real pdflatex through ctx.exec. The `stateless_*` functions are the same service written as
// FaaS functions must be: every file lives in an external store (Redis, reached through
// ctx.connect) and is fetched and written back on every call.
// Deploy: praas deploy latex examples/latex/index.js --allow exec:pdflatex [--allow net:HOST:PORT]
/** @typedef {import('praas').Context} Context */

/** pdflatex runs again while the log asks for it (cross-references), at most this often. */
const MAX_RUNS = 3
const RUN_TIMEOUT_MS = 30_000
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
/** Input `PATH`: deletes a file of the project. */
export async function remove (input, /** @type {Context} */ ctx) { return await removeFile(input, processStore(ctx)) }
/** Input `FROM\nTO`: renames a file of the project. */
export async function rename (input, /** @type {Context} */ ctx) { return await renameFile(input, processStore(ctx)) }
/** Returns [{"path","bytes"}] of the project's files. */
export async function list (_input, /** @type {Context} */ ctx) { return await listFiles(processStore(ctx)) }
/** Input: the main file (default main.tex). Returns {"ok","ran","hash","pdfBytes",…}; ran is false when nothing changed. */
export async function compile (input, /** @type {Context} */ ctx) { return await compileProject(input, processStore(ctx), ctx) }
/** Returns the last PDF built. */
export async function pdf (_input, /** @type {Context} */ ctx) { return await artifact(processStore(ctx), 'pdf') }
/** Returns the log of the compile whose answer was the last one given. */
export async function log (_input, /** @type {Context} */ ctx) { return await artifact(processStore(ctx), 'log') }

/* eslint-disable camelcase -- stateless_* are the function names clients and the benchmark call */
// Stateless mode: the input's first line names the store, `redis://HOST:PORT/SESSION`; the rest
// is the input of the function of the same name above.
export async function stateless_put (input, ctx) { return await withRedis(input, ctx, putFile) }
export async function stateless_get (input, ctx) { return await withRedis(input, ctx, getFile) }
export async function stateless_remove (input, ctx) { return await withRedis(input, ctx, removeFile) }
export async function stateless_rename (input, ctx) { return await withRedis(input, ctx, renameFile) }
export async function stateless_list (input, ctx) { return await withRedis(input, ctx, (_, store) => listFiles(store)) }
export async function stateless_compile (input, ctx) { return await withRedis(input, ctx, (rest, store) => compileProject(rest, store, ctx)) }
export async function stateless_pdf (input, ctx) { return await withRedis(input, ctx, (_, store) => artifact(store, 'pdf')) }
export async function stateless_log (input, ctx) { return await withRedis(input, ctx, (_, store) => artifact(store, 'log')) }

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

async function removeFile (input, store) {
  const path = checkPath(decoder.decode(input))
  if (await store.source(path) == null) throw new Error(`no file ${path}`)
  await store.removeSource(path)
  return json({ removed: path })
}

async function renameFile (input, store) {
  const [header, rest] = splitLine(input)
  const from = checkPath(header)
  const to = checkPath(decoder.decode(rest))
  const content = await store.source(from)
  if (content == null) throw new Error(`no file ${from}`)
  await store.putSource(to, content)
  if (to !== from) await store.removeSource(from)
  return json({ from, to })
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

async function compileProject (input, store, ctx) {
  const main = checkPath(decoder.decode(input).trim() || 'main.tex')
  if (!main.endsWith('.tex')) throw new Error(`the main file must be a .tex file, not ${main}`)
  const [sources, last, logStale] = await Promise.all([store.sources(), store.artifact('compiled'), store.artifact('logstale')])
  if (!sources.has(main)) throw new Error(`no file ${main}: put it first`)
  const hash = await digest(main, sources)
  const previous = last != null ? JSON.parse(decoder.decode(last)) : undefined
  if (previous?.hash === hash) {
    // the answer is that compile's: so is the log, if a failed compile since replaced it (if none
    // did, nothing is written: an unchanged compile only reads)
    if (logStale != null) await store.commit({ log: await store.artifact('goodlog'), logStale: false })
    return json({ ...previous, ran: false })
  }

  const result = await runLatex(ctx, main, sources, await store.build())
  if (!result.ok) {
    await store.commit({ log: result.log, logStale: true })
    return json({ ok: false, ran: true, main, hash, runs: result.runs, ms: result.ms, errors: result.errors })
  }
  const compiled = { ok: true, main, hash, pdfBytes: result.pdf.byteLength, runs: result.runs, ms: result.ms }
  await store.commit({ build: result.build, log: result.log, goodlog: result.log, pdf: result.pdf, compiled: encoder.encode(JSON.stringify(compiled)), logStale: false })
  return json({ ...compiled, ran: true })
}

// ---- pdflatex, through ctx.exec -------------------------------------------------------------

/**
 * Runs pdflatex in a fresh directory holding the build files and the sources, again while the
 * log says "Rerun" (at most MAX_RUNS). The build files are what pdflatex wrote in any folder
 * (`.aux` of each `\include`d chapter, `.toc`, `.out`…): each run's go into the next run and are
 * kept for the next compile.
 */
async function runLatex (ctx, main, sources, build) {
  const stem = main.slice(main.lastIndexOf('/') + 1, -'.tex'.length)
  // errors as FILE:LINE: …, log lines not wrapped, error context lines as long as TeX allows
  const args = ['-interaction=nonstopmode', '-halt-on-error', '-no-shell-escape', '-file-line-error',
    '-cnf-line=max_print_line=10000', '-cnf-line=error_line=254', '-cnf-line=half_error_line=238', main]
  const files = new Map([...build, ...sources])
  const made = new Map()
  const start = performance.now()
  let runs = 0
  let result
  let log
  do {
    result = await ctx.exec('pdflatex', args, { files: Object.fromEntries(files), outputs: ['**'], timeoutMs: RUN_TIMEOUT_MS })
    runs++
    for (const [path, bytes] of Object.entries(result.files)) {
      files.set(path, bytes)
      made.set(path, bytes)
    }
    log = result.files[`${stem}.log`] ?? result.stdout
  } while (result.code === 0 && runs < MAX_RUNS && /Rerun to get/.test(decoder.decode(log)))
  const ms = Math.round(performance.now() - start)
  if (result.code !== 0) {
    const failure = result.signal != null ? `pdflatex was stopped after ${RUN_TIMEOUT_MS} ms (${result.signal})` : `pdflatex exited with code ${result.code}`
    return { ok: false, log, runs, ms, errors: errorsOf(decoder.decode(log), failure) }
  }
  const pdf = made.get(`${stem}.pdf`)
  if (pdf == null) return { ok: false, log, runs, ms, errors: ['pdflatex wrote no PDF'] }
  const outputs = new Map([...build])
  for (const [path, bytes] of made) if (!sources.has(path) && path !== `${stem}.pdf` && path !== `${stem}.log`) outputs.set(path, bytes)
  return { ok: true, pdf, log, build: outputs, runs, ms }
}

/**
 * The log's errors, each with its file and line (`-file-line-error`: `./chapter/one.tex:3: …`)
 * and the source line TeX shows after it (`l.3 …`); TeX's wrap at 79 columns is undone first
 * (for logs written without `max_print_line`).
 */
function errorsOf (log, failure) {
  const lines = []
  for (const line of log.split('\n')) {
    if (lines.length > 0 && lines[lines.length - 1].length === 79) lines[lines.length - 1] += line
    else lines.push(line)
  }
  const errors = []
  lines.forEach((line, i) => {
    const located = /^(?:\.\/)?(.+?\.\w+):(\d+): (.*)$/.exec(line)
    if (located == null && !line.startsWith('!')) return
    if (line.includes('==> Fatal error')) return
    const where = lines.slice(i + 1, i + 20).find(l => /^l\.\d+/.test(l))
    const text = located != null ? `${located[1]}:${located[2]}: ${located[3]}` : line
    errors.push(where != null ? `${text} ${where}` : text)
  })
  return errors.length > 0 ? errors.slice(0, 5) : [failure]
}

async function digest (main, sources) {
  const parts = [encoder.encode(`${main}\0`)]
  for (const path of [...sources.keys()].sort()) {
    const bytes = sources.get(path)
    parts.push(encoder.encode(`${path}\0${bytes.byteLength}\0`), bytes)
  }
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', concat(parts)))
  return [...hash].map(b => b.toString(16).padStart(2, '0')).join('')
}

// ---- input --------------------------------------------------------------------------------

function concat (parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.byteLength
  }
  return out
}

/** `HEADER\nREST` -> [HEADER, REST]; without a newline, all of it is the header. */
function splitLine (input) {
  const nl = input.indexOf(10)
  if (nl < 0) return [decoder.decode(input), input.subarray(input.byteLength)]
  return [decoder.decode(input.subarray(0, nl)), input.subarray(nl + 1)]
}

/** A relative path inside the project, normalised (`a/./b/../c` -> `a/c`). */
function checkPath (text) {
  const raw = text.trim()
  const parts = []
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (parts.length === 0) { parts.push('..'); break }
      parts.pop()
    } else {
      parts.push(part)
    }
  }
  const path = parts.join('/')
  if (path === '' || raw.startsWith('/') || parts.includes('..') || path.includes('\0') || path.length > 512) {
    throw new Error(`bad file path "${text}": give a relative path inside the project`)
  }
  return path
}

// ---- the two stores -----------------------------------------------------------------------

/** The process's own state: `src/PATH`, `build/PATH`, and `pdf`, `log`, `goodlog`, `compiled`, `logstale` (set while `log` is a failed compile's). */
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
    removeSource: (path) => state.delete(SRC + path),
    sources: () => under(SRC),
    build: () => under(BUILD),
    artifact: (name) => state.get(name),
    async commit ({ build, log, goodlog, pdf, compiled, logStale }) {
      // one transaction: whoever sees the new hash also sees the PDF and build files it describes
      await state.transaction(async (tx) => {
        if (build != null) {
          const stale = (await tx.keys()).filter(k => k.startsWith(BUILD) && !build.has(k.slice(BUILD.length)))
          for (const k of stale) await tx.delete(k)
          for (const [path, bytes] of build) await tx.put(BUILD + path, bytes)
        }
        if (log != null) await tx.put('log', log)
        if (goodlog != null) await tx.put('goodlog', goodlog)
        if (pdf != null) await tx.put('pdf', pdf)
        if (compiled != null) await tx.put('compiled', compiled)
        if (logStale === true) await tx.put('logstale', new Uint8Array(1))
        if (logStale === false) await tx.delete('logstale')
      })
    }
  }
}

/** Redis: hashes `latex:SESSION:src` and `latex:SESSION:build`, strings `latex:SESSION:{pdf,log,goodlog,compiled,logstale}`. */
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
    removeSource: (path) => redis.call('HDEL', key('src'), path),
    sources: async () => toMap(await redis.call('HGETALL', key('src'))),
    build: async () => toMap(await redis.call('HGETALL', key('build'))),
    artifact: (name) => redis.call('GET', key(name)),
    async commit ({ build, log, goodlog, pdf, compiled, logStale }) {
      // One connection runs commands in the order sent, so these go out as one pipeline.
      const commands = []
      if (build != null) commands.push(['DEL', key('build')])
      if (build?.size > 0) commands.push(['HSET', key('build'), ...[...build].flat()])
      if (log != null) commands.push(['SET', key('log'), log])
      if (goodlog != null) commands.push(['SET', key('goodlog'), goodlog])
      if (pdf != null) commands.push(['SET', key('pdf'), pdf])
      if (compiled != null) commands.push(['SET', key('compiled'), compiled])
      if (logStale === true) commands.push(['SET', key('logstale'), '1'])
      if (logStale === false) commands.push(['DEL', key('logstale')])
      await Promise.all(commands.map(args => redis.call(...args)))
    }
  }
}

async function withRedis (input, ctx, op) {
  const [line, rest] = splitLine(input)
  let url
  try { url = new URL(line.trim()) } catch { url = undefined }
  const session = url?.pathname.slice(1) ?? ''
  if (url?.protocol !== 'redis:' || url.port === '' || !/^[\w.-]{1,128}$/.test(session)) {
    throw new Error(`the first line must be redis://HOST:PORT/SESSION, not "${line}"`)
  }
  if (ctx.connect == null) throw new Error(`this app may not connect to Redis: deploy it with --allow net:${url.host}`)
  return await op(rest, redisStore(await redisAt(ctx, url.host), session))
}

// ---- a minimal Redis client (RESP2 over ctx.connect) -----------------------------------------

/** One connection per address and isolate, kept between calls as a warm FaaS instance keeps its client. */
const connections = new Map()

async function redisAt (ctx, address) {
  let redis = connections.get(address)
  if (redis == null || redis.closed) {
    redis = new Redis(address, await ctx.connect(address))
    connections.set(address, redis)
  }
  return redis
}

class Redis {
  constructor (address, conn) {
    this.address = address
    this.conn = conn
    this.writer = conn.writable.getWriter()
    this.closed = false
    this.pending = []
    this.buffer = new Uint8Array(0)
    void this.readLoop(conn.readable.getReader())
  }

  /** Sends one command; arguments are strings or bytes. Resolves to its reply. */
  async call (...args) {
    if (this.closed) throw new Error(`redis ${this.address} is not connected`)
    const parts = [encoder.encode(`*${args.length}\r\n`)]
    for (const arg of args) {
      const bytes = typeof arg === 'string' ? encoder.encode(arg) : arg
      parts.push(encoder.encode(`$${bytes.byteLength}\r\n`), bytes, encoder.encode('\r\n'))
    }
    const reply = new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.fail(new Error(`redis ${this.address} did not answer within ${REDIS_TIMEOUT_MS} ms`)) }, REDIS_TIMEOUT_MS)
      this.pending.push({ resolve: (v) => { clearTimeout(timer); resolve(v) }, reject: (e) => { clearTimeout(timer); reject(e) } })
    })
    this.writer.write(concat(parts)).catch(err => { this.fail(err) })
    return await reply
  }

  async readLoop (reader) {
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        this.receive(value)
      }
      this.fail(new Error(`redis ${this.address} closed the connection`))
    } catch (err) {
      this.fail(err)
    }
  }

  receive (chunk) {
    this.buffer = this.buffer.byteLength === 0 ? chunk : concat([this.buffer, chunk])
    let at = 0
    for (;;) {
      const reply = parse(this.buffer, at)
      if (reply.need != null) break
      at = reply.next
      const waiter = this.pending.shift()
      if (reply.value instanceof Error) waiter?.reject(reply.value); else waiter?.resolve(reply.value)
    }
    this.buffer = this.buffer.subarray(at)
  }

  fail (err) {
    if (this.closed) return
    this.closed = true
    this.conn.close()
    for (const waiter of this.pending.splice(0)) waiter.reject(err)
  }
}

const CRLF = (bytes, from) => {
  for (let i = from; i < bytes.byteLength - 1; i++) if (bytes[i] === 13 && bytes[i + 1] === 10) return i
  return -1
}
const latin1 = (bytes, from, to) => String.fromCharCode(...bytes.subarray(from, to))

/** One RESP2 reply at `at`: {value, next}, or {need} when more bytes are needed. */
function parse (buffer, at) {
  if (at >= buffer.byteLength) return { need: at + 1 }
  const eol = CRLF(buffer, at)
  if (eol < 0) return { need: buffer.byteLength + 1 }
  const line = latin1(buffer, at + 1, eol)
  const next = eol + 2
  switch (buffer[at]) {
    case 0x2b: return { value: line, next } // +
    case 0x2d: return { value: new Error(`redis: ${line}`), next } // -
    case 0x3a: return { value: Number(line), next } // :
    case 0x24: { // $
      const n = Number(line)
      if (n < 0) return { value: undefined, next }
      if (buffer.byteLength < next + n + 2) return { need: next + n + 2 }
      return { value: buffer.slice(next, next + n), next: next + n + 2 }
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
