import { MIN_FRESH_BYTES, takeFresh } from '../../protocol/fresh-bytes.js'

/**
 * How bytes cross between the controller and a worker (postMessage), measured on this machine:
 * cloning a buffer copies it twice (into the serialized message, then into a new buffer on the
 * other side), transferring it copies nothing. So:
 * - a buffer this thread alone holds (marked fresh: a copy, a reassembled request payload, a
 *   TextEncoder output) is transferred from TRANSFER_FRESH_BYTES on;
 * - a buffer someone else may still read (the app's, a state value) is never transferred, but
 *   from COPY_TRANSFER_BYTES on it is copied once and the copy transferred, which beats the
 *   clone's two copies (8 MiB: about 4 ms against 5 ms of CPU; at 256 KiB the clone is cheaper);
 * - anything smaller is cloned, which is as cheap as a transfer there.
 */
const TRANSFER_FRESH_BYTES = MIN_FRESH_BYTES
const COPY_TRANSFER_BYTES = 1024 * 1024

/** `bytes` ready to post: the same or a copy, its buffer appended to `transfer` if it is to be moved. */
export function forTransfer (bytes: Uint8Array, transfer: ArrayBuffer[]): Uint8Array {
  if (bytes.byteLength < TRANSFER_FRESH_BYTES) return bytes
  const buffer = takeFresh(bytes)
  if (buffer != null) {
    transfer.push(buffer)
    return bytes
  }
  if (bytes.byteLength < COPY_TRANSFER_BYTES) return bytes
  const copy = new Uint8Array(bytes)
  transfer.push(copy.buffer)
  return copy
}
