import { PraasError, encodePushedResult } from '../../protocol/index.js'
import type { PushedResult } from '../../protocol/index.js'
import type { Stream } from '@libp2p/interface'

/** Clients with a result stream open here, at most: past it the oldest stream is closed. */
const MAX_RESULT_STREAMS = 10_000
/** Bytes a result stream may hold unsent; past it pushes to that client stop until it drains (its hosts answer it). */
const MAX_UNSENT_BYTES = 256 * 1024
/** A result stream carries pushes for as long as its client keeps it (libp2p's default inactivity timeout is 2 min). */
const STREAM_INACTIVITY_TIMEOUT_MS = 24 * 60 * 60 * 1000

/**
 * The result streams clients opened to this node (/praas/result/1.0.0, protocol/results.ts), one
 * per client peer (a new one replaces the old): as a replica, this node pushes the result of a
 * client's call on it as soon as it holds the call's writes. Nothing is read from the streams.
 */
export class ResultStreams {
  private readonly streams = new Map<string, Stream>()

  add (client: string, stream: Stream): void {
    stream.inactivityTimeout = STREAM_INACTIVITY_TIMEOUT_MS
    const before = this.streams.get(client)
    this.streams.delete(client)
    before?.abort(new PraasError('UNAVAILABLE', 'a newer result stream of this client replaced it'))
    if (this.streams.size >= MAX_RESULT_STREAMS) {
      const [oldest, old] = this.streams.entries().next().value!
      this.streams.delete(oldest)
      old.abort(new PraasError('UNAVAILABLE', 'too many result streams on this node'))
    }
    this.streams.set(client, stream)
    // a client sends nothing on it: anything it sends is dropped, and its close ends the stream
    stream.addEventListener('message', () => {})
    stream.addEventListener('remoteCloseWrite', () => { stream.close().catch(() => {}) })
    stream.addEventListener('close', () => {
      if (this.streams.get(client) === stream) this.streams.delete(client)
    })
  }

  /** Pushes a result to `client` if it has a stream here that keeps up (otherwise its host's answer settles the call). */
  push (client: string, pushed: PushedResult): void {
    const stream = this.streams.get(client)
    if (stream == null || stream.status !== 'open' || stream.writeBufferLength > MAX_UNSENT_BYTES) return
    try {
      stream.send(encodePushedResult(pushed))
    } catch {}
  }

  closeAll (): void {
    for (const stream of this.streams.values()) stream.abort(new PraasError('UNAVAILABLE', 'node stopping'))
    this.streams.clear()
  }
}
