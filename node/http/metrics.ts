import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { CallMetrics, asMetric } from './call-metrics.js'
import type { ComponentLogger, Metrics } from '@libp2p/interface'

/** Swaps, restores, migrations and replication round trips: 1 ms to 2 minutes. */
const LIFECYCLE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]
/** The window over which calls per second are averaged, in one-second samples. */
const RATE_WINDOW_S = 5

/** How often the `nodejs_eventloop_lag_*` metrics sample the event loop (prom-client's resolution). */
const EVENT_LOOP_SAMPLE_MS = 1_000

/** The figures of a node that are read when scraped rather than counted as they happen. */
export interface NodeGauges {
  processes(): { active: number, swapped: number }
  mailboxBytes(): number
  leader(): { term: number, self: boolean }
  members(): number
  connectedPeers(): number
}

export type Outcome = 'ok' | string

/**
 * The praas_* metrics of one node, in a prom-client registry of its own that libp2p's metrics
 * (@libp2p/prometheus-metrics) and the process's default metrics share: `/metrics` is this
 * registry. Counters move as things happen; gauges are read when scraped (`observe`).
 */
export class NodeMetrics {
  readonly registry = new Registry()
  private readonly calls = new CallMetrics()
  private readonly lifecycle: Record<'swap' | 'restore' | 'migration' | 'replication', { count: Counter<'outcome'>, seconds: Histogram }>
  private readonly rateSamples: Array<{ at: number, total: number }> = []
  /** When the last call was served (performance.now()), -Infinity before the first. */
  private lastCallAt = -Infinity

  constructor () {
    const registers = [this.registry]
    for (const metric of this.calls.metrics()) this.registry.registerMetric(asMetric(metric))
    const timed = (count: string, seconds: string, what: string): { count: Counter<'outcome'>, seconds: Histogram } => ({
      count: new Counter({ name: `praas_${count}`, help: `${what}, by outcome (ok or the error code)`, labelNames: ['outcome'], registers }),
      seconds: new Histogram({
        name: `praas_${seconds}`,
        help: `How long each of these took (successful ones): ${what.toLowerCase()}`,
        buckets: LIFECYCLE_BUCKETS,
        registers
      })
    })
    this.lifecycle = {
      swap: timed('swaps_total', 'swap_duration_seconds', 'Swaps of a process out of memory (state and unread messages to disk and replicas)'),
      restore: timed('restores_total', 'restore_duration_seconds', 'Restores of a swapped process that this node led'),
      migration: timed('migrations_total', 'migration_duration_seconds', 'Live migrations of a process away from this node'),
      replication: timed('replication_round_trips_total', 'replication_round_trip_seconds', 'Replication batches sent to a replica and answered')
    }
  }

  /** libp2p's own metrics (connections, streams, bytes per protocol, DHT, pubsub), into this registry: the host's `metrics`. */
  libp2p (): (components: { logger: ComponentLogger }) => Metrics {
    // prom-client samples the event-loop lag with a timer of this resolution (default 10 ms): it
    // woke an idle node a hundred times a second. Once a second is what the web view samples too.
    return prometheusMetrics({ registry: this.registry, defaultMetrics: { eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS } })
  }

  /** Registers the gauges read at each scrape, and starts the calls-per-second sampler. */
  observe (gauges: NodeGauges): void {
    // made unregistered, then registered: a Gauge made for its side effect alone reads as a mistake
    const registers: Registry[] = []
    const gauge = (name: string, help: string, read: () => number): Gauge => new Gauge({ name, help, registers, collect () { this.set(read()) } })
    const all = [
      new Gauge({
        name: 'praas_processes',
        help: 'Processes by status: active on this node, or swapped with their image here',
        labelNames: ['status'],
        registers,
        collect () {
          const { active, swapped } = gauges.processes()
          this.set({ status: 'active' }, active)
          this.set({ status: 'swapped' }, swapped)
        }
      }),
      gauge('praas_mailbox_bytes', 'Bytes of unread messages in the mailboxes of this node\'s processes', gauges.mailboxBytes),
      gauge('praas_leader_term', 'The election term this node is in', () => gauges.leader().term),
      gauge('praas_leader', '1 while this node is the leader (the allocator), else 0', () => gauges.leader().self ? 1 : 0),
      gauge('praas_cluster_members', 'Live members of the cluster as this node sees them, itself included', gauges.members),
      gauge('praas_connected_peers', 'Peers with an open connection to this node (nodes and clients)', gauges.connectedPeers)
    ]
    for (const metric of all) this.registry.registerMetric(metric)
    this.rateSamples.length = 0
  }

  stop (): void {
    this.rateSamples.length = 0
  }

  /**
   * Takes a sample of the call count at most once a second, when a call comes or the rate is
   * read (a timer of its own would wake an idle node every second for nothing), and keeps the
   * samples of the window plus one older one, the baseline.
   */
  private sampleRate (now: number): void {
    const samples = this.rateSamples
    const last = samples[samples.length - 1]
    if (last == null || now - last.at >= 1000) samples.push({ at: now, total: this.calls.calls })
    while (samples.length > 1 && (now - samples[1].at >= RATE_WINDOW_S * 1000 || samples.length > RATE_WINDOW_S + 2)) samples.shift()
  }

  /** One call served: its app ('' when the process is not here), function, outcome, and when it arrived (performance.now()). */
  call (app: string, fn: string, outcome: Outcome, startedMs: number): void {
    const now = performance.now()
    this.calls.record(app, fn, outcome, (now - startedMs) / 1000)
    this.lastCallAt = now
    this.sampleRate(now)
  }

  /** One swap, restore, migration or replication round trip, and when it started (performance.now()). */
  timed (what: 'swap' | 'restore' | 'migration' | 'replication', outcome: Outcome, startedMs: number): void {
    const metric = this.lifecycle[what]
    metric.count.inc({ outcome })
    if (outcome === 'ok') metric.seconds.observe((performance.now() - startedMs) / 1000)
  }

  /** Calls served since start, and per second over the last few seconds. */
  callRate (): { total: number, perSecond: number } {
    const now = performance.now()
    this.sampleRate(now)
    const first = this.rateSamples[0]
    const seconds = (now - first.at) / 1000
    const total = this.calls.calls
    // Samples are a second apart at best: calls made within a second after the last sample of a
    // busy spell count in none, and the baseline can be that older sample. No call in the whole
    // window is a rate of 0, however the samples fell.
    if (now - this.lastCallAt >= RATE_WINDOW_S * 1000) return { total, perSecond: 0 }
    return { total, perSecond: seconds > 0 ? (total - first.total) / seconds : 0 }
  }

  async text (): Promise<{ contentType: string, body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() }
  }
}
