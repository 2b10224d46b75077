import * as varint from 'uint8-varint'
import { Uint8ArrayList } from 'uint8arraylist'
import { FrameDecoder } from '../../protocol/frames.js'
import { PraasError, isErrorCode, toPraasError } from '../../protocol/index.js'
import type { Stream } from '@libp2p/interface'

/**
 * The largest replication call a host sends (MAX_REPLICATE_CALL_BYTES of batches, and one batch
 * of up to MAX_INLINE_BATCH_BYTES over it) and answer a replica sends; a longer frame is a
 * protocol error.
 */
export const MAX_REPLICATE_FRAME_BYTES = 16 * 1024 * 1024
/** Calls on their way on one stream at once, at most (a link sends a few: replicator.ts CALLS_IN_FLIGHT). */
const MAX_PENDING = 64
/** Frames on an idle stream keep it open: libp2p's default inactivity timeout is 2 min. */
const STREAM_INACTIVITY_TIMEOUT_MS = 24 * 60 * 60 * 1000

/** The first byte of each frame: a request (frames are never empty, as an empty ReplicateRequest is), an answer, a failure. */
const REQUEST = 0
const ANSWER = 0
const FAILURE = 1
const encoder = new TextEncoder()
const decoder = new TextDecoder()

function frame (parts: Uint8Array[]): Uint8ArrayList {
  const length = parts.reduce((n, p) => n + p.byteLength, 0)
  return new Uint8ArrayList(varint.encode(length), ...parts)
}

function bytesOf (data: Uint8Array | Uint8ArrayList): Uint8Array {
  return data instanceof Uint8Array ? data : data.subarray()
}

/**
 * The host's end of /praas/replicate/1.0.0 to one replica: replication calls on a stream of their
 * own, each a length-prefixed frame (a tag byte, then a ReplicateRequest), answered in order (the replica applies each as it
 * arrives), so no call ids travel. Leaner than a state call (no invoke frame to encode and decode,
 * no per-call options on either side): on this machine a state call cost about 60 us more per
 * round trip than a raw stream echo between the same two nodes, which is what this leaves out.
 */
export class ReplicaChannel {
  private readonly decoder = new FrameDecoder(MAX_REPLICATE_FRAME_BYTES)
  private readonly pending: Array<{ resolve(answer: Uint8Array): void, reject(err: PraasError): void, since: number }> = []
  private closed = false
  private watch?: ReturnType<typeof setTimeout>

  constructor (private readonly stream: Stream, private readonly timeoutMs: number, onClose: () => void) {
    stream.inactivityTimeout = STREAM_INACTIVITY_TIMEOUT_MS
    stream.addEventListener('message', (evt) => {
      try {
        this.decoder.decode(evt.data, (answer) => { this.answer(bytesOf(answer)) })
      } catch (err) {
        stream.abort(toPraasError(err, 'BAD_REQUEST'))
      }
    })
    stream.addEventListener('close', (evt) => {
      this.closed = true
      clearTimeout(this.watch)
      const error = new PraasError('UNAVAILABLE', `replication stream closed${evt.error != null ? `: ${evt.error.message}` : ''}`)
      for (const call of this.pending.splice(0)) call.reject(error)
      onClose()
    })
  }

  get isOpen (): boolean {
    return !this.closed && this.stream.status === 'open'
  }

  /** Sends one ReplicateRequest; resolves with the replica's ReplicateResponse. */
  async call (request: Uint8Array): Promise<Uint8Array> {
    if (!this.isOpen) throw new PraasError('UNAVAILABLE', 'replication stream is closed')
    if (this.pending.length >= MAX_PENDING) throw new PraasError('UNAVAILABLE', 'too many replication calls on their way')
    if (request.byteLength >= MAX_REPLICATE_FRAME_BYTES) throw new PraasError('TOO_LARGE', `a replication call of ${request.byteLength} bytes`)
    const { promise, resolve, reject } = Promise.withResolvers<Uint8Array>()
    this.pending.push({ resolve, reject, since: performance.now() })
    try {
      this.stream.send(frame([Uint8Array.of(REQUEST), request]))
    } catch (err) {
      this.pending.pop()
      throw toPraasError(err)
    }
    this.watchOldest()
    return await promise
  }

