import { performance } from 'node:perf_hooks'
import v8 from 'node:v8'
import vm from 'node:vm'

/**
 * An idle node gives back the young generation that a burst of work grew. V8 grows it up to
 * 16 MiB per semispace for throughput, and shrinks it only after a full collection at a low
 * allocation rate: a node that has only scavenged since the burst keeps it. In a mesh of 16 node
 * processes, 30 s after the last joins, 5 nodes held 125-129 MiB of RSS and the others 95-99 MiB,
 * the difference all young generation (32 MiB committed); one full collection brought it back to
 * 1 MiB. So every `intervalMs` (10 s) a node that was idle over the interval (event loop busy less than
 * `idleUtilization` of it) and holds more than `youngBytes` of young generation runs one, once
 * after each busy spell: the young generation grows back a little as an idle node goes on
 * (collected again every 10 s, an idle node spent about 1% of a core more).
 */
export interface IdleTrimInit {
  intervalMs?: number
  idleUtilization?: number
  youngBytes?: number
  /** For tests: the share of the last interval the event loop was busy, the young generation's size, and the collection. */
  utilization?: () => number
  young?: () => number
  collect?: () => void
}

export const IDLE_TRIM_INTERVAL_MS = 10_000
const IDLE_UTILIZATION = 0.03
const YOUNG_BYTES = 4 * 1024 * 1024

/**
 * V8's `gc`, taken from a context made while --expose-gc was set for that moment only: nothing
 * made afterwards (the sandbox's isolates included) gets it as a global.
 */
export function fullCollector (): () => void {
  v8.setFlagsFromString('--expose-gc')
  try {
    const gc = vm.runInNewContext('gc') as (options?: { type: 'major' | 'minor' }) => void
    return () => { gc({ type: 'major' }) }
  } finally {
    v8.setFlagsFromString('--no-expose-gc')
  }
}

function youngGeneration (): number {
  return v8.getHeapSpaceStatistics().find(s => s.space_name === 'new_space')?.space_size ?? 0
}

function utilizationSince (): () => number {
  let last = performance.eventLoopUtilization()
  return () => {
    const now = performance.eventLoopUtilization()
    const delta = performance.eventLoopUtilization(now, last)
    last = now
    return delta.utilization
  }
}

/** Starts the checks; returns the function that stops them. */
export function trimWhenIdle (init: IdleTrimInit = {}): () => void {
  const utilization = init.utilization ?? utilizationSince()
  const young = init.young ?? youngGeneration
  let collect = init.collect
  const idle = init.idleUtilization ?? IDLE_UTILIZATION
  const limit = init.youngBytes ?? YOUNG_BYTES
  // the node's start is a busy spell
  let busySince = true
  const timer = setInterval(() => {
    if (utilization() >= idle) {
      busySince = true
      return
    }
    if (!busySince || young() <= limit) return
    busySince = false
    collect ??= fullCollector()
    collect()
  }, init.intervalMs ?? IDLE_TRIM_INTERVAL_MS)
  timer.unref()
  return () => { clearInterval(timer) }
}

/**
 * Small Buffers each get memory of their own instead of a slice of Node's shared 8 KiB pool.
 * A pool slab lives as long as its last slice, and one still in use at two scavenges (the
 * current slab, or one a slice of a pending request holds) is promoted: then it waits for a
 * full collection, which an idle node runs rarely. Creating 3,000 processes on a node left
 * 6.1 MB of such slabs at its peak (2.3 KB per process, heaptrack), and malloc keeps the heap a
 * peak grew. Unpooled, a short-lived Buffer dies in the young generation: with 10,000
 * processes, 400-900 B less RSS each, and invoke.rtt and invoke.cpu did not move
 * (docs/cluster.md, "Under 2 KiB").
 */
export function unpooledBuffers (): void {
  Buffer.poolSize = 0
}
