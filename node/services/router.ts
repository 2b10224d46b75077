import { isPeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { CHANNEL_PROTOCOL, INVOKE_PROTOCOL, InvokeChannels, PraasError, SingleFlight, toPraasError, wasUnsent } from '../../protocol/index.js'
import type { Host } from '../host/host.js'
import type { Peers } from './peers.js'
import type { Message, Runtime } from '../runtime/index.js'
import type { DialTarget, InvokeChannel, ProcessInfo } from '../../protocol/index.js'
import type { AbortOptions } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

const DIAL_TIMEOUT_MS = 10_000
const REMOTE_TIMEOUT_MS = 65_000
const MAX_CACHED_LOCATIONS = 100_000
const MAX_ATTEMPTS = 3

interface Location {
  node: string
  addrs: Multiaddr[]
}

export interface RouterInit {
  host: Host
  peers: Peers
  runtime: Runtime
  /** Finds the node that hosts a pid (NOT_FOUND if none does); `suspect` is a node that failed to serve it. */
  locate(pid: string, suspect?: string): Promise<ProcessInfo>
  /** The pid's node answered MOVED or is gone: drop what the directory cached. */
  forget(pid: string): void
}

function looksLikePeerId (value: string): boolean {
  try {
    return isPeerId(peerIdFromString(value))
  } catch {
    return false
  }
}

/**
 * Carries ctx.invoke and ctx.send from this node's processes to the node that hosts the target,
 * over one multiplexed stream per peer and protocol. Locations are cached; a MOVED answer drops
 * the entry and the call is retried after locating again. Locating a process may bring it back
 * on this very node (a swapped process restored where its replica is): the call then runs here.
 */
export class Router {
  private readonly selfId: string
  private readonly locations = new Map<string, Location>()
  private readonly resolving = new SingleFlight<Location>()
  private readonly invokeChannels: InvokeChannels
  private readonly channelChannels: InvokeChannels

  constructor (private readonly init: RouterInit) {
    this.selfId = init.host.peerId.toString()
    const open = async (target: DialTarget, protocol: string, options: AbortOptions): Promise<any> => await init.host.dialProtocol(target, protocol, options)
    this.invokeChannels = new InvokeChannels(open, INVOKE_PROTOCOL)
    this.channelChannels = new InvokeChannels(open, CHANNEL_PROTOCOL)
  }

  private async resolve (pid: string, suspect?: string): Promise<Location> {
    const cached = this.locations.get(pid)
    if (cached != null) return cached
    // One lookup per pid at a time: a burst of sends to a new pid shares it.
    return await this.resolving.run(pid, async () => await this.lookup(pid, suspect))
  }

  private async lookup (pid: string, suspect?: string): Promise<Location> {
    const info = await this.init.locate(pid, suspect)
    const location = { node: info.node, addrs: this.init.peers.get(info.node)?.addrs ?? info.addrs.map(a => multiaddr(a)) }
    if (this.locations.size >= MAX_CACHED_LOCATIONS) this.locations.delete(this.locations.keys().next().value!)
    this.locations.set(pid, location)
    return location
  }

  private async channel (channels: InvokeChannels, location: Location): Promise<InvokeChannel> {
    const open = channels.current(location.node)
    if (open != null) return open
    // A node it knows is dialled the way Peers says (its open connection first); a client at the addresses the location names.
    const target = this.init.peers.get(location.node) != null ? this.init.peers.target(location.node) : location.addrs
    return await channels.get(location.node, target, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
  }

  /**
   * Runs `attempt` against the pid's node, locating it again and retrying (a bounded number of
   * times) only when the call provably did not run: the node answered MOVED, or the call never
   * left this node (no stream could be opened, or it closed before the request was handed to
   * it). A call that was sent and lost its stream fails UNAVAILABLE: it may have run, and
   * running it again could run it twice (the SDK's rule too, docs/api.md).
   */
  private async withLocation<T> (pid: string, attempt: (location: Location) => Promise<T>): Promise<T> {
    let suspect: string | undefined
    for (let i = 1; ; i++) {
      const location = await this.resolve(pid, suspect)
      try {
        return await attempt(location)
      } catch (err) {
        const error = toPraasError(err)
        if (error.code !== 'MOVED' && !wasUnsent(error)) throw error
        this.locations.delete(pid)
        this.init.forget(pid)
        suspect = location.node
        // it exists (a deleted one is NOT_FOUND where it is looked up), but moved on each time it was asked
        if (i >= MAX_ATTEMPTS) throw error.code === 'MOVED' ? new PraasError('UNAVAILABLE', `process ${pid} moved each of the ${i} times it was called: not found running`) : error
      }
    }
  }

  async invoke (pid: string, fn: string, data: Uint8Array, options: AbortOptions): Promise<Uint8Array> {
    return await this.withLocation(pid, async (location) => {
      // a node does not dial itself; the runtime answers MOVED if the process left meanwhile
      if (location.node === this.selfId) return await this.init.runtime.invoke(pid, fn, data, { signal: options.signal })
      const channel = await this.channel(this.invokeChannels, location)
      return await channel.call({ pid, fn, payload: data, timeoutMs: 0 }, { cancel: options, timeoutMs: REMOTE_TIMEOUT_MS })
    })
  }

  /**
   * Delivers a message to `to`: a process on another node, or else, if `to` is a peer id, a
   * client, whose mailbox lives on this node until the client takes the message.
   */
  async send (to: string, key: string, message: Message, options: AbortOptions): Promise<void> {
    try {
      await this.withLocation(to, async (location) => {
        if (location.node === this.selfId) {
          await this.init.runtime.deliver(to, key, message, options)
          return
        }
        const channel = await this.channel(this.channelChannels, location)
        await channel.call({ pid: to, fn: 'send', key, from: message.from, payload: message.data, timeoutMs: 0 }, { cancel: options, timeoutMs: REMOTE_TIMEOUT_MS })
      })
    } catch (err) {
      const error = toPraasError(err)
      if (error.code !== 'NOT_FOUND' || !looksLikePeerId(to)) throw error
      await this.init.runtime.clientMailbox(to).put(key, message, options)
    }
  }

  forget (pid: string): void {
    this.locations.delete(pid)
  }

  stop (): void {
    this.invokeChannels.closeAll()
    this.channelChannels.closeAll()
  }
}
