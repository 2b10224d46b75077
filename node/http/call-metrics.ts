import type { Metric } from 'prom-client'

/** Label sets of calls per node at most (app and function names come from callers): past it, `_other`. */
const MAX_CALL_SERIES = 1000
/** Call latencies, 100 us to a minute (the default function limit), in seconds. */
export const CALL_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

interface Series {
  app: string
  fn: string
  /** Calls by outcome. */
  outcomes: Map<string, number>
  /** Calls per bucket of CALL_BUCKETS (not cumulative), the last one past them all. */
  buckets: Float64Array
  sum: number
  count: number
}

/** A sample as prom-client's registry prints it: `metricName` (default: the metric's name), labels, value. */
interface Sample {
  metricName?: string
  labels: Record<string, string>
  value: number
}

/** What prom-client's registry reads of a metric: its name, help and type, and `get()` for its samples. */
interface CallMetric {
  name: string
  help: string
  type: 'counter' | 'histogram'
  get(): Promise<{ name: string, help: string, type: string, aggregator: 'sum', values: Sample[] }>
  reset(): void
}

/** A CallMetric, for `registry.registerMetric` (which types its argument as prom-client's own classes). */
export const asMetric = (metric: CallMetric): Metric => metric as unknown as Metric

/**
 * `praas_calls_total` and `praas_call_duration_seconds`, counted on the invoke path without
 * prom-client's per-call work (it hashes and validates the labels of every `inc` and `observe`:
 * about 2 us per call for the two, 7% of a node's time at 36k calls/s). A call costs a Map
 * lookup and a few increments here; the registry reads the totals when scraped, in the shape of
 * prom-client's own counter and histogram.
 */
export class CallMetrics {
  private readonly series = new Map<string, Series>()
  private total = 0

  /** One call: its app, function, outcome and duration in seconds. */
  record (app: string, fn: string, outcome: string, seconds: number): void {
    this.total++
    const series = this.seriesOf(app, fn)
    series.outcomes.set(outcome, (series.outcomes.get(outcome) ?? 0) + 1)
    let i = 0
    while (i < CALL_BUCKETS.length && seconds > CALL_BUCKETS[i]) i++
    series.buckets[i]++
    series.sum += seconds
    series.count++
  }

  /** Calls recorded since start. */
  get calls (): number {
    return this.total
  }

  /** The two metrics to register. */
  metrics (): CallMetric[] {
    const counter: CallMetric = {
      name: 'praas_calls_total',
      help: 'Invocations served over the invoke protocol, by app, function and outcome (ok or the error code)',
      type: 'counter',
      get: async () => this.counterValues(counter),
      reset: () => {}
    }
    const histogram: CallMetric = {
      name: 'praas_call_duration_seconds',
      help: 'Time from a call\'s arrival to its answer, by app and function',
      type: 'histogram',
      get: async () => this.histogramValues(histogram),
      reset: () => {}
    }
    return [counter, histogram]
  }

  private seriesOf (app: string, fn: string): Series {
    const key = `${app}\n${fn}`
    let series = this.series.get(key)
    if (series == null) {
      if (this.series.size >= MAX_CALL_SERIES) return this.seriesOf('_other', '_other')
      series = { app, fn, outcomes: new Map(), buckets: new Float64Array(CALL_BUCKETS.length + 1), sum: 0, count: 0 }
      this.series.set(key, series)
    }
    return series
  }

  private counterValues (metric: CallMetric): Awaited<ReturnType<CallMetric['get']>> {
    const values: Sample[] = []
    for (const { app, fn, outcomes } of this.series.values()) {
      for (const [outcome, value] of outcomes) values.push({ labels: { app, fn, outcome }, value })
    }
    return { name: metric.name, help: metric.help, type: 'counter', aggregator: 'sum', values }
  }

  private histogramValues (metric: CallMetric): Awaited<ReturnType<CallMetric['get']>> {
    const values: Sample[] = []
    for (const { app, fn, buckets, sum, count } of this.series.values()) {
      let cumulative = 0
      for (let i = 0; i <= CALL_BUCKETS.length; i++) {
        cumulative += buckets[i]
        const le = i < CALL_BUCKETS.length ? String(CALL_BUCKETS[i]) : '+Inf'
        values.push({ metricName: `${metric.name}_bucket`, labels: { le, app, fn }, value: cumulative })
      }
      values.push({ metricName: `${metric.name}_sum`, labels: { app, fn }, value: sum })
      values.push({ metricName: `${metric.name}_count`, labels: { app, fn }, value: count })
    }
    return { name: metric.name, help: metric.help, type: 'histogram', aggregator: 'sum', values }
  }
}
