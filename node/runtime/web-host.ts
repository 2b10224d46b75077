import { createHash, randomFillSync, webcrypto } from 'node:crypto'
import { PraasError } from '../../protocol/index.js'

/**
 * The host's half of the web globals an isolate gets (guest/web.ts, guest/bootstrap.ts): URL
 * parsing by Node's WHATWG parser, random bytes, and WebCrypto with keys kept here and named
 * by a handle in the isolate.
 */

const URL_FIELDS = ['href', 'origin', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash'] as const
const MAX_URL_LENGTH = 64 * 1024

function parts (url: URL): Record<string, string> {
  const out: Record<string, string> = {}
  for (const field of URL_FIELDS) out[field] = url[field]
  return out
}

export function parseUrl (input: unknown, base: unknown): Record<string, string> | null {
  const text = String(input)
  if (text.length > MAX_URL_LENGTH) return null
  try {
    return parts(base == null ? new URL(text) : new URL(text, String(base)))
  } catch {
    return null
  }
}

/** `href` with one field set as URL's setter does; null when href does not parse. */
export function setUrl (href: unknown, field: unknown, value: unknown): Record<string, string> | null {
  if (!URL_FIELDS.includes(field as typeof URL_FIELDS[number]) || field === 'origin') return null
  try {
    const url = new URL(String(href))
    ;(url as unknown as Record<string, string>)[field as string] = String(value).slice(0, MAX_URL_LENGTH)
    return parts(url)
  } catch {
    return null
  }
}

export function randomBytes (n: unknown): Uint8Array {
  const size = Math.min(65536, Math.max(0, Number(n) | 0))
  return randomFillSync(new Uint8Array(size))
}

/** WebCrypto's digest names and node:crypto's. */
const DIGESTS = new Map([['SHA-1', 'sha1'], ['SHA-256', 'sha256'], ['SHA-384', 'sha384'], ['SHA-512', 'sha512']])
/** Digests of up to this many bytes are computed at once (about 2 ms of SHA-256 here); bigger ones on libuv's pool. */
const MAX_DIRECT_DIGEST_BYTES = 1 << 20

/**
 * `crypto.subtle.digest(algorithm, data)` computed now, or undefined where it takes the
 * asynchronous path (another method, a big input, anything unusual, which also gets
 * WebCrypto's own errors). Node's WebCrypto hashes on libuv's thread pool: for a small input that
 * costs a thread hop and another entry into the isolate, longer than the hash itself.
 */
export function digestNow (method: unknown, args: unknown): Uint8Array | undefined {
  if (method !== 'digest' || !Array.isArray(args) || args.length !== 2) return undefined
  const [algorithm, data] = args
  const name = typeof algorithm === 'string' ? algorithm : (algorithm as { name?: unknown } | null)?.name
  const hash = typeof name === 'string' ? DIGESTS.get(name.toUpperCase()) : undefined
  if (hash == null || !(data instanceof Uint8Array) || data.byteLength > MAX_DIRECT_DIGEST_BYTES) return undefined
  // a buffer of its own: a Buffer's bytes may sit in a shared pool, which the copy into the isolate would carry along
  return new Uint8Array(createHash(hash).update(data).digest())
}

const SUBTLE_METHODS = new Set(['digest', 'encrypt', 'decrypt', 'sign', 'verify', 'generateKey', 'importKey', 'exportKey', 'deriveBits', 'deriveKey', 'wrapKey', 'unwrapKey'])
const MAX_KEYS = 10_000

/** WebCrypto for one sandbox: its keys live here, and the isolate holds handles to them. */
export class SubtleHost {
  private readonly keys = new Map<number, CryptoKey>()
  private nextHandle = 1

  async call (method: unknown, args: unknown): Promise<unknown> {
    if (typeof method !== 'string' || !SUBTLE_METHODS.has(method) || !Array.isArray(args)) throw new PraasError('BAD_REQUEST', 'not a crypto.subtle method')
    const subtle = webcrypto.subtle as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>
    let result: unknown
    try {
      result = await subtle[method](...args.map(a => this.in(a)))
    } catch (err) {
      throw new PraasError('BAD_REQUEST', `crypto.subtle.${method}: ${(err as Error).message}`)
    }
    return this.out(result)
  }

  private in (value: unknown): unknown {
    if (Array.isArray(value)) return value.map(v => this.in(v))
    if (value instanceof Uint8Array || value == null || typeof value !== 'object') return value
    const handle = (value as { cryptoKey?: unknown }).cryptoKey
    if (handle != null) {
      const key = this.keys.get(handle as number)
      if (key == null) throw new PraasError('BAD_REQUEST', 'an unknown CryptoKey')
      return key
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.in(v)]))
  }

  private out (value: unknown): unknown {
    if (value instanceof ArrayBuffer) return new Uint8Array(value)
    if (value instanceof globalThis.CryptoKey) {
      if (this.keys.size >= MAX_KEYS) throw new PraasError('UNAVAILABLE', `an app holds at most ${MAX_KEYS} crypto keys`)
      const handle = this.nextHandle++
      this.keys.set(handle, value)
      return { cryptoKey: { handle, type: value.type, extractable: value.extractable, algorithm: structuredClone(value.algorithm), usages: value.usages } }
    }
    if (value != null && typeof value === 'object' && 'privateKey' in value) {
      const pair = value as CryptoKeyPair
      return { publicKey: this.out(pair.publicKey), privateKey: this.out(pair.privateKey) }
    }
    return value
  }
}
