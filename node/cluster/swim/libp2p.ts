import { peerIdFromString } from '@libp2p/peer-id'
import { encode as varintEncode } from 'uint8-varint'
import { Uint8ArrayList } from 'uint8arraylist'
import { FrameDecoder } from '../../../protocol/frames.js'
import { MAX_MESSAGE_BYTES, SWIM_PROTOCOL } from './constants.js'
import type { Datagrams } from './types.js'
import type { AbortOptions, ComponentLogger, Connection, Logger, PeerId, Startable, Stream, StreamHandler, StreamHandlerOptions } from '@libp2p/interface'

export interface SwimTransportComponents {
  logger: ComponentLogger
  connectionManager: {
    openStream(peer: PeerId, protocol: string, options?: AbortOptions): Promise<Stream>
  }
  registrar: {
    handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>
    unhandle(protocol: string, options?: AbortOptions): Promise<void>
  }
}

export interface SwimTransportInit {
  /** Messages held per peer while its stream opens or drains; more are dropped. Default 32. */
  maxQueuedMessages?: number
  /** Bytes held per peer likewise. Default 256 KiB (a whole state of 1,000 members in PUSH parts). */
  maxQueuedBytes?: number
  /** Limit of opening a stream (and dialling). Default 2 s. */
  openTimeoutMs?: number
  /** After a failed open, messages to that peer are dropped this long without dialling again. Default 1 s. */
  retryAfterMs?: number
  /** An outbound stream unused this long is closed (it reopens on the next message). Default 60 s. */
  idleMs?: number
  /** Outbound streams open at once, at most; past it the least recently used is closed. Default 1,024. */
  maxStreams?: number
  /** Limit of closing a stream politely at stop before it is aborted. Default 1 s. */
  closeTimeoutMs?: number
}

interface Outbound {
  stream?: Stream
  opening: boolean
  queue: Array<Uint8Array | Uint8ArrayList>
  queuedBytes: number
  failedAt: number
  lastUsed: number
}

/**
 * SWIM's datagrams over libp2p (`/praas/swim/1.0.0`): one long-lived outbound stream per peer,
 * opened on the first message and closed after a minute unused, carrying varint-length-prefixed
 * SwimMessages; what a peer sends arrives on its own outbound stream, our inbound one. Chosen
 * over a stream per message by measurement (bench/swim-transport.ts; docs/cluster.md). Sends never
 * wait or throw: while a stream opens or drains, a bounded queue holds messages, and past it
 * (or when the peer cannot be reached) they are dropped, as UDP would drop them; SWIM expects
 * loss. Nothing is signed: the sender of what arrives is the connection's remote peer, which
 * Noise authenticated.
 */
export class Libp2pDatagrams implements Datagrams, Startable {
  private readonly log: Logger
  private readonly outbound = new Map<string, Outbound>()
  private readonly inbound = new Set<Stream>()
  private readonly init: Required<SwimTransportInit>
  private handler?: (from: string, data: Uint8Array) => void
  private sweeper?: ReturnType<typeof setInterval>
  private started = false
  /** Messages dropped (queue full, peer unreachable, stream closed). */
  dropped = 0

  constructor (private readonly components: SwimTransportComponents, init: SwimTransportInit = {}) {
    this.log = components.logger.forComponent('praas:swim:transport')
    this.init = {
      maxQueuedMessages: init.maxQueuedMessages ?? 32,
      maxQueuedBytes: init.maxQueuedBytes ?? 256 * 1024,
      openTimeoutMs: init.openTimeoutMs ?? 2_000,
      retryAfterMs: init.retryAfterMs ?? 1_000,
      idleMs: init.idleMs ?? 60_000,
      maxStreams: init.maxStreams ?? 1024,
      closeTimeoutMs: init.closeTimeoutMs ?? 1_000
    }
  }

  isStarted (): boolean {
    return this.started
  }

  async start (): Promise<void> {
    await this.components.registrar.handle(SWIM_PROTOCOL, (stream, connection) => { this.onInbound(stream, connection) }, {
      // one stream per direction is the protocol; a second covers a reopen racing the old close
      maxInboundStreams: 2,
      maxOutboundStreams: 2
    })
    this.started = true
    this.sweeper = setInterval(() => { this.closeIdle() }, Math.max(1_000, this.init.idleMs / 4))
    this.sweeper.unref?.()
  }

  async stop (): Promise<void> {
    this.started = false
    clearInterval(this.sweeper)
    await this.components.registrar.unhandle(SWIM_PROTOCOL).catch(() => {})
    const signal = AbortSignal.timeout(this.init.closeTimeoutMs)
    // flush what is written (a leave, above all), but never wait long for a peer
    await Promise.allSettled([...this.outbound.values()].map(async (out) => {
      if (out.stream == null) return
      await out.stream.close({ signal }).catch((err: Error) => { out.stream?.abort(err) })
    }))
    for (const stream of this.inbound) stream.abort(new Error('swim transport stopped'))
    this.inbound.clear()
    this.outbound.clear()
  }

