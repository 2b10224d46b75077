// The baselines' wire format: a frame is a 4-byte big-endian body length followed by the body,
// and a body is a 4-byte request id followed by the payload. Echo servers send each request's
// frame back unchanged, so the client matches responses to requests by id.
import { Uint8ArrayList } from 'uint8arraylist'

/** Largest body either side accepts (the sweep's 5 MiB payloads fit); anything bigger is a framing bug, not a payload. */
export const MAX_BODY = 8 << 20

export function encodeFrame (id: number, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(8 + payload.byteLength)
  const view = new DataView(frame.buffer)
  view.setUint32(0, 4 + payload.byteLength)
  view.setUint32(4, id)
  frame.set(payload, 8)
  return frame
}

/** Splits a byte stream into whole frames, whatever the chunking of the transport. */
export class FrameDecoder {
  private readonly buffer = new Uint8ArrayList()

  /** Appends `chunk` and returns the frames it completed, each with its 4-byte length prefix. */
  push (chunk: Uint8Array | Uint8ArrayList): Uint8Array[] {
    this.buffer.append(chunk)
    const frames: Uint8Array[] = []
    while (this.buffer.byteLength >= 4) {
      const bodyLength = this.buffer.getUint32(0)
      if (bodyLength < 4 || bodyLength > MAX_BODY) throw new Error(`bad frame length ${bodyLength}`)
      if (this.buffer.byteLength < 4 + bodyLength) break
      frames.push(this.buffer.subarray(0, 4 + bodyLength))
      this.buffer.consume(4 + bodyLength)
    }
    return frames
  }
}

/**
 * Request/response over any duplex byte transport: `write` sends bytes (returning a promise
 * when the transport wants the caller to wait), `receive` is fed whatever arrives.
 */
export class FrameClient {
  private readonly decoder = new FrameDecoder()
  private readonly pending = new Map<number, { resolve: (payload: Uint8Array) => void, reject: (err: Error) => void }>()
  private nextId = 0

  constructor (private readonly write: (frame: Uint8Array) => Promise<void> | void) {}

  receive (chunk: Uint8Array | Uint8ArrayList): void {
    for (const frame of this.decoder.push(chunk)) {
      const id = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(4)
      const call = this.pending.get(id)
      if (call == null) throw new Error(`response to unknown request ${id}`)
      this.pending.delete(id)
      call.resolve(frame.subarray(8))
    }
  }

  async call (payload: Uint8Array): Promise<Uint8Array> {
    const id = this.nextId
    this.nextId = (this.nextId + 1) >>> 0
    const response = new Promise<Uint8Array>((resolve, reject) => { this.pending.set(id, { resolve, reject }) })
    await this.write(encodeFrame(id, payload))
    return await response
  }

  /** Fails every outstanding call, e.g. when the transport closes. */
  failAll (err: Error): void {
    for (const call of this.pending.values()) call.reject(err)
    this.pending.clear()
  }
}

/**
 * Turns `send` into a writer that gathers the frames written in one turn of the event loop
 * (up to the next microtask checkpoint) and hands them to `send` as one buffer list.
 */
export function coalescing (send: (data: Uint8ArrayList) => Promise<void> | void): (frame: Uint8Array) => Promise<void> {
  let queued: Uint8ArrayList | undefined
  let flushed: Promise<void> | undefined
  return async frame => {
    if (queued == null) {
      const batch = queued = new Uint8ArrayList()
      flushed = Promise.resolve().then(async () => { queued = undefined; await send(batch) })
    }
    queued.append(frame)
    await flushed
  }
}
