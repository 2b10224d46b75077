import { SWIM_PROTOCOL } from '../../node/cluster/swim/index.js'
import { sampleRecord } from './cluster.js'
import type { SimCluster, SimNode } from './cluster.js'
import type { StatusChange } from '../../node/cluster/swim/index.js'

/**
 * The measurements of the simulation, each on a started, converged SimCluster, in simulated
 * time. Figures are per node per second of simulated time, or milliseconds.
 */

export interface Spread {
  mean: number
  max: number
}

export interface TrafficFigures {
  messagesIn: Spread
  messagesOut: Spread
  bytesIn: Spread
  bytesOut: Spread
}

function spread (values: number[]): Spread {
  return { mean: values.reduce((a, b) => a + b, 0) / Math.max(1, values.length), max: Math.max(0, ...values) }
}

/** Messages and bytes per live node per second over `windowMs` of a quiet cluster. */
export function traffic (cluster: SimCluster, windowMs: number): TrafficFigures {
  cluster.network.resetTraffic()
  cluster.run(windowMs)
  const perSecond = (x: number): number => x / (windowMs / 1000)
  const rows = cluster.live().map(n => cluster.network.traffic(n.id, SWIM_PROTOCOL))
  return {
    messagesIn: spread(rows.map(r => perSecond(r.messagesReceived))),
    messagesOut: spread(rows.map(r => perSecond(r.messagesSent))),
    bytesIn: spread(rows.map(r => perSecond(r.bytesReceived))),
    bytesOut: spread(rows.map(r => perSecond(r.bytesSent)))
  }
}

export interface Detection {
  /** From the death to the first node that suspects it. */
  firstSuspectMs: number
  /** From the death to the first node that declares it dead. */
  firstDeadMs: number
  /** From the death until every live node holds it dead (undefined: not within the limit). */
  allDeadMs: number | undefined
}

/** Kills `count` random nodes (never the seed), one at a time, `gapMs` apart, and times their detection. */
export function detection (cluster: SimCluster, count: number, random: () => number, gapMs = 10_000, limitMs = 60_000): Detection[] {
  const results: Detection[] = []
  for (let k = 0; k < count; k++) {
    const candidates = cluster.live().filter(n => n.index !== 0)
    const victim = candidates[Math.floor(random() * candidates.length)]
    const start = cluster.now
    let firstSuspect: number | undefined
    let firstDead: number | undefined
    const listener = (evt: CustomEvent<StatusChange>): void => {
      if (evt.detail.id !== victim.id) return
      if (evt.detail.status !== 'alive') firstSuspect ??= cluster.now - start
      if (evt.detail.status === 'dead') firstDead ??= cluster.now - start
    }
    const observers = cluster.live().filter(n => n !== victim)
    for (const n of observers) n.swim.addEventListener('member:status', listener)
    cluster.kill(victim)
    const allDead = cluster.runUntil(() => observers.every(n => !n.up || n.swim.status(victim.id) === 'dead'), limitMs, 10)
    for (const n of observers) n.swim.removeEventListener('member:status', listener)
    results.push({ firstSuspectMs: firstSuspect ?? NaN, firstDeadMs: firstDead ?? NaN, allDeadMs: allDead })
    cluster.run(gapMs)
  }
  return results
}

export interface FalsePositives {
  /** Suspicions of live members, per node per minute (each node that heard one counts it). */
  suspicionsPerNodeMinute: number
  /** Times a live member was declared dead (one per member and incarnation, however many nodes heard it). */
  deaths: number
  /** Members declared dead while alive, per 1,000 member-hours. */
  deathsPerThousandMemberHours: number
}

/** Runs the cluster `windowMs` with every message lost with probability `loss`, nobody dying. */
export function falsePositives (cluster: SimCluster, loss: number, windowMs: number): FalsePositives {
  const live = cluster.live()
  const before = cluster.network.config.loss
  cluster.network.config.loss = loss
  let suspicions = 0
  const deaths = new Set<string>()
  const listeners = new Map<SimNode, (evt: CustomEvent<StatusChange>) => void>()
  for (const node of live) {
    const listener = (evt: CustomEvent<StatusChange>): void => {
      if (evt.detail.status === 'suspect') suspicions++
      if (evt.detail.status === 'dead' && !evt.detail.left) deaths.add(`${evt.detail.id}:${evt.detail.incarnation}`)
    }
    listeners.set(node, listener)
    node.swim.addEventListener('member:status', listener)
  }
  cluster.run(windowMs)
  for (const [node, listener] of listeners) node.swim.removeEventListener('member:status', listener)
  cluster.network.config.loss = before
  const minutes = windowMs / 60_000
  return {
    suspicionsPerNodeMinute: suspicions / live.length / minutes,
    deaths: deaths.size,
    deathsPerThousandMemberHours: deaths.size / (live.length * windowMs / 3_600_000) * 1000
  }
}

/** Times from a node setting a new record until every live node holds it. */
export function recordConvergence (cluster: SimCluster, count: number, random: () => number, gapMs = 3_000, limitMs = 60_000): Array<number | undefined> {
  const times: Array<number | undefined> = []
  for (let k = 0; k < count; k++) {
    const live = cluster.live()
    const node = live[Math.floor(random() * live.length)]
    node.swim.setRecord(sampleRecord(node, cluster.nodes[0].id, 100 + k))
    const version = node.swim.member(node.id)!.recordVersion
    times.push(cluster.runUntil(() => cluster.live().every(n => (n.swim.member(node.id)?.recordVersion ?? 0) >= version), limitMs, 10))
    cluster.run(gapMs)
  }
  return times
}

/**
 * Traffic while every live node changes its record every `periodMs` (at a random phase), as
 * it would if its load rode in the record: each change reaches every node, so the bytes each
 * node receives grow with N. Measured over `windowMs` after `warmupMs`.
 */
export function churnTraffic (cluster: SimCluster, periodMs: number, warmupMs: number, windowMs: number, random: () => number): TrafficFigures {
  const end = cluster.now + warmupMs + windowMs
  let load = 0
  for (const node of cluster.live()) {
    const change = (): void => {
      if (!node.up || cluster.now >= end) return
      node.swim.setRecord(sampleRecord(node, cluster.nodes[0].id, ++load))
      cluster.scheduler.at(periodMs, change)
    }
    cluster.scheduler.at(random() * periodMs, change)
  }
  cluster.run(warmupMs)
  const figures = traffic(cluster, windowMs)
  // let the last changes spread before anything else is measured
  cluster.runUntil(() => cluster.live().every(node => node.swim.stats().queued === 0), 120_000, 250)
  return figures
}