  listen (handler: (from: string, data: Uint8Array) => void): void {
    this.handler = handler
  }

  send (to: string, data: Uint8Array): void {
    if (!this.started) return
    const now = Date.now()
    let out = this.outbound.get(to)
    if (out == null) {
      out = { opening: false, queue: [], queuedBytes: 0, failedAt: 0, lastUsed: now }
      this.outbound.set(to, out)
    }
    out.lastUsed = now
    const frame = new Uint8ArrayList(varintEncode(data.byteLength), data)
    // a stream that ended without its close event reaching us (one already closed as its open
    // resolved) is dropped here: kept, every message to the peer queued behind it for good while
    // the node's other protocols reached the peer (a partition test: two nodes each held the
    // other dead for two minutes while their votes went through)
    if (out.stream != null && out.stream.status !== 'open') out.stream = undefined
    const stream = out.stream
    if (stream?.status === 'open' && !stream.writableNeedsDrain && out.queue.length === 0) {
      this.write(out, stream, frame)
      return
    }
    if (stream == null && !out.opening && now - out.failedAt < this.init.retryAfterMs) {
      this.dropped++
      return
    }
    if (out.queue.length >= this.init.maxQueuedMessages || out.queuedBytes + frame.byteLength > this.init.maxQueuedBytes) {
      this.dropped++
      return
    }
    out.queue.push(frame)
    out.queuedBytes += frame.byteLength
    if (stream == null && !out.opening) void this.open(to, out)
  }

  private write (out: Outbound, stream: Stream, frame: Uint8Array | Uint8ArrayList): void {
    try {
      stream.send(frame)
    } catch {
      this.dropped++
      if (out.stream === stream) out.stream = undefined
    }
  }

  private async open (to: string, out: Outbound): Promise<void> {
    out.opening = true
    this.evictIfFull()
    try {
      const stream = await this.components.connectionManager.openStream(peerIdFromString(to), SWIM_PROTOCOL, { signal: AbortSignal.timeout(this.init.openTimeoutMs) })
      if (!this.started || this.outbound.get(to) !== out) {
        stream.abort(new Error('swim transport stopped'))
        return
      }
      if (stream.status !== 'open') throw new Error(`stream ${stream.status} as it opened`)
      out.stream = stream
      stream.addEventListener('close', () => { if (out.stream === stream) out.stream = undefined })
      stream.addEventListener('drain', () => { this.flush(out) })
      // nothing is read on an outbound stream; the remote answers on its own
      this.flush(out)
    } catch (err) {
      this.log.trace('no swim stream to %s: %s', to, (err as Error).message)
      this.dropped += out.queue.length
      out.queue = []
      out.queuedBytes = 0
      out.failedAt = Date.now()
    } finally {
      out.opening = false
    }
  }

  private flush (out: Outbound): void {
    const stream = out.stream
    while (stream?.status === 'open' && !stream.writableNeedsDrain && out.queue.length > 0) {
      const frame = out.queue.shift()!
      out.queuedBytes -= frame.byteLength
      this.write(out, stream, frame)
    }
  }

  private onInbound (stream: Stream, connection: Connection): void {
    if (!this.started) {
      stream.abort(new Error('swim transport stopped'))
      return
    }
    const from = connection.remotePeer.toString()
    const decoder = new FrameDecoder(MAX_MESSAGE_BYTES)
    this.inbound.add(stream)
    stream.addEventListener('close', () => { this.inbound.delete(stream) })
    stream.addEventListener('message', (evt) => {
      try {
        decoder.decode(evt.data, (frame) => { this.deliver(from, frame instanceof Uint8Array ? frame : frame.subarray()) })
      } catch (err) {
        // a length prefix past the limit: the stream cannot be kept in step
        stream.abort(err as Error)
      }
    })
  }

  private deliver (from: string, data: Uint8Array): void {
    try {
      this.handler?.(from, data)
    } catch (err) {
      this.log.error('swim message from %s not handled: %s', from, (err as Error).message)
    }
  }

  private closeIdle (): void {
    const oldest = Date.now() - this.init.idleMs
    for (const [peer, out] of this.outbound) {
      if (out.lastUsed >= oldest || out.opening) continue
      this.outbound.delete(peer)
      void out.stream?.close({ signal: AbortSignal.timeout(this.init.closeTimeoutMs) }).catch((err: Error) => { out.stream?.abort(err) })
    }
  }

  private evictIfFull (): void {
    if (this.outbound.size <= this.init.maxStreams) return
    let lru: [string, Outbound] | undefined
    for (const entry of this.outbound) {
      if (!entry[1].opening && (lru == null || entry[1].lastUsed < lru[1].lastUsed)) lru = entry
    }
    if (lru == null) return
    this.outbound.delete(lru[0])
    lru[1].stream?.abort(new Error('too many swim streams'))
  }
}
