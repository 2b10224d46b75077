import { isWholeBuffer, markFresh } from '../../protocol/fresh-bytes.js'

/**
 * A structured clone (postMessage) copies a typed array's whole underlying buffer, not just
 * its view: a 64-byte payload decoded from a 64 KiB network read would cost a 64 KiB copy per
 * hop, and a stored value would pin the whole read buffer in memory. Bytes that cross threads
 * or get stored go through here first: a view that is its whole buffer stays as it is, any
 * other view is copied to a buffer of its own size. The copy is marked fresh (fresh-bytes.ts):
 * its one owner may transfer it rather than clone it.
 *
 * `new Uint8Array(view)` copies; `view.slice()` would not for a Node Buffer (Buffer#slice is a
 * view, like subarray), and network payloads are Buffer views.
 */
export function exactBytes (bytes: Uint8Array): Uint8Array {
  return isWholeBuffer(bytes) ? bytes : markFresh(new Uint8Array(bytes))
}

/**
 * The same for bytes that are kept and read again (a state value, a replica's value): a buffer
 * of its own, never marked fresh, since every later read shares it and a transfer would empty
 * it for all of them.
 */
export function storedBytes (bytes: Uint8Array): Uint8Array {
  return isWholeBuffer(bytes) ? bytes : new Uint8Array(bytes)
}
