import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { connect as tcpConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, posix, relative, sep } from 'node:path'
import { MAX_PAYLOAD_BYTES, PraasError } from '../../protocol/index.js'
import type { Socket } from 'node:net'

/**
 * The capabilities an app may be granted at deploy (`--allow`): `exec:PROGRAM` runs that program
 * (found on the node's PATH) through ctx.exec, `net:HOST:PORT` opens TCP connections to that
 * address through ctx.connect. Nothing else of the node's OS is reachable from app code.
 */
export interface Grants {
  exec: Set<string>
  net: Set<string>
}

const PROGRAM = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}$/
const ADDRESS = /^(?:[A-Za-z0-9_.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]):(\d{1,5})$/

export function parseGrants (allow: readonly string[]): Grants {
  const grants: Grants = { exec: new Set(), net: new Set() }
  if (allow.length > 64) throw new PraasError('BAD_REQUEST', 'at most 64 grants')
  for (const grant of allow) {
    if (grant.startsWith('exec:') && PROGRAM.test(grant.slice(5))) {
      grants.exec.add(grant.slice(5))
    } else if (grant.startsWith('net:') && ADDRESS.test(grant.slice(4)) && Number(grant.slice(grant.lastIndexOf(':') + 1)) <= 65535) {
      grants.net.add(grant.slice(4))
    } else {
      throw new PraasError('BAD_REQUEST', `"${grant}" is not a grant: give exec:PROGRAM (a program name on the node's PATH) or net:HOST:PORT`)
    }
  }
  return grants
}

/** ctx.exec's bounds: what a program gets and may give back. */
export const EXEC_LIMITS = {
  /** Bytes of stdout and of stderr kept each; the rest is dropped (`truncated`). */
  outputBytes: 1024 * 1024,
  /** Bytes of the files given, all together. */
  inputBytes: 4 * MAX_PAYLOAD_BYTES,
  /** Bytes of the output files returned, all together. */
  fileBytes: MAX_PAYLOAD_BYTES,
  files: 4096
}

export interface ExecResult {
  code: number | null
  signal: string | null
  stdout: Uint8Array
  stderr: Uint8Array
  truncated: boolean
  /** [path, bytes] of the outputs asked for that exist. */
  files: Array<[string, Uint8Array]>
}

/** A relative path inside the temp dir, or BAD_REQUEST. */
function checkRelative (path: string): string {
  const normal = posix.normalize(path)
  if (path === '' || normal === '.' || normal.startsWith('../') || normal === '..' || normal.startsWith('/') || normal.includes('\0') || normal.length > 1024) {
    throw new PraasError('BAD_REQUEST', `"${path}" is not a relative path inside the program's directory`)
  }
  return normal
}

async function walk (dir: string, base = dir, out: string[] = []): Promise<string[]> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) await walk(path, base, out)
    else if (entry.isFile()) out.push(relative(base, path).split(sep).join('/'))
    if (out.length > EXEC_LIMITS.files) break
  }
  return out
}

const digest = (bytes: Uint8Array): string => createHash('sha1').update(bytes).digest('hex')

/**
 * Runs a granted program without a shell in a fresh temporary directory holding `files`, with a
 * minimal environment, killed (SIGKILL) at `timeoutMs` or when `signal` fires; keeps at most
 * EXEC_LIMITS of its output. `outputs` names files to return; `DIR/**` (or `**`) returns every
 * file under DIR that the program created or changed. The directory is removed afterwards.
 */
