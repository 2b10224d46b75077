import { markUnsent, PraasError, toPraasError } from './errors.js'
import { INVOKE_PROTOCOL } from './ids.js'
import { InvokeChannel } from './invoke.js'
import { SingleFlight } from './single-flight.js'
import type { AbortOptions, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Where to reach a peer: its addresses, or its peer id (an open connection, or the peer store). */
export type DialTarget = PeerId | Multiaddr[]

/** Opens a stream of a protocol to a peer, dialling it first when needed. */
export interface StreamOpener {
  (target: DialTarget, protocol: string, options: AbortOptions): Promise<Stream>
}

/**
 * One long-lived stream of a multiplexed protocol (invoke or channel) per remote peer, opened on first use and reopened after it dies.
 * Concurrent first calls to one peer share a single dial.
 */
export class InvokeChannels {
  private readonly open = new Map<string, InvokeChannel>()
  private readonly opening = new SingleFlight<InvokeChannel>()

  /** `onReplicas`: a host named the replicas that push its calls' results (InvokeChannel). */
  constructor (private readonly openStream: StreamOpener, private readonly protocol: string = INVOKE_PROTOCOL, private readonly onReplicas?: (addrs: string[]) => void) {}

  /** The open channel to a peer, if there is one (the hot path: no promise, no await). */
  current (peerId: string): InvokeChannel | undefined {
    const channel = this.open.get(peerId)
    return channel?.isOpen === true ? channel : undefined
  }

  async get (peerId: string, addrs: DialTarget, options: AbortOptions): Promise<InvokeChannel> {
    const channel = this.current(peerId)
    if (channel != null) return channel
    return await this.opening.run(peerId, async () => await this.dial(peerId, addrs, options))
  }

  private async dial (peerId: string, addrs: DialTarget, options: AbortOptions): Promise<InvokeChannel> {
    if (Array.isArray(addrs) && addrs.length === 0) throw markUnsent(new PraasError('UNAVAILABLE', `no address known for peer ${peerId}`))
    let stream: Stream
    try {
      stream = await this.openStream(addrs, this.protocol, options)
    } catch (err) {
      // nothing was sent on a stream that could not be opened
      const error = toPraasError(err, 'UNAVAILABLE')
      throw error.code === 'UNAVAILABLE' ? markUnsent(error) : error
    }
    const channel = new InvokeChannel(stream, () => {
      if (this.open.get(peerId) === channel) this.open.delete(peerId)
    }, this.onReplicas)
    this.open.set(peerId, channel)
    return channel
  }

  /** Drops the channel to a peer (it is reopened on the next call). */
  drop (peerId: string): void {
    this.open.get(peerId)?.close()
    this.open.delete(peerId)
  }

  closeAll (): void {
    for (const channel of this.open.values()) channel.close()
    this.open.clear()
  }
}
