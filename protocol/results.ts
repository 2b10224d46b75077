import { FrameDecoder } from './frames.js'
import { lengthPrefixed } from './codec.js'
import { PraasError } from './errors.js'
import { MAX_REPLICAS_PUSHING } from './limits.js'
import { PushedResult } from './pb/messages.js'
import type { Uint8ArrayList } from 'uint8arraylist'

/**
 * Results pushed by replicas (/praas/result/1.0.0, node to client). A replicated call is
 * acknowledged once its writes are on R nodes; the host learns that from its replicas' answers
 * and only then answers its caller: two hops after the writes were cut. A replica that holds
 * the writes can tell the caller itself, one hop sooner: the host hands each replica the result
 * with the batch (a Forward), and the replica pushes it on the result stream the caller opened
 * to it. The caller takes whichever comes first, all `copies` replicas' pushes or the host's
 * answer, which still comes (a push that is lost costs nothing but time).
 */

/** Results larger than this are not forwarded: they travel once, in the host's answer. */
export const MAX_FORWARDED_RESULT_BYTES = 4096
/** A pushed result frame is at most this large. */
export const MAX_PUSHED_FRAME_BYTES = MAX_FORWARDED_RESULT_BYTES + 512

/**
 * What a Forward (host to replica) and a PushedResult (replica to client) must both be: named by
 * a peer id (`peer`: the client, or the host) and a call, for 1 to MAX_REPLICAS_PUSHING copies, with
 * a result no larger than forwarded results are. BAD_REQUEST otherwise.
 */
export function checkForwarded (what: string, peer: string, f: { call: number, copies: number, result: Uint8Array }): void {
  if (peer.length > 256 || f.call === 0) throw new PraasError('BAD_REQUEST', `${what} without a peer or a call`)
  if (f.copies === 0 || f.copies > MAX_REPLICAS_PUSHING) throw new PraasError('BAD_REQUEST', `${what} of ${f.copies} copies`)
  if (f.result.byteLength > MAX_FORWARDED_RESULT_BYTES) throw new PraasError('BAD_REQUEST', `${what} of ${f.result.byteLength} bytes`)
}

export function encodePushedResult (pushed: PushedResult): Uint8Array {
  return lengthPrefixed(PushedResult.encode(pushed))
}

function decodePushedResult (bytes: Uint8Array | Uint8ArrayList): PushedResult {
  let pushed: PushedResult
  try {
    pushed = PushedResult.decode(bytes)
  } catch (err) {
    throw new PraasError('BAD_REQUEST', `malformed pushed result: ${(err as Error).message}`)
  }
  checkForwarded('a pushed result', pushed.host, pushed)
  // a buffer of its own: the caller keeps it, not the frame it came in
  return { ...pushed, result: pushed.result.slice() }
}

/**
 * The caller's end of one result stream: each pushed result goes to `onResult`. A frame that is
 * too long or does not decode resets the stream (the calls are answered by their hosts anyway).
 */
export function readPushedResults (stream: { addEventListener: (type: 'message', listener: (evt: { data: Uint8Array | Uint8ArrayList }) => void) => void, abort: (err: Error) => void }, onResult: (pushed: PushedResult) => void): void {
  const decoder = new FrameDecoder(MAX_PUSHED_FRAME_BYTES)
  stream.addEventListener('message', (evt) => {
    try {
      decoder.decode(evt.data, (frame) => { onResult(decodePushedResult(frame)) })
    } catch (err) {
      stream.abort(err instanceof PraasError ? err : new PraasError('BAD_REQUEST', (err as Error).message))
    }
  })
}
