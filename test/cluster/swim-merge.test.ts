import assert from 'node:assert/strict'
import fc from 'fast-check'
import { compareLiveness, merge } from '../../node/cluster/swim/index.js'
import type { MemberState } from '../../node/cluster/swim/index.js'

// The merge rule of what a node holds about a member (node/cluster/swim/merge.ts): the state is
// the greatest update heard, part by part, so the order and repetition of arrivals do not matter.

const update: fc.Arbitrary<MemberState> = fc.record({
  incarnation: fc.integer({ min: 0, max: 4 }),
  status: fc.constantFrom('alive' as const, 'suspect' as const, 'dead' as const),
  left: fc.boolean(),
  recordVersion: fc.integer({ min: 0, max: 3 }),
  record: fc.uint8Array({ maxLength: 3 }).map(b => new Uint8Array(b))
}).map(u => ({ ...u, left: u.status === 'dead' && u.left, record: u.recordVersion === 0 ? new Uint8Array(0) : u.record }))

function fold (updates: MemberState[]): MemberState | undefined {
  let state: MemberState | undefined
  for (const u of updates) state = merge(state, u).state
  return state
}

const RANK = { alive: 0, suspect: 1, dead: 2 }

describe('swim merge rules (property)', () => {
  it('ends in the same state whatever the order of the same updates', () => {
    fc.assert(fc.property(fc.array(update, { minLength: 1, maxLength: 12 }).chain(us => fc.tuple(fc.constant(us), fc.shuffledSubarray(us, { minLength: us.length, maxLength: us.length }))), ([updates, shuffled]) => {
      assert.deepEqual(fold(shuffled), fold(updates))
    }), { numRuns: 500 })
  })

  it('is idempotent: an update heard again changes nothing', () => {
    fc.assert(fc.property(fc.array(update, { maxLength: 8 }), update, (before, u) => {
      const once = merge(fold(before), u)
      const twice = merge(once.state, u)
      assert.equal(twice.liveness, false)
      assert.equal(twice.record, false)
      assert.deepEqual(twice.state, once.state)
      // repeating the whole history changes nothing either
      assert.deepEqual(fold([...before, u, ...before, u]), fold([...before, u]))
    }), { numRuns: 500 })
  })

  it('keeps the highest incarnation, and at equal incarnation dead over suspect over alive', () => {
    fc.assert(fc.property(fc.array(update, { minLength: 1, maxLength: 12 }), (updates) => {
      const state = fold(updates)!
      const top = Math.max(...updates.map(u => u.incarnation))
      assert.equal(state.incarnation, top)
      const rank = Math.max(...updates.filter(u => u.incarnation === top).map(u => RANK[u.status]))
      assert.equal(RANK[state.status], rank)
      for (const u of updates) assert.ok(compareLiveness(state, u) >= 0, 'nothing heard outranks the state')
    }), { numRuns: 500 })
  })

  it('lets a higher incarnation bring a dead member back, and nothing of a lower one', () => {
    const dead: MemberState = { incarnation: 3, status: 'dead', left: false, recordVersion: 0, record: new Uint8Array(0) }
    assert.equal(merge(dead, { ...dead, incarnation: 4, status: 'alive' }).state.status, 'alive')
    assert.equal(merge(dead, { ...dead, incarnation: 3, status: 'alive' }).liveness, false)
    assert.equal(merge(dead, { ...dead, incarnation: 2, status: 'suspect' }).liveness, false)
  })

  it('keeps the newest record independently of reachability', () => {
    fc.assert(fc.property(fc.array(update, { minLength: 1, maxLength: 12 }), (updates) => {
      const state = fold(updates)!
      assert.equal(state.recordVersion, Math.max(...updates.map(u => u.recordVersion)))
      const candidates = updates.filter(u => u.recordVersion === state.recordVersion).map(u => Buffer.from(u.record))
      assert.ok(candidates.some(c => c.equals(state.record)))
    }), { numRuns: 500 })
  })
})
