import { multiaddr } from '@multiformats/multiaddr'
import { SWIM_PROTOCOL, Swim, encodeNodeRecord } from '../../node/cluster/swim/index.js'
import { SimNetwork } from './network.js'
import { fakePeerId, seededRandom } from './random.js'
import { Scheduler } from './scheduler.js'
import type { NetworkConfig } from './network.js'
import type { Clock, SwimInit } from '../../node/cluster/swim/index.js'

export interface SimClusterInit {
  size: number
  seed: number
  network?: Partial<NetworkConfig>
  swim?: SwimInit
}

export interface SimNode {
  index: number
  id: string
  swim: Swim
  up: boolean
  /** Bumped at every restart, so that timers of an earlier life never fire. */
  life: number
  clock: Clock
}

/** A LAN: 0.5-2.5 ms one way. */
export const DEFAULT_NETWORK: NetworkConfig = { latencyMs: 0.5, jitterMs: 2, loss: 0 }

/**
 * N copies of the real SWIM core on one simulated clock and network, with a shared roster;
 * node 0 is the seed the others join through (as a bootstrap address would be).
 */
export class SimCluster {
  readonly scheduler = new Scheduler()
  readonly network: SimNetwork
  /** The cluster's member set, shared by every node; replace it with setRoster. */
  roster: ReadonlySet<string>
  readonly nodes: SimNode[] = []
  private readonly random: () => number

  constructor (private readonly init: SimClusterInit) {
    this.random = seededRandom(init.seed)
    this.network = new SimNetwork(this.scheduler, seededRandom(init.seed ^ 0x5eed), { ...DEFAULT_NETWORK, ...init.network })
    const ids = new Set<string>()
    while (ids.size < init.size) ids.add(fakePeerId(this.random))
    this.roster = ids
    for (const [index, id] of [...ids].entries()) {
      this.network.add(id)
      const node: SimNode = { index, id, up: true, life: 0, clock: undefined as unknown as Clock, swim: undefined as unknown as Swim }
      this.nodes.push(node)
      this.create(node)
    }
  }

  /** A new member set (a member removed or added through the leader), seen by every node at once. */
  setRoster (ids: ReadonlySet<string>): void {
    this.roster = ids
  }

  get now (): number {
    return this.scheduler.now()
  }

  /** Starts every node at a random moment within `spreadMs`, each with a record like a real node's. */
  start (spreadMs = 1_000): void {
    for (const node of this.nodes) {
      this.scheduler.at(this.random() * spreadMs, () => {
        node.swim.start()
        node.swim.setRecord(sampleRecord(node, this.nodes[0].id))
      })
    }
  }

  run (ms: number): void {
    this.scheduler.run(ms)
  }

  /** Runs until `done()` holds (checked every `stepMs`), at most `maxMs`; the time it took, or undefined. */
  runUntil (done: () => boolean, maxMs: number, stepMs = 50): number | undefined {
    const start = this.now
    while (this.now - start < maxMs) {
      if (done()) return this.now - start
      this.scheduler.run(stepMs)
    }
    return done() ? this.now - start : undefined
  }

  /** The node stops: no timers, nothing in or out (a crash, not a leave). */
  kill (node: SimNode): void {
    node.up = false
    this.network.setUp(node.id, false)
    node.swim.stop()
  }

  /** A killed node comes back with a fresh memory, as a restarted process would. */
  restart (node: SimNode): void {
    node.life++
    node.up = true
    this.network.setUp(node.id, true)
    this.create(node)
    node.swim.start()
    node.swim.setRecord(sampleRecord(node, this.nodes[0].id))
  }

  live (): SimNode[] {
    return this.nodes.filter(n => n.up)
  }

  /** Every live node sees every other live node alive and every dead one dead. */
  converged (): boolean {
    const live = this.live()
    const dead = this.nodes.filter(n => !n.up)
    return live.every(a => live.every(b => a === b || a.swim.status(b.id) === 'alive') && dead.every(b => a.swim.status(b.id) === 'dead'))
  }

  private create (node: SimNode): void {
    const life = node.life
    node.clock = this.scheduler.clockFor(() => node.up && node.life === life)
    const seedId = this.nodes[0]?.id ?? node.id
    node.swim = new Swim({
      self: node.id,
      transport: this.network.transport(node.id, SWIM_PROTOCOL),
      clock: node.clock,
      random: seededRandom(this.init.seed * 7919 + node.index * 104729 + life),
      roster: () => this.roster,
      seeds: () => [seedId]
    }, this.init.swim)
  }
}

/** A record of the size a real node's would be: two addresses, load, term, the leader's id. */
export function sampleRecord (node: SimNode, leader: string, load = 0): Uint8Array {
  const ip = `10.${(node.index >> 16) & 255}.${(node.index >> 8) & 255}.${node.index & 255}`
  return encodeNodeRecord({
    addrs: [multiaddr(`/ip4/${ip}/tcp/4001`).bytes, multiaddr(`/ip4/${ip}/udp/4001/quic-v1`).bytes],
    load,
    eventLoopDelayUs: 1200,
    term: 3,
    leader,
    rosterVersion: 1
  })
}
