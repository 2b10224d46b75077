/**
 * Operating a node: its metrics (prom-client, with libp2p's own), its HTTP endpoint (/metrics,
 * /healthz, the web view of the mesh) and the stats protocol the view reads other nodes with.
 * See docs/operations.md.
 */
import { HttpEndpoint } from './server.js'
import { instrument } from './instrument.js'
import { MeshView } from './mesh.js'
import { NodeMetrics } from './metrics.js'
import { STATS_PROTOCOL, fetchStats, serveStats } from './stats.js'
import type { HttpAddress } from './address.js'
import type { Instrumented } from './instrument.js'
import type { MemberView } from './mesh.js'
import type { Authorize } from './server.js'
import type { NodeLog } from '../log.js'
import type { NodeStats } from '../../protocol/pb/stats.js'
import type { Libp2p } from '@libp2p/interface'

export { parseHttpAddress, DEFAULT_HTTP } from './address.js'
export type { HttpAddress } from './address.js'
export type { Authorize } from './server.js'
export { NodeMetrics } from './metrics.js'

/** An invoke handler as node.ts serves it (protocol/invoke.ts). */
type InvokeHandler<R, O> = (request: R, options: O) => Promise<Uint8Array>

/** The parts of a running node that the endpoint reads (structural, so that they can change behind it). */
export interface OpsParts extends Instrumented {
  host: Libp2p
  selfId: string
  selfAddrs(): string[]
  runtime: { load: number, list(): Array<{ mailbox?: { size: number } }> }
  lifecycle: Instrumented['lifecycle'] & { swappedCount(): number }
  membership: EventTarget & { members(): MemberView[], get(peerId: string): unknown }
  election: EventTarget & { term: number, leader: string | undefined }
}

export interface NodeOpsInit {
  address: HttpAddress
  authorize?: Authorize
  log: NodeLog
}

/**
 * Everything a node does for the people who run it, built before the host (libp2p's metrics go
 * into the same registry) and started once the node's parts exist.
 */
export class NodeOps {
  readonly metrics = new NodeMetrics()
  private endpoint?: HttpEndpoint
  private parts?: OpsParts
  private selfBeat?: MemberView
  private stopping = false
  private readonly unsubscribe: Array<() => void> = []

  constructor (private readonly init: NodeOpsInit) {}

  /** The host's `metrics` option. */
  libp2pMetrics (): ReturnType<NodeMetrics['libp2p']> {
    return this.metrics.libp2p()
  }

  /** The invoke handler, counting each call by app, function and outcome, and timing it. */
  countCalls<R extends { pid: string, fn: string }, O> (
    handler: InvokeHandler<R, O>,
    appOf: (pid: string) => string | undefined
  ): InvokeHandler<R, O> {
    const metrics = this.metrics
    return async (request, options) => {
      const started = performance.now()
      const app = appOf(request.pid) ?? ''
      try {
        const result = await handler(request, options)
        metrics.call(app, request.fn, 'ok', started)
        return result
      } catch (err) {
        const code = (err as { code?: unknown } | null)?.code
        metrics.call(app, request.fn, typeof code === 'string' ? code : 'error', started)
        throw err
      }
    }
  }

  /** Starts the gauges, the stats protocol and the HTTP endpoint; resolves with its URL. */
  async start (parts: OpsParts): Promise<string> {
    this.parts = parts
    const { metrics } = this
    const { host, membership, election, runtime, lifecycle } = parts
    instrument(parts, metrics)
    metrics.observe({
      processes: () => ({ active: runtime.load, swapped: lifecycle.swappedCount() }),
      mailboxBytes: () => this.mailboxBytes(),
      leader: () => ({ term: election.term, self: election.leader === parts.selfId }),
      members: () => membership.members().length + 1,
      connectedPeers: () => host.getPeers().length
    })
    this.listen(membership, 'published', (detail) => { this.selfBeat = detail as MemberView })
    this.listen(membership, 'member:join', (detail) => { this.init.log.info({ peerId: (detail as MemberView).peerId }, 'a node joined the mesh') })
    this.listen(membership, 'member:leave', (detail) => { this.init.log.warn({ peerId: (detail as MemberView).peerId }, 'a node left the mesh') })
    this.listen(election, 'leader:change', (detail) => {
      const { leader, term } = detail as { leader?: string, term: number }
      if (leader == null) this.init.log.debug({ term }, 'no leader in this term yet')
      else this.init.log.info({ leader, term, self: leader === parts.selfId }, 'leader elected')
    })
    await serveStats(host, (id) => membership.get(id) != null, () => this.stats())
    const mesh = new MeshView({
      selfId: parts.selfId,
      selfAddrs: parts.selfAddrs,
      members: () => membership.members(),
      leader: () => ({ leader: election.leader, term: election.term }),
      selfBeat: () => this.selfBeat,
      stats: () => this.stats(),
      fetch: async (peerId, signal) => await fetchStats(host, peerId, { signal })
    })
    this.endpoint = new HttpEndpoint({
      address: this.init.address,
      authorize: this.init.authorize,
      metrics,
      mesh,
      health: () => ({
        ok: !this.stopping,
        status: this.stopping ? 'stopping' : 'ok',
        peerId: parts.selfId,
        leader: election.leader ?? null,
        term: election.term,
        members: membership.members().length + 1
      })
    })
    const url = await this.endpoint.start()
    this.init.log.info({ url }, 'http endpoint ready: /metrics, /healthz, the web view at /')
    return url
  }

  /** /healthz answers 503 from now on: the node is on its way out (swapping its processes). */
  markStopping (): void {
    this.stopping = true
  }

  async stop (): Promise<void> {
    this.stopping = true
    for (const off of this.unsubscribe.splice(0)) off()
    this.metrics.stop()
    await this.parts?.host.unhandle(STATS_PROTOCOL).catch(() => {})
    await this.endpoint?.stop()
  }

  private stats (): NodeStats {
    const parts = this.parts!
    const { total, perSecond } = this.metrics.callRate()
    return {
      active: parts.runtime.load,
      swapped: parts.lifecycle.swappedCount(),
      callsTotal: total,
      callsPerSecond: perSecond,
      mailboxBytes: this.mailboxBytes(),
      http: this.endpoint?.url ?? ''
    }
  }

  private mailboxBytes (): number {
    let bytes = 0
    for (const record of this.parts!.runtime.list()) bytes += record.mailbox?.size ?? 0
    return bytes
  }

  private listen (target: EventTarget, type: string, handler: (detail: unknown) => void): void {
    const listener = (evt: Event): void => { handler((evt as CustomEvent).detail) }
    target.addEventListener(type, listener)
    this.unsubscribe.push(() => { target.removeEventListener(type, listener) })
  }
}
