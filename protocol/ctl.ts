import { withTimeout } from './cancellation.js'
import { InvokeChannels } from './channels.js'
import { decodeCtlRequest, decodeCtlResponse, encodeCtlRequest, encodeCtlResponse } from './codec.js'
import { errorFromWire, PraasError, toPraasError } from './errors.js'
import { CTL_PROTOCOL } from './ids.js'
import { serveInvokeStream } from './invoke.js'
import { MAX_CTL_MESSAGE_BYTES } from './limits.js'
import type { DialTarget, StreamOpener } from './channels.js'
import type { InvokeChannel } from './invoke.js'
import type { CtlRequest, CtlResponse } from './pb/messages.js'
import type { InboundLimits } from './budget.js'
import type { AbortOptions, Stream } from '@libp2p/interface'

/** The `fn` of every control call on the invoke framing. */
const CTL_FN = 'ctl'

export interface CtlCallOptions extends AbortOptions {
  /** Fail with TIMEOUT (and cancel the request on the node) after this many ms. */
  timeoutMs: number
}

function tooLarge (what: string, bytes: number): PraasError {
  return new PraasError('TOO_LARGE', `${what} of ${bytes} bytes exceeds the limit of ${MAX_CTL_MESSAGE_BYTES}`)
}

/**
 * The caller's end of the control protocol: one long-lived stream per node, control requests
 * multiplexed on it by request id (the invoke framing), as invocations are. A new stream per
 * request costs a stream negotiation (about 1 ms here), twice on a create that a node forwards
 * to the leader; requests to a node that fails are failed, and the next one dials again.
 */
export class CtlChannels {
  private readonly channels: InvokeChannels

  constructor (open: StreamOpener) {
    this.channels = new InvokeChannels(open, CTL_PROTOCOL)
  }

  /**
   * Sends one request to the node known as `node` (a peer id, or any stable name of the
   * address it is dialled at) and returns its validated response; an error response is thrown
   * as its PraasError.
   */
  async request (node: string, target: DialTarget, request: Partial<CtlRequest>, options: CtlCallOptions): Promise<CtlResponse> {
    return await this.call(await this.channel(node, target, options), request, options)
  }

  /** The open control stream to a node, dialled if there is none (UNAVAILABLE if it cannot be). */
  async channel (node: string, target: DialTarget, options: CtlCallOptions): Promise<InvokeChannel> {
    return this.channels.current(node) ??
      await this.channels.get(node, target, { signal: AbortSignal.any([AbortSignal.timeout(options.timeoutMs), ...(options.signal != null ? [options.signal] : [])]) })
  }

  /** One request on a control stream. */
  async call (channel: InvokeChannel, request: Partial<CtlRequest>, options: CtlCallOptions): Promise<CtlResponse> {
    const payload = encodeCtlRequest(request)
    if (payload.byteLength > MAX_CTL_MESSAGE_BYTES) throw tooLarge('a control request', payload.byteLength)
    const bytes = await channel.call({ pid: '', fn: CTL_FN, payload, timeoutMs: 0 }, options)
    if (bytes.byteLength > MAX_CTL_MESSAGE_BYTES) throw tooLarge('a control response', bytes.byteLength)
    const response = decodeCtlResponse(bytes)
    if (response.error != null) throw errorFromWire(response.error)
    return response
  }

  drop (node: string): void {
    this.channels.drop(node)
  }

  closeAll (): void {
    this.channels.closeAll()
  }
}

export interface CtlHandler {
  (request: CtlRequest, options: AbortOptions): Promise<Partial<CtlResponse>>
}

/**
 * The node's end: runs each request of the stream through the handler, concurrently, each for
 * at most `timeoutMs` (and no longer than its caller waits). A request that is too large or
 * malformed is answered with TOO_LARGE or BAD_REQUEST without reaching the handler; an error of
 * the handler's that is not a PraasError went wrong on this side or further on (UNAVAILABLE).
 */
export function serveCtlStream (stream: Stream, handler: CtlHandler, options: { timeoutMs: number, limits?: InboundLimits }): void {
  serveInvokeStream(stream, async (call, { signal }) => {
    if (call.fn !== CTL_FN) throw new PraasError('BAD_REQUEST', `unknown control call ${call.fn}`)
    if (call.payload.byteLength > MAX_CTL_MESSAGE_BYTES) throw tooLarge('a control request', call.payload.byteLength)
    const request = decodeCtlRequest(call.payload)
    let response: Partial<CtlResponse>
    try {
      response = await withTimeout(options.timeoutMs, [signal], async (signal) => await handler(request, { signal }))
    } catch (err) {
      throw toPraasError(err, 'UNAVAILABLE')
    }
    const bytes = encodeCtlResponse(response)
    if (bytes.byteLength > MAX_CTL_MESSAGE_BYTES) throw tooLarge('a control response', bytes.byteLength)
    return bytes
  }, {
    ...options.limits,
    admit: (pid, fn, size) => (size > MAX_CTL_MESSAGE_BYTES ? tooLarge('a control request', size) : options.limits?.admit?.(pid, fn, size))
  })
}
