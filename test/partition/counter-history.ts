// The checker of the partition tests: is a history of counter calls, gathered from clients on
// every side of a partition, one that a single counter could have produced? Each call has a
// start and an end on the machine's monotonic clock; an increment that failed may or may not
// have counted (its call may have run). What it finds, per key:
//   duplicate   one count acknowledged to two increments: two activations answered at once
//   order       an increment that began after another was acknowledged got a lower count: a
//               count that went back (a stale copy serving)
//   stale-read  a read missed an increment acknowledged before it began, or saw less than an
//               earlier read
//   future-read a read saw more than the increments begun before it ended, or an increment
//               begun after the read ended got a count the read already showed
//   lost        the final count is below an acknowledged count, or below the number of
//               acknowledged increments: acknowledged writes are gone
//   phantom     the final count is above the number of increments ever attempted
// These are the conditions a linearizable counter meets (distinct counts ordered as the calls
// are in real time, reads in between); the checker's own property test (counter-history.test.ts)
// feeds it linearizable histories, which must pass, and histories with one of these faults.

export interface CounterCall {
  key: string
  kind: 'incr' | 'read'
  /** Acknowledged (the caller got the count) or failed (it may or may not have counted). */
  ok: boolean
  /** The count the call returned, if acknowledged. */
  value?: number
  start: number
  end: number
  /** Who made it, for messages. */
  client?: string
}

export type ViolationKind = 'duplicate' | 'order' | 'stale-read' | 'future-read' | 'lost' | 'phantom' | 'bad-value'

export interface Violation {
  kind: ViolationKind
  key: string
  message: string
}

/** How many violations of one kind per key are spelled out; the rest are only counted. */
const EXAMPLES = 3

const show = (c: CounterCall): string => `${c.kind}=${c.value ?? c.ok} by ${c.client ?? '?'} [${c.start}, ${c.end}]`

/** Index of the last element of ascending `sorted` (by `at`) with at(x) < bound (or, `orAt`, at(x) <= bound), or -1. */
function lastBefore<T> (sorted: T[], at: (x: T) => number, bound: number, orAt = false): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (at(sorted[mid]) < bound || (orAt && at(sorted[mid]) === bound)) lo = mid + 1; else hi = mid
  }
  return lo - 1
}

/** For ascending `sorted` (by `at`), the running maximum (by `value`) of each prefix. */
function prefixMax<T> (sorted: T[], value: (x: T) => number): T[] {
  const out: T[] = []
  for (const x of sorted) out.push(out.length === 0 || value(x) > value(out[out.length - 1]) ? x : out[out.length - 1])
  return out
}

/** For ascending `sorted`, the running minimum (by `value`) of each suffix. */
function suffixMin<T> (sorted: T[], value: (x: T) => number): T[] {
  const out: T[] = new Array(sorted.length)
  for (let i = sorted.length - 1; i >= 0; i--) out[i] = i === sorted.length - 1 || value(sorted[i]) < value(out[i + 1]) ? sorted[i] : out[i + 1]
  return out
}

class Findings {
  readonly violations: Violation[] = []
  private readonly counts = new Map<string, number>()

  add (kind: ViolationKind, key: string, message: () => string): void {
    const id = `${key}\u0000${kind}`
    const n = (this.counts.get(id) ?? 0) + 1
    this.counts.set(id, n)
    if (n <= EXAMPLES) this.violations.push({ kind, key, message: message() })
  }

  /** One line per kind and key with more than EXAMPLES findings. */
  totals (): Violation[] {
    return [...this.counts].filter(([, n]) => n > EXAMPLES).map(([id, n]) => {
      const [key, kind] = id.split('\u0000') as [string, ViolationKind]
      return { kind, key, message: `${n} ${kind} findings in all (${EXAMPLES} shown)` }
    })
  }
}