export async function execProgram (grants: Grants, program: string, args: string[], files: Array<[string, Uint8Array]>, outputs: string[], timeoutMs: number, signal: AbortSignal): Promise<ExecResult> {
  if (!grants.exec.has(program)) throw new PraasError('UNAUTHORIZED', `this app may not run ${program}: deploy it with --allow exec:${program}`)
  if (args.length > 1024 || args.some(a => a.length > 64 * 1024 || a.includes('\0'))) throw new PraasError('BAD_REQUEST', 'too many or too long arguments')
  if (files.length > EXEC_LIMITS.files) throw new PraasError('TOO_LARGE', `at most ${EXEC_LIMITS.files} files`)
  if (files.reduce((n, [, b]) => n + b.byteLength, 0) > EXEC_LIMITS.inputBytes) throw new PraasError('TOO_LARGE', `the files exceed ${EXEC_LIMITS.inputBytes} bytes`)
  const dir = await mkdtemp(join(tmpdir(), 'praas-exec-'))
  try {
    const given = new Map<string, string>()
    for (const [path, bytes] of files) {
      const file = checkRelative(path)
      await mkdir(dirname(join(dir, file)), { recursive: true })
      await writeFile(join(dir, file), bytes)
      given.set(file, digest(bytes))
    }
    const run = await spawnBounded(program, args, dir, timeoutMs, signal)
    const found: Array<[string, Uint8Array]> = []
    let total = 0
    const take = async (file: string): Promise<void> => {
      const bytes = await readFile(join(dir, file)).catch(() => undefined)
      if (bytes == null || found.some(([p]) => p === file)) return
      total += bytes.byteLength
      if (total > EXEC_LIMITS.fileBytes) throw new PraasError('TOO_LARGE', `the output files exceed ${EXEC_LIMITS.fileBytes} bytes`)
      found.push([file, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)])
    }
    for (const output of outputs) {
      if (output === '**' || output.endsWith('/**')) {
        const under = output === '**' ? '' : checkRelative(output.slice(0, -3))
        const root = join(dir, under)
        if (!(await stat(root).then(s => s.isDirectory(), () => false))) continue
        for (const path of await walk(root)) {
          const file = under === '' ? path : `${under}/${path}`
          const before = given.get(file)
          if (before == null || before !== digest(await readFile(join(dir, file)))) await take(file)
        }
      } else {
        await take(checkRelative(output))
      }
    }
    return { ...run, files: found }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function spawnBounded (program: string, args: string[], cwd: string, timeoutMs: number, signal: AbortSignal): Promise<Omit<ExecResult, 'files'>> {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, TMPDIR: cwd, LANG: 'C.UTF-8' }
  const child = spawn(program, args, { cwd, env, shell: false, stdio: ['ignore', 'pipe', 'pipe'], timeout: Math.max(1, Math.ceil(timeoutMs)), killSignal: 'SIGKILL', signal })
  let truncated = false
  const collect = (stream: NodeJS.ReadableStream): Buffer[] => {
    const chunks: Buffer[] = []
    let size = 0
    stream.on('data', (chunk: Buffer) => {
      const room = EXEC_LIMITS.outputBytes - size
      if (room <= 0) { truncated = true; return }
      if (chunk.byteLength > room) truncated = true
      chunks.push(chunk.byteLength > room ? chunk.subarray(0, room) : chunk)
      size += Math.min(room, chunk.byteLength)
    })
    return chunks
  }
  const stdout = collect(child.stdout)
  const stderr = collect(child.stderr)
  return await new Promise((resolve, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') reject(new PraasError('NOT_FOUND', `${program} is not installed on this node`))
      else if (err.name === 'AbortError') reject(new PraasError('TIMEOUT', `${program} was stopped: its call ended`))
      else reject(new PraasError('UNAVAILABLE', `${program} did not start: ${err.message}`))
    })
    child.once('close', (code, killedBy) => {
      const bytes = (chunks: Buffer[]): Uint8Array => new Uint8Array(Buffer.concat(chunks))
      resolve({ code, signal: killedBy, stdout: bytes(stdout), stderr: bytes(stderr), truncated })
    })
  })
}

/** Connections of one app's isolate, bounded in number and in bytes read ahead. */
const MAX_CONNECTIONS = 64
const READ_AHEAD_BYTES = 1024 * 1024
const CONNECT_TIMEOUT_MS = 10_000

interface Connection {
  socket: Socket
  chunks: Uint8Array[]
  buffered: number
  ended: boolean
  error?: PraasError
  reader?: { resolve(chunk: Uint8Array | null): void, reject(err: PraasError): void }
}

