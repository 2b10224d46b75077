import { InvokeChannels, MAX_INLINE_CHUNKS, PraasError, REPLICATE_PROTOCOL, SingleFlight, STATE_CHUNKS_PROTOCOL, STATE_PROTOCOL, StateRequest, toPraasError } from '../../protocol/index.js'
import { sendChunks } from './chunk-stream.js'
import { ReplicaChannel } from './replica-channel.js'
import { chunkLengths, chunksOf, decodeManifest, encodeManifest, hashChunk, hashPiecesOffThread, sha256 } from '../storage/index.js'
import type { ImageManifest, ImagePieces } from '../storage/index.js'
import type { Host } from '../host/host.js'
import type { Peers } from '../services/peers.js'
import type { AbortOptions } from '@libp2p/interface'

/** A state call's limit when the caller gives none: an image chunk, or a group commit, on a slow link. */
const STATE_CALL_TIMEOUT_MS = 30_000
const DIAL_TIMEOUT_MS = 5_000
/** Image chunks in flight to or from one peer: enough to fill the pipe, few enough to stay fair. */
const CHUNKS_IN_FLIGHT = 8
/** Images of at most this many bytes travel inside their final call: one round trip. */
const INLINE_IMAGE_BYTES = 128 * 1024
/** Images of this many chunks or more travel on a chunk stream rather than as calls. */
const BULK_MIN_CHUNKS = 4
/** The longest one image's chunk stream may take (1 GiB at 10 MB/s). */
const BULK_TIMEOUT_MS = 120_000

export interface StateCallOptions extends AbortOptions {
  key?: string
  timeoutMs?: number
}

/** An image to send: its chunks (with their hashes, if known), or its pieces (storage/image.ts `imagePieces`). */
export type OutgoingImage = { head: Omit<ImageManifest, 'chunks'>, chunks: Uint8Array[], hashes?: string[] } | ImagePieces

/** Extra fields of an image's final call (`install`, `activate`). */
export type ImageCall = Omit<Partial<StateRequest>, 'manifest'>

/**
 * The calling side of /praas/state/1.0.0: one multiplexed stream per peer (the invoke framing,
 * so chunks of big images interleave with small replication calls), opened on first use.
 */
export class StateClient {
  private readonly channels: InvokeChannels
  /** Replication calls, one stream per replica (replica-channel.ts). */
  private readonly replicaChannels = new Map<string, ReplicaChannel>()
  private readonly opening = new SingleFlight<ReplicaChannel>()

  constructor (private readonly host: Host, private readonly peers: Peers) {
    // The channel is keyed by peer id; where to dial it is the peers' business (see Peers.target).
    this.channels = new InvokeChannels(async (addrs, protocol, options) => {
      return await host.dialProtocol(addrs, protocol, options)
    }, STATE_PROTOCOL)
  }

  async call (peer: string, fn: string, pid: string, payload: Uint8Array, options: StateCallOptions = {}): Promise<Uint8Array> {
    let channel = this.channels.current(peer)
    if (channel == null) {
      channel = await this.channels.get(peer, this.peers.target(peer), { signal: AbortSignal.any([AbortSignal.timeout(DIAL_TIMEOUT_MS), ...(options.signal != null ? [options.signal] : [])]) })
    }
    return await channel.call({ pid, fn, payload, key: options.key, timeoutMs: 0 }, { signal: options.signal, timeoutMs: options.timeoutMs ?? STATE_CALL_TIMEOUT_MS })
  }

  /** One replication call (a ReplicateRequest) to a replica; resolves with its ReplicateResponse. */
  async replicate (peer: string, request: Uint8Array, options: AbortOptions = {}): Promise<Uint8Array> {
    let channel = this.replicaChannels.get(peer)
    if (channel?.isOpen !== true) channel = await this.opening.run(peer, async () => await this.openReplicaChannel(peer, options))
    return await channel.call(request)
  }

  private async openReplicaChannel (peer: string, options: AbortOptions): Promise<ReplicaChannel> {
    const signal = AbortSignal.any([AbortSignal.timeout(DIAL_TIMEOUT_MS), ...(options.signal != null ? [options.signal] : [])])
    let stream
    try {
      stream = await this.host.dialProtocol(this.peers.target(peer), REPLICATE_PROTOCOL, { signal })
    } catch (err) {
      throw toPraasError(err, 'UNAVAILABLE')
    }
    const channel: ReplicaChannel = new ReplicaChannel(stream, STATE_CALL_TIMEOUT_MS, () => {
      if (this.replicaChannels.get(peer) === channel) this.replicaChannels.delete(peer)
    })
    this.replicaChannels.set(peer, channel)
    return channel
  }

  /** Sends an image's chunks (content-addressed: the peer checks each), then the call that uses them. */
  async pushImage (peer: string, fn: string, manifest: ImageManifest, chunks: Uint8Array[], extra: ImageCall, options: AbortOptions = {}): Promise<Uint8Array> {
    return await this.pushSerialized(peer, fn, { head: manifest, chunks, hashes: manifest.chunks }, extra, options)
  }

