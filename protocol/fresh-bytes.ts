/**
 * Buffers that nobody else references: just allocated by the code that marks them (a copy, a
 * reassembled payload, a TextEncoder output) and handed on to exactly one owner. A buffer
 * marked here may be transferred to another thread (postMessage transferList) instead of being
 * cloned: the clone of a big buffer costs two copies and a fresh allocation on the other side,
 * a transfer costs neither. Never mark a buffer that the app, the state map or anything else
 * may still read: a transferred buffer is detached (empty) for everyone on this side.
 *
 * The mark is per thread (each thread loads its own copy of this module) and is taken once.
 */
const fresh = new WeakSet<ArrayBufferLike>()

/**
 * Smaller buffers are not marked: cloning them costs no more than moving them, so they are never
 * transferred (transfer.ts), and the weak set stays out of the way of small messages.
 */
export const MIN_FRESH_BYTES = 16 * 1024

/** Whether `bytes` is a whole ArrayBuffer of its own (not a view into a bigger one, not shared). */
export function isWholeBuffer (bytes: Uint8Array): boolean {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
}

/**
 * Marks `bytes` as owned by its holder alone; returns it. Views into bigger buffers, and buffers
 * under MIN_FRESH_BYTES, are not marked.
 */
export function markFresh<T extends Uint8Array> (bytes: T): T {
  if (bytes.byteLength >= MIN_FRESH_BYTES && isWholeBuffer(bytes)) fresh.add(bytes.buffer)
  return bytes
}

/** If `bytes` is marked, unmarks it and returns its buffer, to be transferred; else undefined. */
export function takeFresh (bytes: Uint8Array): ArrayBuffer | undefined {
  if (bytes.byteLength < MIN_FRESH_BYTES || !isWholeBuffer(bytes) || !fresh.delete(bytes.buffer)) return undefined
  return bytes.buffer as ArrayBuffer
}
