/**
 * A structured clone (postMessage) copies a typed array's whole underlying buffer, not just
 * its view: a 64-byte payload decoded from a 64 KiB network read would cost a 64 KiB copy per
 * hop, and a stored value would pin the whole read buffer in memory. Bytes that cross threads
 * or get stored go through here first: a view that is its whole buffer stays as it is, any
 * other view is copied to a buffer of its own size.
 */
export function exactBytes (bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice()
}
