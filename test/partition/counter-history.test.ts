import assert from 'node:assert/strict'
import fc from 'fast-check'
import { checkCounter, summarize } from './counter-history.js'
import type { CounterCall, ViolationKind } from './counter-history.js'

/**
 * A call of a generated history: when it ran, and whether it took effect. `at` (in [0, 1]) places
 * its effect inside the call (an acknowledged one), or anywhere after its start (a failed one
 * that still ran: its effect may come after the caller gave up).
 */
interface Spec {
  kind: 'incr' | 'read'
  start: number
  duration: number
  outcome: 'ok' | 'failed-ran' | 'failed'
  at: number
  /** Which side of a split the call ran on, for histories with two activations. */
  side: 0 | 1
}

const spec = fc.record({
  kind: fc.constantFrom<'incr' | 'read'>('incr', 'incr', 'read'),
  start: fc.integer({ min: 0, max: 1000 }),
  duration: fc.integer({ min: 0, max: 100 }),
  outcome: fc.constantFrom<Spec['outcome']>('ok', 'ok', 'ok', 'failed-ran', 'failed'),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  side: fc.constantFrom<0 | 1>(0, 1)
})

/** Where the call took effect, if it did. */
const effectAt = (s: Spec): number | undefined =>
  s.outcome === 'failed' ? undefined : s.outcome === 'ok' ? s.start + s.at * s.duration : s.start + s.at * (s.duration + 500)

/**
 * Runs the calls against one counter in the order of their effects (a linearizable history by
 * construction), or, given `forkAt`, against two counters that share the count up to then (two
 * activations of one process, each serving its side). Returns the history and the final count
 * (of side 0's counter).
 */
function execute (specs: Spec[], forkAt?: number): { calls: CounterCall[], final: number } {
  const calls: CounterCall[] = specs.map((s, i) => ({ key: 'n', kind: s.kind, ok: s.outcome === 'ok', start: s.start, end: s.start + s.duration, client: `c${i}` }))
  const order = specs.map((s, i) => ({ i, t: effectAt(s) })).filter(e => e.t != null).sort((a, b) => a.t! - b.t! || a.i - b.i)
  const counts = [0, 0]
  for (const { i, t } of order) {
    const sides = forkAt == null || t! < forkAt ? [0, 1] : [specs[i].side]
    if (specs[i].kind === 'incr') for (const side of sides) counts[side]++
    if (calls[i].ok) calls[i].value = counts[sides[0]]
  }
  return { calls, final: counts[0] }
}

const kinds = (calls: CounterCall[], final?: number): Set<ViolationKind> =>
  new Set(checkCounter(calls, final == null ? {} : { n: final }).map(v => v.kind))

const ackedIncrs = (calls: CounterCall[]): CounterCall[] => calls.filter(c => c.kind === 'incr' && c.ok)

describe('the counter history checker', function () {
  it('accepts every history a single counter produces', function () {
    fc.assert(fc.property(fc.array(spec, { maxLength: 60 }), (specs) => {
      const { calls, final } = execute(specs)
      assert.deepEqual(checkCounter(calls, { n: final }), [])
    }), { numRuns: 500 })
  })

  it('finds a count acknowledged twice', function () {
    fc.assert(fc.property(fc.array(spec, { maxLength: 60 }), fc.nat(), fc.nat(), (specs, x, y) => {
      const acked = ackedIncrs(execute(specs).calls)
      fc.pre(acked.length >= 2 && x % acked.length !== y % acked.length)
      acked[y % acked.length].value = acked[x % acked.length].value
      assert.ok(kinds(acked).has('duplicate'))
    }), { numRuns: 300 })
  })

  it('finds two activations that each served one side of a split', function () {
    fc.assert(fc.property(fc.array(spec, { maxLength: 60 }), fc.integer({ min: 0, max: 1100 }), (specs, forkAt) => {
      // after the split every increment is acknowledged, so each side's first one returns the same count
      const split = specs.map(s => effectAt(s) != null && effectAt(s)! >= forkAt && s.kind === 'incr' ? { ...s, outcome: 'ok' as const } : s)
      const sides = new Set(split.filter(s => s.kind === 'incr' && effectAt(s)! >= forkAt).map(s => s.side))
      fc.pre(sides.size === 2)
      const { calls, final } = execute(split, forkAt)
      assert.ok(kinds(calls, final).has('duplicate'))
    }), { numRuns: 300 })
  })

  it('finds a count that went back', function () {
    fc.assert(fc.property(fc.array(spec, { maxLength: 60 }), (specs) => {
      const acked = ackedIncrs(execute(specs).calls)
      const pair = acked.flatMap(a => acked.filter(b => a.end < b.start).map(b => [a, b] as const))[0]
      fc.pre(pair != null)
      const [a, b] = pair
      ;[a.value, b.value] = [b.value, a.value]
      assert.ok(kinds(acked).has('order'))
    }), { numRuns: 300 })
  })

  it('finds a read that missed an acknowledged increment', function () {
    fc.assert(fc.property(fc.array(spec, { maxLength: 60 }), (specs) => {
      const { calls } = execute(specs)
      const pair = ackedIncrs(calls).flatMap(a => calls.filter(r => r.kind === 'read' && r.ok && a.end < r.start).map(r => [a, r] as const))[0]
      fc.pre(pair != null)
      pair[1].value = pair[0].value! - 1
      assert.ok(kinds(calls).has('stale-read'))
    }), { numRuns: 300 })
  })

  it('finds a final count that lost acknowledged increments', function () {
    fc.assert(fc.property(fc.array(spec, { maxLength: 60 }), fc.nat(), (specs, less) => {
      const { calls, final } = execute(specs)
      const highest = Math.max(0, ...ackedIncrs(calls).map(c => c.value!))
      fc.pre(highest > 0)
      assert.ok(kinds(calls, Math.max(0, highest - 1 - (less % highest))).has('lost'))
      assert.ok(final >= highest)
    }), { numRuns: 300 })
  })

  it('finds a final count above the increments attempted', function () {
    fc.assert(fc.property(fc.array(spec, { maxLength: 60 }), fc.integer({ min: 1, max: 5 }), (specs, more) => {
      const { calls } = execute(specs)
      const attempts = calls.filter(c => c.kind === 'incr').length
      assert.ok(kinds(calls, attempts + more).has('phantom'))
    }), { numRuns: 100 })
  })

  it('reads the history of the issue: two activations counting on from 10', function () {
    // node A cut off keeps counting (11…20,475); B and C restore it and count 11…2,045 from second 5
    const calls: CounterCall[] = []
    let t = 0
    for (let v = 1; v <= 10; v++, t += 10) calls.push({ key: 'n', kind: 'incr', ok: true, value: v, start: t, end: t + 5, client: 'a' })
    for (let v = 11; v <= 20_475; v++) calls.push({ key: 'n', kind: 'incr', ok: true, value: v, start: t + (v - 11) * 10, end: t + (v - 11) * 10 + 5, client: 'a' })
    for (let v = 11; v <= 2045; v++) {
      const start = t + 50_000 + (v - 11) * 70
      calls.push({ key: 'n', kind: 'incr', ok: true, value: v, start, end: start + 5, client: 'b' })
    }
    const violations = checkCounter(calls, { n: 2045 })
    const found = new Set(violations.map(v => v.kind))
    assert.deepEqual([...found].sort(), ['duplicate', 'lost', 'order'])
    const [figures] = summarize(calls, { n: 2045 })
    assert.equal(figures.duplicated, 2035)
    assert.equal(figures.acked, 10 + 20_465 + 2035)
  })
})