  /**
   * The same for an image serialized but not hashed yet: each chunk is hashed (off the event
   * loop) just before it is sent, so hashing overlaps the transfer; the manifest goes last.
   */
  async pushSerialized (peer: string, fn: string, outgoing: OutgoingImage, extra: ImageCall, options: AbortOptions = {}): Promise<Uint8Array> {
    if ('pieces' in outgoing && chunkLengths(outgoing.head.size).length >= BULK_MIN_CHUNKS) return await this.pushPieces(peer, fn, outgoing, extra, options)
    const image = 'pieces' in outgoing ? { head: outgoing.head, chunks: chunksOf(outgoing), hashes: undefined } : outgoing
    let hashes = image.hashes?.slice() ?? new Array<string>(image.chunks.length)
    if (image.head.size <= INLINE_IMAGE_BYTES && image.chunks.length <= MAX_INLINE_CHUNKS) {
      const manifest: ImageManifest = { ...image.head, chunks: image.chunks.map((chunk, i) => hashes[i] ?? sha256(chunk)) }
      return await this.call(peer, fn, manifest.pid, StateRequest.encode({ ...extra, manifest: encodeManifest(manifest) as Uint8Array<ArrayBuffer>, chunks: image.chunks as Array<Uint8Array<ArrayBuffer>> }), options)
    }
    if (image.chunks.length >= BULK_MIN_CHUNKS) {
      // Big images go on a stream of their own at raw speed, hashed (off the event loop) meanwhile.
      const hashing = image.hashes != null ? Promise.resolve(hashes) : Promise.all(image.chunks.map(hashChunk))
      hashing.catch(() => {})
      await this.sendStream(peer, image.chunks.map(c => c.byteLength), image.chunks, options)
      hashes = await hashing
    } else {
      await inParallel(image.chunks.length, CHUNKS_IN_FLIGHT, async (i) => {
        hashes[i] ??= await hashChunk(image.chunks[i])
        await this.call(peer, 'chunk', image.head.pid, image.chunks[i], { ...options, key: hashes[i] })
      })
    }
    return await this.finish(peer, fn, { ...image.head, chunks: hashes }, extra, options)
  }

  /**
   * A big image straight from its pieces (no copy into one buffer): on a chunk stream, hashed
   * off the event loop meanwhile (storage/image.ts `hashPiecesOffThread`), then the call that
   * uses it.
   */
  private async pushPieces (peer: string, fn: string, { head, pieces }: ImagePieces, extra: ImageCall, options: AbortOptions): Promise<Uint8Array> {
    const hashing = hashPiecesOffThread(pieces, head.size)
    hashing.catch(() => {})
    await this.sendStream(peer, chunkLengths(head.size), pieces, options)
    return await this.finish(peer, fn, { ...head, chunks: await hashing }, extra, options)
  }

  private async sendStream (peer: string, lengths: number[], body: Uint8Array[], options: AbortOptions): Promise<void> {
    const signal = AbortSignal.any([AbortSignal.timeout(BULK_TIMEOUT_MS), ...(options.signal != null ? [options.signal] : [])])
    let stream
    try {
      stream = await this.host.dialProtocol(this.peers.target(peer), STATE_CHUNKS_PROTOCOL, { signal })
    } catch (err) {
      throw new PraasError('UNAVAILABLE', `cannot reach node ${peer}: ${(err as Error).message}`)
    }
    await sendChunks(stream, lengths, body, { signal })
  }

  /** The call that uses an image whose chunks the peer now holds: the manifest names them. */
  private async finish (peer: string, fn: string, manifest: ImageManifest, extra: ImageCall, options: AbortOptions): Promise<Uint8Array> {
    return await this.call(peer, fn, manifest.pid, StateRequest.encode({ ...extra, manifest: encodeManifest(manifest) as Uint8Array<ArrayBuffer> }), options)
  }

  /** Fetches the newest copy of a process that a peer holds: its manifest, then its chunks (each checked by the caller). */
  async fetchImage (peer: string, pid: string, options: AbortOptions = {}): Promise<{ manifest: ImageManifest, chunks: Uint8Array[] }> {
    const manifest = decodeManifest(await this.call(peer, 'fetch', pid, new Uint8Array(0), options))
    if (manifest.pid !== pid) throw new PraasError('BAD_REQUEST', `peer ${peer} sent the image of another process`)
    const chunks = new Array<Uint8Array>(manifest.chunks.length)
    await inParallel(chunks.length, CHUNKS_IN_FLIGHT, async (i) => {
      chunks[i] = await this.call(peer, 'fetch-chunk', pid, new Uint8Array(0), { ...options, key: manifest.chunks[i] })
    })
    return { manifest, chunks }
  }

  drop (peer: string): void {
    this.channels.drop(peer)
    this.replicaChannels.get(peer)?.close()
    this.replicaChannels.delete(peer)
  }

  close (): void {
    this.channels.closeAll()
    for (const channel of this.replicaChannels.values()) channel.close()
    this.replicaChannels.clear()
  }
}

/** Runs `task(0..count-1)` with at most `limit` at once; the first failure fails the whole. */
export async function inParallel (count: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  let failed = false
  const worker = async (): Promise<void> => {
    while (!failed && next < count) {
      const i = next++
      try {
        await task(i)
      } catch (err) {
        failed = true
        throw err
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker))
}
