// Runs inside every app isolate, before the app's module: it is sent there as the text of
// `guestBootstrap`, so it must not refer to anything outside itself (no imports, no closures
// over this file). It gets the host's functions as arguments (isolated-vm Callbacks: their
// arguments and results are copied, and nothing of the host is reachable through them) and
// returns the entry points the host calls: register the module, start a call, settle a ctx
// call that waited, fire a timer.

/**
 * A ctx call's answer from the host: [0, value] now, [1, opId] later (settle), [2, code, message]
 * an error.
 */
export type Reply = [0, unknown] | [1, number] | [2, string, string]

export interface GuestConfig {
  maxPayloadBytes: number
  maxKeyLength: number
  /** ctx.exec and ctx.connect are installed only for apps granted them at deploy. */
  exec: boolean
  connect: boolean
}

export interface GuestEntries {
  register(namespace: Record<string, unknown>): string[]
  start(id: number, fn: string, input: Uint8Array, pid: string, app: string): void
  settle(id: number, opId: number, ok: boolean, value: unknown): void
  fire(id: number, timerId: number): void
  forget(timerIds: number[]): void
}

export function guestBootstrap (op: (id: number, name: string, ...args: unknown[]) => Reply, log: (level: string, text: string) => void, configJson: string): GuestEntries {
  'use strict'
  const config: GuestConfig = JSON.parse(configJson)
  const g: any = globalThis
  const P = Promise
  const U8 = Uint8Array
  const encoder = new g.TextEncoder()

  class PraasError extends Error {
    code: string
    constructor (code: string, message: string) {
      super(message)
      this.code = code
      this.name = 'PraasError'
    }
  }

  /** The call whose code runs now: timers and connections belong to it. */
  let current = 0
  const pending = new Map<number, { resolve(v: unknown): void, reject(e: unknown): void }>()

  const answer = (r: Reply): Promise<any> => {
    if (r[0] === 0) return P.resolve(r[1])
    if (r[0] === 2) return P.reject(new PraasError(r[1], r[2]))
    const opId = r[1]
    return new P((resolve, reject) => { pending.set(opId, { resolve, reject }) })
  }
  /** A ctx call as a promise; a bad argument rejects it rather than throwing. */
  const call = (id: number, name: string, ...args: unknown[]): Promise<any> => {
    try {
      return answer(op(id, name, ...args))
    } catch (err) {
      return P.reject(err)
    }
  }
  const now = (): Reply => op(0, 'now')

  const key = (k: unknown): string => {
    if (typeof k !== 'string' || k.length === 0 || k.length > config.maxKeyLength) throw new PraasError('BAD_REQUEST', `a key is a string of 1 to ${config.maxKeyLength} characters`)
    return k
  }
  /** Bytes of their own buffer: a copy of a view would otherwise carry its whole buffer across. */
  const bytes = (data: unknown, what: string): Uint8Array => {
    let out: Uint8Array
    if (typeof data === 'string') out = encoder.encode(data)
    else if (data instanceof U8) out = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice()
    else if (data instanceof ArrayBuffer) out = new U8(data)
    else if (ArrayBuffer.isView(data)) out = new U8(data.buffer, data.byteOffset, data.byteLength).slice()
    else if (data == null) out = new U8(0)
    else throw new PraasError('BAD_REQUEST', `${what} must be a Uint8Array or a string`)
    if (out.byteLength > config.maxPayloadBytes) throw new PraasError('TOO_LARGE', `${what} of ${out.byteLength} bytes exceeds the limit of ${config.maxPayloadBytes}`)
    return out
  }

  // ---- the context of one call ----

  function makeContext (id: number, pid: string, app: string): any {
    const tx = (txId: number): any => Object.freeze({
      get: async (k: unknown) => await call(id, 'txGet', txId, key(k)),
      put: async (k: unknown, v: unknown) => { await call(id, 'txPut', txId, key(k), bytes(v, 'a state value')) },
      delete: async (k: unknown) => { await call(id, 'txDelete', txId, key(k)) },
      keys: async () => await call(id, 'txKeys', txId)
    })
    const state = Object.freeze({
      get: async (k: unknown) => await call(id, 'get', key(k)),
      put: async (k: unknown, v: unknown) => { await call(id, 'put', key(k), bytes(v, 'a state value')) },
      delete: async (k: unknown) => { await call(id, 'delete', key(k)) },
      keys: async () => await call(id, 'keys'),
      transaction: async (fn: (tx: any) => unknown) => {
        if (typeof fn !== 'function') throw new PraasError('BAD_REQUEST', 'transaction takes a function')
        const txId: number = await call(id, 'txBegin')
        let result: unknown
        try {
          result = await fn(tx(txId))
        } catch (err) {
          op(id, 'txAbort', txId)
          throw err
        }
        await call(id, 'txCommit', txId)
        return result
      }
    })
    const ctx: any = {
      pid,
      app,
      state,
      invoke: async (target: unknown, fn: unknown, data?: unknown) => await call(id, 'invoke', target, fn, bytes(data, 'data')),
      send: async (target: unknown, k: unknown, data: unknown) => { await call(id, 'send', target, key(k), bytes(data, 'a message')) },
      recv: async (from: unknown, k: unknown, options?: { timeoutMs?: number }) => await call(id, 'recv', from, key(k), Number(options?.timeoutMs ?? 0) || 0)
    }
    if (config.exec) {
      ctx.exec = async (program: unknown, args: unknown = [], options: any = {}) => {
        const files: Array<[string, Uint8Array]> = []
        const given = options?.files instanceof Map ? [...options.files] : Object.entries(options?.files ?? {})
        for (const [path, data] of given) files.push([String(path), bytes(data, `file ${String(path)}`)])
        const argv = Array.isArray(args) ? args.map(String) : []
        const outputs = Array.isArray(options?.outputs) ? options.outputs.map(String) : []
        const result = await call(id, 'exec', String(program), argv, files, outputs, Number(options?.timeoutMs ?? 0) || 0)
        return { code: result.code, signal: result.signal, stdout: result.stdout, stderr: result.stderr, truncated: result.truncated, files: Object.fromEntries(result.files) }
      }
    }
    if (config.connect) ctx.connect = async (address: unknown) => connection(await call(id, 'connect', String(address)))
    return Object.freeze(ctx)
  }

  /** A TCP connection of the host as web streams (connections outlive the call that made them). */
  function connection (connId: number): any {
    let closed = false
    const close = (): void => {
      if (closed) return
      closed = true
      op(current, 'connClose', connId)
    }
    const readable = new g.ReadableStream({
      type: 'bytes',
      pull: async (controller: any) => {
        const chunk = await call(current, 'connRead', connId)
        if (chunk == null) {
          controller.close()
          controller.byobRequest?.respond(0)
        } else {
          controller.enqueue(chunk)
        }
      },
      cancel: close
    })
    const writable = new g.WritableStream({
      write: async (chunk: unknown) => { await call(current, 'connWrite', connId, bytes(chunk, 'a write')) },
      close: async () => { await call(current, 'connEnd', connId) },
      abort: close
    })
    return Object.freeze({ readable, writable, close })
  }

  // ---- web globals that need the host ----

  const timers = new Map<number, { fn: Function, args: unknown[], repeat: boolean }>()
  const timer = (repeat: boolean) => (fn: unknown, ms?: unknown, ...args: unknown[]): number => {
    if (typeof fn !== 'function') throw new TypeError('a timer takes a function')
    const r = op(current, 'timer', Math.max(0, Number(ms) || 0), repeat)
    if (r[0] !== 0) throw new PraasError(r[0] === 2 ? r[1] : 'BAD_REQUEST', r[0] === 2 ? r[2] : 'no timer')
    const timerId = r[1] as number
    if (timerId > 0) timers.set(timerId, { fn, args, repeat })
    return timerId
  }
  const clear = (timerId: unknown): void => {
    if (typeof timerId !== 'number' || !timers.delete(timerId)) return
    op(current, 'clearTimer', timerId)
  }
  const define = (name: string, value: unknown): void => {
    Object.defineProperty(g, name, { value, writable: true, configurable: true, enumerable: false })
  }
  define('setTimeout', timer(false))
  define('setInterval', timer(true))
  define('clearTimeout', clear)
  define('clearInterval', clear)
  define('queueMicrotask', (fn: () => void) => { P.resolve().then(fn) })
  define('structuredClone', (value: unknown) => {
    const r = op(current, 'clone', value)
    if (r[0] === 2) throw new g.DOMException(r[2], 'DataCloneError')
    return r[1]
  })

  const timeOrigin = Date.now() - (now()[1] as number)
  define('performance', Object.freeze({ now: () => now()[1], timeOrigin, toJSON: () => ({ timeOrigin }) }))

  const inspect = (value: unknown): string => {
    if (typeof value === 'string') return value
    if (value instanceof Error) return value.stack ?? `${value.name}: ${value.message}`
    try {
      const seen = new Set()
      return JSON.stringify(value, (_k, v) => {
        if (typeof v === 'bigint') return `${v}n`
        if (v instanceof U8) return `Uint8Array(${v.byteLength})`
        if (typeof v === 'object' && v !== null) {
          if (seen.has(v)) return '[Circular]'
          seen.add(v)
        }
        return v
      }) ?? String(value)
    } catch {
      return String(value)
    }
  }
  const logger = (level: string) => (...args: unknown[]): void => { log(level, args.map(inspect).join(' ')) }
  define('console', Object.freeze({ log: logger('log'), info: logger('info'), warn: logger('warn'), error: logger('error'), debug: logger('debug'), trace: logger('debug') }))

  // crypto: random bytes, and the host's WebCrypto, with keys held by the host and named by a handle.
  class CryptoKey {
    readonly type: string
    readonly extractable: boolean
    readonly algorithm: unknown
    readonly usages: string[]
    readonly handle: number
    constructor (info: any) {
      this.type = info.type
      this.extractable = info.extractable
      this.algorithm = info.algorithm
      this.usages = info.usages
      this.handle = info.handle
      Object.freeze(this)
    }
  }
  const toHost = (value: unknown): unknown => {
    if (value instanceof CryptoKey) return { cryptoKey: value.handle }
    if (ArrayBuffer.isView(value)) return new U8(value.buffer, value.byteOffset, value.byteLength).slice()
    if (value instanceof ArrayBuffer) return new U8(value.slice(0))
    if (Array.isArray(value)) return value.map(toHost)
    if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toHost(v)]))
    return value
  }
  const fromHost = (value: any): unknown => {
    if (value instanceof U8) return value.buffer
    if (value?.cryptoKey != null) return new CryptoKey(value.cryptoKey)
    if (value?.publicKey?.cryptoKey != null) return { publicKey: new CryptoKey(value.publicKey.cryptoKey), privateKey: new CryptoKey(value.privateKey.cryptoKey) }
    return value
  }
  const subtle: any = {}
  for (const method of ['digest', 'encrypt', 'decrypt', 'sign', 'verify', 'generateKey', 'importKey', 'exportKey', 'deriveBits', 'deriveKey', 'wrapKey', 'unwrapKey']) {
    subtle[method] = async (...args: unknown[]) => fromHost(await call(current, 'subtle', method, args.map(toHost)))
  }
  define('CryptoKey', CryptoKey)
  define('crypto', Object.freeze({
    subtle: Object.freeze(subtle),
    getRandomValues: (array: any) => {
      if (!ArrayBuffer.isView(array) || array instanceof Float32Array || array instanceof Float64Array) throw new TypeError('getRandomValues takes an integer typed array')
      if (array.byteLength > 65536) throw new g.DOMException('at most 65536 bytes at once', 'QuotaExceededError')
      new U8(array.buffer, array.byteOffset, array.byteLength).set(op(current, 'random', array.byteLength)[1] as Uint8Array)
      return array
    },
    randomUUID: () => {
      const b = op(current, 'random', 16)[1] as Uint8Array
      b[6] = (b[6] & 0x0f) | 0x40
      b[8] = (b[8] & 0x3f) | 0x80
      const h = [...b].map(x => x.toString(16).padStart(2, '0')).join('')
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
    }
  }))

  // ---- entry points ----

  const functions = new Map<string, Function>()

  const finish = (id: number, output: unknown): void => {
    let result: Uint8Array
    try {
      result = bytes(output, 'the result')
    } catch (err) {
      fail(id, err)
      return
    }
    op(id, 'result', result)
  }
  const fail = (id: number, err: any): void => {
    let code = 'FUNCTION_ERROR'
    let message: string
    try {
      if (err?.name === 'PraasError' && typeof err.code === 'string') code = err.code
      message = String(err instanceof Error ? err.message : err)
    } catch {
      message = 'the function threw something that cannot be read'
    }
    op(id, 'error', code, message.slice(0, 4096))
  }

  return {
    register (namespace) {
      for (const name of Object.keys(namespace)) {
        const value = namespace[name]
        if (typeof value === 'function') functions.set(name, value)
      }
      return [...functions.keys()]
    },
    start (id, fn, input, pid, app) {
      current = id
      const f = functions.get(fn)
      let result: Promise<unknown>
      try {
        if (f == null) throw new PraasError('NOT_FOUND', `app ${app} has no function ${fn}`)
        result = P.resolve(f(input, makeContext(id, pid, app)))
      } catch (err) {
        result = P.reject(err)
      }
      result.then(out => { finish(id, out) }, err => { fail(id, err) })
    },
    settle (id, opId, ok, value) {
      current = id
      const waiter = pending.get(opId)
      if (waiter == null) return
      pending.delete(opId)
      if (ok) waiter.resolve(value)
      else waiter.reject(new PraasError((value as string[])[0], (value as string[])[1]))
    },
    fire (id, timerId) {
      current = id
      const t = timers.get(timerId)
      if (t == null) return
      if (!t.repeat) timers.delete(timerId)
      try {
        t.fn(...t.args)
      } catch (err) {
        logger('error')('a timer threw:', err)
      }
    },
    forget (timerIds) {
      for (const timerId of timerIds) timers.delete(timerId)
    }
  }
}
