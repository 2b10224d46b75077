import { lpStream } from '@libp2p/utils'
import { PraasError, toPraasError } from '../../protocol/errors.js'
import { MAX_CLUSTER_MESSAGE_BYTES } from './constants.js'
import type { AbortOptions, Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

/** A protons message codec, as the generated files export them. */
export interface MessageCodec<T> {
  encode(message: Partial<T>): Uint8Array
  decode(bytes: Uint8Array | Uint8ArrayList): T
}

function lpOptions (maxBytes = MAX_CLUSTER_MESSAGE_BYTES): { maxDataLength: number, maxBufferSize: number } {
  return { maxDataLength: maxBytes, maxBufferSize: maxBytes + 16 }
}

export interface RpcOptions extends AbortOptions {
  /** The largest message either way. Default MAX_CLUSTER_MESSAGE_BYTES. */
  maxBytes?: number
}

/** Writes one request on a fresh stream and reads its one response; the stream is closed either way. */
export async function rpc<Req, Res> (stream: Stream, request: Partial<Req>, codecs: { request: MessageCodec<Req>, response: MessageCodec<Res> }, options: RpcOptions): Promise<Res> {
  const lp = lpStream(stream, lpOptions(options.maxBytes))
  try {
    await lp.write(codecs.request.encode(request), options)
    const response = codecs.response.decode(await lp.read(options))
    await stream.close(options).catch(() => {})
    return response
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw toPraasError(err)
  }
}

/** Reads one request, answers it through `handler`, and closes the stream. */
export async function serveRpc<Req, Res> (stream: Stream, codecs: { request: MessageCodec<Req>, response: MessageCodec<Res> }, handler: (request: Req) => Promise<Partial<Res>> | Partial<Res>, options: RpcOptions): Promise<void> {
  const lp = lpStream(stream, lpOptions(options.maxBytes))
  try {
    const request = codecs.request.decode(await lp.read(options))
    const response = await handler(request)
    await lp.write(codecs.response.encode(response), options)
    await stream.close(options)
  } catch (err) {
    stream.abort(err instanceof Error ? err : new PraasError('UNAVAILABLE', String(err)))
  }
}
