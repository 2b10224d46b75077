import type { NodeStats } from '../../protocol/pb/stats.js'

/** A member as the cluster's membership describes it (node/cluster Membership's Member). */
export interface MemberView {
  peerId: string
  addrs: Array<{ toString(): string }>
  load: number
  eventLoopDelayMs: number
  memory: number
}

/** Where the view's figures come from: this node's cluster layer and the stats protocol. */
export interface MeshSources {
  selfId: string
  selfAddrs(): string[]
  /** The other live members. */
  members(): MemberView[]
  leader(): { leader: string | undefined, term: number }
  /** This node's own heartbeat figures, once it has published one. */
  selfBeat(): MemberView | undefined
  /** This node's figures. */
  stats(): NodeStats
  /** Another member's figures (stats.ts). */
  fetch(peerId: string, signal: AbortSignal): Promise<NodeStats>
}

export interface MeshNode {
  peerId: string
  addrs: string[]
  self: boolean
  leader: boolean
  /** Active processes (the figure placement goes by). */
  load: number
  eventLoopDelayMs: number
  memory: number
  /** null when the node did not answer the stats protocol in time. */
  stats: NodeStats | null
}

export interface MeshSnapshot {
  self: string
  leader: string | null
  term: number
  /** When it was taken (ms since the epoch). */
  time: number
  nodes: MeshNode[]
}

/** The web view asks about once a second; a snapshot serves every viewer for this long. */
const SNAPSHOT_TTL_MS = 900
/** How long a member has to answer the stats protocol; a slow one is shown without its figures. */
const STATS_TIMEOUT_MS = 1_000
/** Stats requests in flight at once, however big the cluster. */
const STATS_IN_FLIGHT = 16

/**
 * The mesh as this node sees it, for the web view: every member with the load of its last
 * heartbeat and the figures it answers on the stats protocol (processes, calls per second), and
 * the leader and term. One snapshot at a time, cached for a moment, whatever the number of viewers.
 */
export class MeshView {
  private last?: { at: number, snapshot: Promise<MeshSnapshot> }

  constructor (private readonly sources: MeshSources) {}

  async snapshot (): Promise<MeshSnapshot> {
    const now = Date.now()
    if (this.last == null || now - this.last.at > SNAPSHOT_TTL_MS) {
      const snapshot = this.take()
      this.last = { at: now, snapshot }
      snapshot.catch(() => { this.last = undefined })
    }
    return await this.last.snapshot
  }

  private async take (): Promise<MeshSnapshot> {
    const { selfId } = this.sources
    const { leader, term } = this.sources.leader()
    const members = this.sources.members()
    const beat = this.sources.selfBeat()
    const self: MeshNode = {
      peerId: selfId,
      addrs: this.sources.selfAddrs(),
      self: true,
      leader: leader === selfId,
      load: this.sources.stats().active,
      eventLoopDelayMs: beat?.eventLoopDelayMs ?? 0,
      memory: beat?.memory ?? process.memoryUsage.rss(),
      stats: this.sources.stats()
    }
    const others: MeshNode[] = members.map(m => ({
      peerId: m.peerId,
      addrs: m.addrs.map(a => a.toString()),
      self: false,
      leader: leader === m.peerId,
      load: m.load,
      eventLoopDelayMs: m.eventLoopDelayMs,
      memory: m.memory,
      stats: null
    }))
    let next = 0
    await Promise.all(Array.from({ length: Math.min(STATS_IN_FLIGHT, others.length) }, async () => {
      while (next < others.length) {
        const node = others[next++]
        node.stats = await this.sources.fetch(node.peerId, AbortSignal.timeout(STATS_TIMEOUT_MS)).catch(() => null)
      }
    }))
    const nodes = [self, ...others].sort((a, b) => a.peerId < b.peerId ? -1 : 1)
    return { self: selfId, leader: leader ?? null, term, time: Date.now(), nodes }
  }
}
