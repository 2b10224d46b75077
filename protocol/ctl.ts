import { lpStream } from '@libp2p/utils'
import { decodeCtlRequest, decodeCtlResponse, encodeCtlRequest, encodeCtlResponse } from './codec.js'
import { errorFromWire, errorToWire, PraasError, toPraasError } from './errors.js'
import { MAX_CTL_MESSAGE_BYTES } from './limits.js'
import type { CtlRequest, CtlResponse } from './messages.js'
import type { AbortOptions, Stream } from '@libp2p/interface'

const LP_OPTIONS = { maxDataLength: MAX_CTL_MESSAGE_BYTES, maxBufferSize: MAX_CTL_MESSAGE_BYTES + 16 }

/**
 * Sends one control request on a fresh stream and returns the validated response; an error
 * response is thrown as its PraasError. The stream is closed either way.
 */
export async function requestCtl (stream: Stream, request: Partial<CtlRequest>, options: AbortOptions): Promise<CtlResponse> {
  const lp = lpStream(stream, LP_OPTIONS)
  try {
    await lp.write(encodeCtlRequest(request), options)
    const response = decodeCtlResponse(await lp.read(options))
    if (response.error != null) throw errorFromWire(response.error)
    await stream.close(options).catch(() => {})
    return response
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw toPraasError(err)
  }
}

export interface CtlHandler {
  (request: CtlRequest, options: AbortOptions): Promise<Partial<CtlResponse>>
}

/** Reads one control request, answers it through the handler, and closes the stream. */
export async function serveCtlStream (stream: Stream, handler: CtlHandler, options: AbortOptions): Promise<void> {
  const lp = lpStream(stream, LP_OPTIONS)
  let response: Partial<CtlResponse>
  try {
    const request = decodeCtlRequest(await lp.read(options))
    response = await handler(request, options)
  } catch (err) {
    // a length prefix over the limit is a request too large, not a malformed one
    // Malformed requests are PraasErrors (BAD_REQUEST) already; anything else went wrong on this
    // side or further on, not in the request.
    response = { error: errorToWire(toPraasError(err, (err as Error).name === 'InvalidDataLengthError' ? 'TOO_LARGE' : 'UNAVAILABLE')) }
  }
  try {
    await lp.write(encodeCtlResponse(response), options)
    await stream.close(options)
  } catch (err) {
    stream.abort(err instanceof Error ? err : new PraasError('UNAVAILABLE', String(err)))
  }
}
