/**
 * Values of at most this many bytes are kept as one-byte strings: 16 bytes and their length on
 * V8's heap, where a Uint8Array costs about 200 (the view, its ArrayBuffer and their bytes).
 */
const PACKED_BYTES = 64

type Stored = Uint8Array | string

function pack (value: Uint8Array): Stored {
  return value.byteLength <= PACKED_BYTES ? String.fromCharCode(...value) : value
}

/** A packed value comes back as a fresh Uint8Array, on V8's heap (at most 64 bytes). */
function unpack (stored: Stored): Uint8Array {
  if (typeof stored !== 'string') return stored
  const bytes = new Uint8Array(stored.length)
  for (let i = 0; i < stored.length; i++) bytes[i] = stored.charCodeAt(i)
  return bytes
}

/**
 * The state of one process: a Map of keys to bytes that costs little while it is small. Most
 * processes of a node are idle and hold a key or two; a Map with its table and one Uint8Array
 * value costs about 370 bytes on V8's heap. This holds its first key in two fields, and a Map
 * from its second key on; small values are packed into strings, so each `get` of one makes a new
 * Uint8Array (the runtime copies what it hands to the sandbox anyway). A value is stored as
 * given: the caller does not change it afterwards.
 */
export class ProcessState implements Map<string, Uint8Array> {
  private key?: string
  private value?: Stored
  private map?: Map<string, Stored>

  constructor (entries?: Iterable<readonly [string, Uint8Array]>) {
    if (entries != null) for (const [key, value] of entries) this.set(key, value)
  }

  get size (): number {
    return this.map?.size ?? (this.key === undefined ? 0 : 1)
  }

  get (key: string): Uint8Array | undefined {
    const stored = this.map != null ? this.map.get(key) : key === this.key ? this.value : undefined
    return stored === undefined ? undefined : unpack(stored)
  }

  has (key: string): boolean {
    return this.map != null ? this.map.has(key) : key === this.key
  }

  set (key: string, value: Uint8Array): this {
    const stored = pack(value)
    if (this.map != null) {
      this.map.set(key, stored)
    } else if (this.key === undefined || this.key === key) {
      this.key = key
      this.value = stored
    } else {
      this.map = new Map([[this.key, this.value!], [key, stored]])
      this.key = this.value = undefined
    }
    return this
  }

  delete (key: string): boolean {
    if (this.map != null) return this.map.delete(key)
    if (key !== this.key) return false
    this.key = this.value = undefined
    return true
  }

  clear (): void {
    // an iteration under way ends, as a Map's would
    this.map?.clear()
    this.key = this.value = this.map = undefined
  }

  * entries (): MapIterator<[string, Uint8Array]> {
    if (this.map != null) {
      for (const [key, stored] of this.map) yield [key, unpack(stored)]
    } else if (this.key !== undefined) {
      yield [this.key, unpack(this.value!)]
    }
  }

  * keys (): MapIterator<string> {
    if (this.map != null) yield * this.map.keys()
    else if (this.key !== undefined) yield this.key
  }

  * values (): MapIterator<Uint8Array> {
    for (const [, value] of this.entries()) yield value
  }

  [Symbol.iterator] (): MapIterator<[string, Uint8Array]> {
    return this.entries()
  }

  forEach (callback: (value: Uint8Array, key: string, map: Map<string, Uint8Array>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this)
  }

  get [Symbol.toStringTag] (): string {
    return 'ProcessState'
  }
}
