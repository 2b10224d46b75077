import { LengthPrefixedDecoder } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { decodeInvokeFrame, encodeInvokeFrame, lengthPrefixed } from './codec.js'
import { PraasError } from './errors.js'
import { CHUNK_BYTES, MAX_INFLIGHT_PER_STREAM, MAX_INVOKE_FRAME_BYTES, MAX_PAYLOAD_BYTES } from './limits.js'
import { InvokeFrame } from './messages.js'
import type { InvokeFrameInit } from './codec.js'
import type { AbortOptions, MessageStream } from '@libp2p/interface'

/** A whole request or response, reassembled from its frames. */
export interface InvokeMessage {
  head: InvokeFrame
  payload: Uint8Array
}

export interface FrameHandlers {
  /** A complete message arrived. */
  onMessage(message: InvokeMessage): void
  /** A message was refused before it was complete (too large, inconsistent); its id is named. */
  onRefused(head: InvokeFrame, error: PraasError): void
  /** A frame that is not a message part (CANCEL). */
  onControl(frame: InvokeFrame): void
  /** A frame could not be decoded; it was skipped and the stream stays in step. */
  onMalformed(error: PraasError): void
}

interface PartialMessage {
  head: InvokeFrame
  parts: Uint8ArrayList
  refused: boolean
}

/**
 * Reads length-prefixed invoke frames from a stream and reassembles chunked messages. A frame
 * whose length prefix exceeds the frame limit cannot be skipped safely, so it aborts the stream;
 * a frame that is the right length but does not decode is skipped and reported.
 */
export class FrameReader {
  private readonly decoder = new LengthPrefixedDecoder({
    maxDataLength: MAX_INVOKE_FRAME_BYTES,
    maxBufferSize: MAX_INVOKE_FRAME_BYTES * 4
  })

  private readonly partials = new Map<string, PartialMessage>()

  constructor (private readonly stream: MessageStream, private readonly handlers: FrameHandlers) {
    stream.addEventListener('message', (evt) => { this.onData(evt.data) })
  }

  private onData (data: Uint8Array | Uint8ArrayList): void {
    try {
      for (const bytes of this.decoder.decode(data)) this.onFrame(bytes)
    } catch (err) {
      this.stream.abort(new PraasError('BAD_REQUEST', `invalid frame length: ${(err as Error).message}`))
    }
  }

  private onFrame (bytes: Uint8ArrayList): void {
    let frame: InvokeFrame
    try {
      frame = decodeInvokeFrame(bytes)
    } catch (err) {
      this.handlers.onMalformed(err as PraasError)
      return
    }
    if (frame.kind === InvokeFrame.Kind.CANCEL) {
      this.handlers.onControl(frame)
      return
    }
    const key = `${frame.kind}:${frame.id}`
    const partial = this.partials.get(key)
    if (partial == null) {
      this.onHead(key, frame)
    } else {
      this.onContinuation(key, partial, frame)
    }
  }

  private onHead (key: string, frame: InvokeFrame): void {
    if (!frame.more) {
      if (frame.chunk.byteLength !== frame.size) {
        this.handlers.onRefused(frame, new PraasError('BAD_REQUEST', 'payload shorter than its declared size'))
        return
      }
      this.handlers.onMessage({ head: frame, payload: frame.chunk })
      return
    }
    if (this.partials.size >= MAX_INFLIGHT_PER_STREAM) {
      this.stream.abort(new PraasError('BAD_REQUEST', 'too many partial messages on one stream'))
      return
    }
    const refused = frame.size > MAX_PAYLOAD_BYTES
    this.partials.set(key, { head: frame, parts: new Uint8ArrayList(frame.chunk), refused })
    if (refused) {
      this.handlers.onRefused(frame, new PraasError('TOO_LARGE', `payload of ${frame.size} bytes exceeds the limit of ${MAX_PAYLOAD_BYTES}`))
      this.partials.get(key)!.parts = new Uint8ArrayList()
    }
  }

  private onContinuation (key: string, partial: PartialMessage, frame: InvokeFrame): void {
    if (!partial.refused) {
      partial.parts.append(frame.chunk)
      if (partial.parts.byteLength > partial.head.size) {
        partial.refused = true
        partial.parts = new Uint8ArrayList()
        this.handlers.onRefused(partial.head, new PraasError('BAD_REQUEST', 'payload longer than its declared size'))
      }
    }
    if (frame.more) return
    this.partials.delete(key)
    if (partial.refused) return
    if (partial.parts.byteLength !== partial.head.size) {
      this.handlers.onRefused(partial.head, new PraasError('BAD_REQUEST', 'payload shorter than its declared size'))
      return
    }
    this.handlers.onMessage({ head: partial.head, payload: partial.parts.subarray() })
  }

  /** Ends every partial message; called when the stream closes. */
  clear (): void {
    this.partials.clear()
  }
}

/**
 * Writes frames with back-pressure: a message larger than one chunk goes out chunk by chunk,
 * waiting for the stream to drain between chunks, so small messages written meanwhile slip in
 * between rather than queueing behind the whole payload.
 */
export async function writeMessage (stream: MessageStream, head: InvokeFrameInit, payload: Uint8Array, options: AbortOptions = {}): Promise<void> {
  if (payload.byteLength <= CHUNK_BYTES) {
    const ok = stream.send(lengthPrefixed(encodeInvokeFrame({ ...head, size: payload.byteLength, chunk: payload, more: false })))
    if (!ok) await stream.onDrain(options)
    return
  }
  for (let offset = 0; offset < payload.byteLength; offset += CHUNK_BYTES) {
    const chunk = payload.subarray(offset, offset + CHUNK_BYTES)
    const more = offset + CHUNK_BYTES < payload.byteLength
    const frame = offset === 0
      ? { ...head, size: payload.byteLength, chunk, more }
      : { id: head.id, kind: head.kind, size: payload.byteLength, chunk, more }
    if (!stream.send(lengthPrefixed(encodeInvokeFrame(frame)))) await stream.onDrain(options)
  }
}

/** Writes one frame that carries no payload (CANCEL, or an error response). */
export function writeFrame (stream: MessageStream, frame: InvokeFrameInit): boolean {
  return stream.send(lengthPrefixed(encodeInvokeFrame(frame)))
}
