import type { Scheduler } from './scheduler.js'
import type { Datagrams } from '../../node/cluster/swim/index.js'

export interface NetworkConfig {
  /** One-way delay of every message: latencyMs plus a uniform jitter in [0, jitterMs). */
  latencyMs: number
  jitterMs: number
  /** Probability that a message is lost. */
  loss: number
}

export interface Traffic {
  messagesSent: number
  bytesSent: number
  messagesReceived: number
  bytesReceived: number
}

interface Endpoint {
  up: boolean
  group: number
  /** Extra delay of everything this node sends and receives: a starved event loop. */
  slowMs: number
  handlers: Map<string, (from: string, data: Uint8Array) => void>
  traffic: Map<string, Traffic>
}

const emptyTraffic = (): Traffic => ({ messagesSent: 0, bytesSent: 0, messagesReceived: 0, bytesReceived: 0 })

/**
 * A simulated network of datagrams between simulated nodes: delay with jitter, loss, partitions
 * (nodes in different groups cannot reach each other) and dead nodes (nothing in, nothing out).
 * Each node gets one transport per protocol name, so other components (the election, later)
 * can run beside SWIM on the same clock and network; traffic is counted per node and protocol.
 */
export class SimNetwork {
  private readonly endpoints = new Map<string, Endpoint>()
  /** Links cut in both directions ("a\nb", either order). */
  private readonly cuts = new Set<string>()

  constructor (private readonly scheduler: Scheduler, private readonly random: () => number, public config: NetworkConfig) {}

  add (id: string): void {
    this.endpoints.set(id, { up: true, group: 0, slowMs: 0, handlers: new Map(), traffic: new Map() })
  }

  /** A node dies (false) or comes back (true). */
  setUp (id: string, up: boolean): void {
    this.endpoint(id).up = up
  }

  isUp (id: string): boolean {
    return this.endpoint(id).up
  }

  /** Splits the nodes: each listed group can reach only itself; unlisted nodes form group 0. */
  partition (groups: string[][]): void {
    for (const endpoint of this.endpoints.values()) endpoint.group = 0
    groups.forEach((ids, i) => { for (const id of ids) this.endpoint(id).group = i + 1 })
  }

  heal (): void {
    this.partition([])
  }

  /** Makes a node slow (its messages in and out wait `ms` more), or well again with 0. */
  setSlow (id: string, ms: number): void {
    this.endpoint(id).slowMs = ms
  }

  /** Cuts the link between two nodes (both directions); the rest of the network stays. */
  cut (a: string, b: string): void {
    this.cuts.add(linkKey(a, b))
  }

  mend (a: string, b: string): void {
    this.cuts.delete(linkKey(a, b))
  }

  transport (id: string, protocol: string): Datagrams {
    const endpoint = this.endpoint(id)
    return {
      send: (to, data) => { this.send(id, to, protocol, data) },
      listen: (handler) => { endpoint.handlers.set(protocol, handler) }
    }
  }

  traffic (id: string, protocol: string): Traffic {
    return { ...(this.endpoint(id).traffic.get(protocol) ?? emptyTraffic()) }
  }

  resetTraffic (): void {
    for (const endpoint of this.endpoints.values()) endpoint.traffic.clear()
  }

  private send (from: string, to: string, protocol: string, data: Uint8Array): void {
    const sender = this.endpoint(from)
    if (!sender.up) return
    const out = this.count(sender, protocol)
    out.messagesSent++
    out.bytesSent += data.byteLength
    const receiver = this.endpoints.get(to)
    if (receiver == null || receiver.group !== sender.group || this.random() < this.config.loss) return
    if (this.cuts.size > 0 && this.cuts.has(linkKey(from, to))) return
    const delay = this.config.latencyMs + this.random() * this.config.jitterMs + sender.slowMs + receiver.slowMs
    this.scheduler.at(delay, () => {
      if (!receiver.up || receiver.group !== sender.group) return
      const handler = receiver.handlers.get(protocol)
      if (handler == null) return
      const into = this.count(receiver, protocol)
      into.messagesReceived++
      into.bytesReceived += data.byteLength
      handler(from, data)
    })
  }

  private count (endpoint: Endpoint, protocol: string): Traffic {
    let traffic = endpoint.traffic.get(protocol)
    if (traffic == null) {
      traffic = emptyTraffic()
      endpoint.traffic.set(protocol, traffic)
    }
    return traffic
  }

  private endpoint (id: string): Endpoint {
    const endpoint = this.endpoints.get(id)
    if (endpoint == null) throw new Error(`no simulated node ${id}`)
    return endpoint
  }
}

function linkKey (a: string, b: string): string {
  return a < b ? `${a}\n${b}` : `${b}\n${a}`
}
