// Web globals of the isolate that need no host state of their own: URL and URLSearchParams
// (parsed by the host's WHATWG URL parser, so they parse exactly as Node and browsers do),
// DOMException, atob and btoa. Sent into the isolate as the text of `guestWeb`: it must not
// refer to anything outside itself.
/* eslint-disable */

export function guestWeb (op: (id: number, name: string, ...args: unknown[]) => [number, any, any?]): void {
  'use strict'
  const g: any = globalThis
  const define = (name: string, value: unknown): void => {
    Object.defineProperty(g, name, { value, writable: true, configurable: true, enumerable: false })
  }

  class DOMException extends Error {
    constructor (message = '', name = 'Error') {
      super(message)
      Object.defineProperty(this, 'name', { value: name, configurable: true, writable: true })
    }
  }
  define('DOMException', DOMException)

  /** URL components from the host: null when the input does not parse. */
  const parse = (input: string, base?: string): any => op(0, 'url', input, base)[1]

  const encode = (s: string): string => encodeURIComponent(s).replace(/%20/g, '+').replace(/[!'()~]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase())
  const decode = (s: string): string => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '))
    } catch {
      return s
    }
  }

  class URLSearchParams {
    #list: Array<[string, string]> = []
    #onChange?: () => void
    constructor (init: unknown = '') {
      if (typeof init === 'string') {
        this.#parse(init)
      } else if (init instanceof URLSearchParams) {
        this.#list = [...init]
      } else if (init != null && typeof (init as any)[Symbol.iterator] === 'function') {
        for (const pair of init as Iterable<unknown[]>) {
          if (pair.length !== 2) throw new TypeError('each pair must have a name and a value')
          this.#list.push([String(pair[0]), String(pair[1])])
        }
      } else if (init != null && typeof init === 'object') {
        for (const [k, v] of Object.entries(init)) this.#list.push([k, String(v)])
      }
    }

    #parse (query: string): void {
      this.#list = []
      for (const part of query.replace(/^\?/, '').split('&')) {
        if (part === '') continue
        const eq = part.indexOf('=')
        this.#list.push(eq < 0 ? [decode(part), ''] : [decode(part.slice(0, eq)), decode(part.slice(eq + 1))])
      }
    }

    /** @internal: a URL's own params follow its search, and write it back. */
    static link (params: URLSearchParams, search: string, onChange: () => void): void {
      params.#parse(search)
      params.#onChange = onChange
    }

    #changed (): void { this.#onChange?.() }
    get size (): number { return this.#list.length }
    append (name: string, value: string): void { this.#list.push([String(name), String(value)]); this.#changed() }
    delete (name: string, value?: string): void {
      this.#list = this.#list.filter(([k, v]) => k !== String(name) || (value !== undefined && v !== String(value)))
      this.#changed()
    }
    get (name: string): string | null { return this.#list.find(([k]) => k === String(name))?.[1] ?? null }
    getAll (name: string): string[] { return this.#list.filter(([k]) => k === String(name)).map(([, v]) => v) }
    has (name: string, value?: string): boolean { return this.#list.some(([k, v]) => k === String(name) && (value === undefined || v === String(value))) }
    set (name: string, value: string): void {
      const i = this.#list.findIndex(([k]) => k === String(name))
      if (i < 0) {
        this.#list.push([String(name), String(value)])
      } else {
        this.#list[i] = [String(name), String(value)]
        this.#list = this.#list.filter(([k], j) => j <= i || k !== String(name))
      }
      this.#changed()
    }
    sort (): void { this.#list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)); this.#changed() }
    forEach (fn: (value: string, name: string, params: URLSearchParams) => void, self?: unknown): void { for (const [k, v] of this.#list) fn.call(self, v, k, this) }
    keys (): IterableIterator<string> { return this.#list.map(([k]) => k)[Symbol.iterator]() }
    values (): IterableIterator<string> { return this.#list.map(([, v]) => v)[Symbol.iterator]() }
    entries (): IterableIterator<[string, string]> { return this.#list.map(([k, v]) => [k, v] as [string, string])[Symbol.iterator]() }
    [Symbol.iterator] (): IterableIterator<[string, string]> { return this.entries() }
    toString (): string { return this.#list.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&') }
  }

  class URL {
    #parts: any
    #params = new URLSearchParams()
    constructor (input: unknown, base?: unknown) {
      const parts = parse(String(input), base === undefined ? undefined : String(base))
      if (parts == null) throw new TypeError(`Invalid URL: ${String(input)}`)
      this.#take(parts)
    }

    static canParse (input: unknown, base?: unknown): boolean { return parse(String(input), base === undefined ? undefined : String(base)) != null }
    static parse (input: unknown, base?: unknown): URL | null { return URL.canParse(input, base) ? new URL(input, base) : null }

    #take (parts: any): void {
      this.#parts = parts
      URLSearchParams.link(this.#params, parts.search, () => {
        const query = this.#params.toString()
        this.#set('search', query === '' ? '' : `?${query}`, false)
      })
    }

    #set (field: string, value: unknown, relink = true): void {
      const parts = op(0, 'urlSet', this.#parts.href, field, String(value))[1]
      if (parts == null) {
        if (field === 'href') throw new TypeError(`Invalid URL: ${String(value)}`)
        return
      }
      if (relink) this.#take(parts)
      else this.#parts = parts
    }

    get searchParams (): URLSearchParams { return this.#params }
    get href (): string { return this.#parts.href }
    set href (v: string) { this.#set('href', v) }
    get origin (): string { return this.#parts.origin }
    get protocol (): string { return this.#parts.protocol }
    set protocol (v: string) { this.#set('protocol', v) }
    get username (): string { return this.#parts.username }
    set username (v: string) { this.#set('username', v) }
    get password (): string { return this.#parts.password }
    set password (v: string) { this.#set('password', v) }
    get host (): string { return this.#parts.host }
    set host (v: string) { this.#set('host', v) }
    get hostname (): string { return this.#parts.hostname }
    set hostname (v: string) { this.#set('hostname', v) }
    get port (): string { return this.#parts.port }
    set port (v: string) { this.#set('port', v) }
    get pathname (): string { return this.#parts.pathname }
    set pathname (v: string) { this.#set('pathname', v) }
    get search (): string { return this.#parts.search }
    set search (v: string) { this.#set('search', v) }
    get hash (): string { return this.#parts.hash }
    set hash (v: string) { this.#set('hash', v) }
    toString (): string { return this.#parts.href }
    toJSON (): string { return this.#parts.href }
  }
  define('URL', URL)
  define('URLSearchParams', URLSearchParams)

  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  define('btoa', (data: unknown): string => {
    const s = String(data)
    let out = ''
    for (let i = 0; i < s.length; i += 3) {
      const a = s.charCodeAt(i); const b = s.charCodeAt(i + 1); const c = s.charCodeAt(i + 2)
      if (a > 255 || b > 255 || c > 255) throw new DOMException('btoa takes Latin-1 text', 'InvalidCharacterError')
      const n = (a << 16) | ((b || 0) << 8) | (c || 0)
      out += B64[n >> 18] + B64[(n >> 12) & 63] + (i + 1 < s.length ? B64[(n >> 6) & 63] : '=') + (i + 2 < s.length ? B64[n & 63] : '=')
    }
    return out
  })
  define('atob', (data: unknown): string => {
    const s = String(data).replace(/[\t\n\f\r ]/g, '').replace(/==?$/, '')
    if (/[^A-Za-z0-9+/]/.test(s) || s.length % 4 === 1) throw new DOMException('not base64', 'InvalidCharacterError')
    let out = ''
    let bits = 0
    let n = 0
    for (const ch of s) {
      n = (n << 6) | B64.indexOf(ch)
      bits += 6
      if (bits >= 8) {
        bits -= 8
        out += String.fromCharCode((n >> bits) & 255)
      }
    }
    return out
  })
}