  private answer (bytes: Uint8Array): void {
    const call = this.pending.shift()
    if (call == null) {
      this.stream.abort(new PraasError('BAD_REQUEST', 'a replication answer nobody asked for'))
      return
    }
    if (bytes[0] === ANSWER) call.resolve(bytes.subarray(1))
    else call.reject(failureOf(bytes.subarray(1)))
    this.watchOldest()
  }

  /** One timer for the oldest call: past `timeoutMs` without its answer the stream is dropped (every call on it fails). */
  private watchOldest (): void {
    clearTimeout(this.watch)
    const oldest = this.pending[0]
    if (oldest == null) return
    this.watch = setTimeout(() => {
      this.stream.abort(new PraasError('TIMEOUT', `no replication answer within ${this.timeoutMs} ms`))
    }, Math.max(0, oldest.since + this.timeoutMs - performance.now()))
  }

  close (): void {
    this.stream.abort(new PraasError('UNAVAILABLE', 'replication channel closed'))
  }
}

function failureOf (bytes: Uint8Array): PraasError {
  const text = decoder.decode(bytes)
  const at = text.indexOf('\n')
  const code = text.slice(0, at)
  return new PraasError(isErrorCode(code) ? code : 'UNAVAILABLE', text.slice(at + 1))
}

/** What a replica answers a request, and the changes that answer promises, to make right after it left. */
export interface Handled {
  answer: Uint8Array
  apply(): void
}

/**
 * The replica's end: each request is handled as it arrives, in order, and the answers to the
 * requests of one read leave together. `handle` is synchronous; what it throws goes back as the
 * call's error. The changes of the last request of a read are made just after the answers left,
 * in the same turn (nothing else touches the store in between): off the host's round trip, and
 * on this node as soon as if made first (a replica that dies in between loses them either way).
 * A host that does not read its answers stops being read (back-pressure).
 */
export function serveReplicateStream (stream: Stream, handle: (request: Uint8Array) => Handled): void {
  stream.inactivityTimeout = STREAM_INACTIVITY_TIMEOUT_MS
  const requests = new FrameDecoder(MAX_REPLICATE_FRAME_BYTES)
  stream.addEventListener('message', (evt) => {
    const answers: Uint8Array[] = []
    let pending: (() => void) | undefined
    const applyPending = (): void => {
      const apply = pending
      pending = undefined
      apply?.()
    }
    try {
      requests.decode(evt.data, (request) => {
        // the request before this one is applied first: this one is checked against its changes
        applyPending()
        let answer: Uint8Array[]
        try {
          const body = bytesOf(request)
          if (body[0] !== REQUEST) throw new PraasError('BAD_REQUEST', 'not a replication request')
          const handled = handle(body.subarray(1))
          pending = () => { handled.apply() }
          answer = [Uint8Array.of(ANSWER), handled.answer]
        } catch (err) {
          const error = toPraasError(err)
          answer = [Uint8Array.of(FAILURE), encoder.encode(`${error.code}\n${error.message}`)]
        }
        answers.push(...frame(answer))
      })
    } catch (err) {
      applyPending()
      stream.abort(toPraasError(err, 'BAD_REQUEST'))
      return
    }
    try {
      if (answers.length === 0 || stream.status !== 'open') return
      sendAnswers(stream, answers)
    } finally {
      applyPending()
    }
  })
}

function sendAnswers (stream: Stream, answers: Uint8Array[]): void {
  if (stream.send(new Uint8ArrayList(...answers))) return
  // not stream.onDrain(): in @libp2p/utils 7.4.1 its promise resolves at once after the first drain
  stream.pause()
  stream.addEventListener('drain', () => { stream.resume() }, { once: true })
}