/** TCP connections opened through ctx.connect, by id; they outlive the call that made them, not the sandbox. */
export class Connections {
  private readonly open = new Map<number, Connection>()
  private nextId = 1

  constructor (private readonly grants: Grants) {}

  async connect (address: string): Promise<number> {
    if (!this.grants.net.has(address)) throw new PraasError('UNAUTHORIZED', `this app may not connect to ${address}: deploy it with --allow net:${address}`)
    if (this.open.size >= MAX_CONNECTIONS) throw new PraasError('UNAVAILABLE', `an app holds at most ${MAX_CONNECTIONS} connections`)
    const colon = address.lastIndexOf(':')
    const host = address.slice(0, colon).replace(/^\[|\]$/g, '')
    const socket = tcpConnect({ host, port: Number(address.slice(colon + 1)), noDelay: true })
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { socket.destroy(); reject(new PraasError('TIMEOUT', `no connection to ${address} within ${CONNECT_TIMEOUT_MS} ms`)) }, CONNECT_TIMEOUT_MS)
      socket.once('connect', () => { clearTimeout(timer); resolve() })
      socket.once('error', (err) => { clearTimeout(timer); reject(new PraasError('UNAVAILABLE', `connect ${address}: ${err.message}`)) })
    })
    const id = this.nextId++
    const conn: Connection = { socket, chunks: [], buffered: 0, ended: false }
    this.open.set(id, conn)
    socket.on('data', (chunk: Buffer) => {
      const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
      if (conn.reader != null) {
        conn.reader.resolve(bytes)
        conn.reader = undefined
        return
      }
      conn.chunks.push(bytes)
      conn.buffered += bytes.byteLength
      if (conn.buffered > READ_AHEAD_BYTES) socket.pause()
    })
    socket.on('end', () => { conn.ended = true; conn.reader?.resolve(null); conn.reader = undefined })
    socket.on('error', (err) => { conn.error = new PraasError('UNAVAILABLE', `${address}: ${err.message}`) })
    socket.on('close', () => {
      conn.ended = true
      if (conn.error != null) conn.reader?.reject(conn.error)
      else conn.reader?.resolve(null)
      conn.reader = undefined
      this.open.delete(id)
    })
    return id
  }

  private get (id: unknown): Connection {
    const conn = this.open.get(id as number)
    if (conn == null) throw new PraasError('BAD_REQUEST', 'that connection is closed')
    return conn
  }

  /** The next bytes read, or null at the end. */
  async read (id: unknown): Promise<Uint8Array | null> {
    const conn = this.open.get(id as number)
    if (conn == null) return null
    const chunk = conn.chunks.shift()
    if (chunk != null) {
      conn.buffered -= chunk.byteLength
      if (conn.buffered <= READ_AHEAD_BYTES) conn.socket.resume()
      return chunk
    }
    if (conn.error != null) throw conn.error
    if (conn.ended) return null
    if (conn.reader != null) throw new PraasError('BAD_REQUEST', 'one read at a time per connection')
    return await new Promise((resolve, reject) => { conn.reader = { resolve, reject } })
  }

  async write (id: unknown, bytes: unknown): Promise<void> {
    const conn = this.get(id)
    if (!(bytes instanceof Uint8Array)) throw new PraasError('BAD_REQUEST', 'a write takes bytes')
    if (conn.socket.write(bytes)) return
    await new Promise<void>((resolve, reject) => {
      conn.socket.once('drain', resolve)
      conn.socket.once('close', () => { reject(conn.error ?? new PraasError('UNAVAILABLE', 'the connection closed')) })
    })
  }

  end (id: unknown): void {
    this.open.get(id as number)?.socket.end()
  }

  close (id: unknown): void {
    this.open.get(id as number)?.socket.destroy()
  }

  closeAll (): void {
    for (const conn of this.open.values()) conn.socket.destroy()
    this.open.clear()
  }
}