function checkKey (key: string, calls: CounterCall[], final: number | undefined, out: Findings): void {
  const incrs = calls.filter(c => c.kind === 'incr')
  const acked = incrs.filter(c => c.ok)
  const reads = calls.filter(c => c.kind === 'read' && c.ok)
  for (const c of [...acked, ...reads]) {
    if (!Number.isSafeInteger(c.value) || c.value! < (c.kind === 'incr' ? 1 : 0)) out.add('bad-value', key, () => `${show(c)} is no count`)
  }
  const good = acked.filter(c => Number.isSafeInteger(c.value) && c.value! >= 1)
  const val = (c: CounterCall): number => c.value!

  // every count acknowledged once
  const byValue = new Map<number, CounterCall[]>()
  for (const c of good) {
    const same = byValue.get(val(c))
    if (same == null) byValue.set(val(c), [c]); else same.push(c)
  }
  for (const [value, same] of byValue) {
    if (same.length > 1) out.add('duplicate', key, () => `count ${value} acknowledged ${same.length} times: ${same.slice(0, 3).map(show).join('; ')}`)
  }

  // real-time order: an increment begun after another was acknowledged counts higher
  const byEnd = [...good].sort((a, b) => a.end - b.end)
  const maxByEnd = prefixMax(byEnd, val)
  for (const b of good) {
    const i = lastBefore(byEnd, c => c.end, b.start)
    if (i >= 0 && val(maxByEnd[i]) > val(b)) out.add('order', key, () => `${show(b)} began after ${show(maxByEnd[i])} was acknowledged`)
  }

  // reads: at least every increment acknowledged before, at most every increment begun before
  const attemptsByStart = [...incrs].sort((a, b) => a.start - b.start)
  const ackedByStart = [...good].sort((a, b) => a.start - b.start)
  const minByStart = suffixMin(ackedByStart, val)
  const readsByEnd = [...reads].filter(r => Number.isSafeInteger(r.value)).sort((a, b) => a.end - b.end)
  const maxReadByEnd = prefixMax(readsByEnd, val)
  for (const r of reads) {
    if (!Number.isSafeInteger(r.value)) continue
    const before = lastBefore(byEnd, c => c.end, r.start)
    if (before >= 0 && val(maxByEnd[before]) > val(r)) out.add('stale-read', key, () => `${show(r)} began after ${show(maxByEnd[before])} was acknowledged`)
    const earlier = lastBefore(readsByEnd, c => c.end, r.start)
    if (earlier >= 0 && val(maxReadByEnd[earlier]) > val(r)) out.add('stale-read', key, () => `${show(r)} began after ${show(maxReadByEnd[earlier])} ended`)
    // an increment that began the moment the read ended may have counted before the read
    const begun = lastBefore(attemptsByStart, c => c.start, r.end, true) + 1
    if (val(r) > begun) out.add('future-read', key, () => `${show(r)} but only ${begun} increments had begun`)
    const after = lastBefore(ackedByStart, c => c.start, r.end + 1) + 1
    if (after < ackedByStart.length && val(minByStart[after]) <= val(r)) out.add('future-read', key, () => `${show(minByStart[after])} began after ${show(r)} ended`)
  }

  if (final == null) return
  const highest = good.reduce((m, c) => Math.max(m, val(c)), 0)
  if (highest > final) out.add('lost', key, () => `final count ${final}, but count ${highest} was acknowledged`)
  if (acked.length > final) out.add('lost', key, () => `final count ${final}, but ${acked.length} increments were acknowledged`)
  if (final > incrs.length) out.add('phantom', key, () => `final count ${final}, but only ${incrs.length} increments were attempted`)
}

/**
 * The violations of `calls` (all keys), given the final count of each key read once every call
 * had ended (`finals`; keys without one get no final checks). Empty: the history is one a single
 * counter could have produced.
 */
export function checkCounter (calls: CounterCall[], finals: Record<string, number> = {}): Violation[] {
  const byKey = new Map<string, CounterCall[]>()
  for (const c of calls) {
    const keyed = byKey.get(c.key)
    if (keyed == null) byKey.set(c.key, [c]); else keyed.push(c)
  }
  for (const key of Object.keys(finals)) if (!byKey.has(key)) byKey.set(key, [])
  const out = new Findings()
  for (const [key, keyed] of byKey) checkKey(key, keyed, finals[key], out)
  // the totals first: they say how much of each there was
  return [...out.totals(), ...out.violations]
}

export interface KeySummary {
  key: string
  acked: number
  failed: number
  /** Distinct acknowledged counts, and those acknowledged more than once. */
  distinct: number
  duplicated: number
  highest: number
  final?: number
}

/** Figures per key, for messages and for the reproduction's report. */
export function summarize (calls: CounterCall[], finals: Record<string, number> = {}): KeySummary[] {
  const keys = [...new Set([...calls.map(c => c.key), ...Object.keys(finals)])].sort()
  return keys.map(key => {
    const incrs = calls.filter(c => c.key === key && c.kind === 'incr')
    const values = incrs.filter(c => c.ok).map(c => c.value!)
    const seen = new Map<number, number>()
    for (const v of values) seen.set(v, (seen.get(v) ?? 0) + 1)
    return {
      key,
      acked: values.length,
      failed: incrs.length - values.length,
      distinct: seen.size,
      duplicated: [...seen.values()].filter(n => n > 1).length,
      highest: values.reduce((m, v) => Math.max(m, v), 0),
      final: finals[key]
    }
  })
}

/** Keys whose figures, and violations, a report spells out, at most. */
const REPORTED_KEYS = 8
const REPORTED_VIOLATIONS = 24

/** A message for an assertion: the violations, then the figures of the keys they concern. */
export function report (violations: Violation[], calls: CounterCall[], finals: Record<string, number> = {}): string {
  const concerned = new Set(violations.map(v => v.key))
  const figures = summarize(calls, finals).filter(s => concerned.has(s.key))
  const lines = figures.slice(0, REPORTED_KEYS).map(s =>
    `  key ${s.key}: ${s.acked} acknowledged (${s.distinct} distinct counts, ${s.duplicated} acknowledged twice or more, ` +
    `highest ${s.highest}), ${s.failed} failed, final ${s.final ?? '?'}`)
  if (figures.length > REPORTED_KEYS) lines.push(`  and ${figures.length - REPORTED_KEYS} more keys with violations`)
  const shown = violations.slice(0, REPORTED_VIOLATIONS).map(v => `  ${v.kind} (key ${v.key}): ${v.message}`)
  const rest = new Map<string, number>()
  for (const v of violations.slice(REPORTED_VIOLATIONS)) rest.set(v.kind, (rest.get(v.kind) ?? 0) + 1)
  if (rest.size > 0) shown.push(`  and more: ${[...rest].map(([kind, n]) => `${n} ${kind}`).join(', ')} (over ${concerned.size} keys)`)
  return [`${violations.length} violation(s):`, ...shown, ...lines].join('\n')
}
