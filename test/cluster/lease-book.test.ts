import assert from 'node:assert/strict'
import fc from 'fast-check'
import { LeaseBook, leaseEnd } from '../../node/cluster/lease-book.js'

const TIMES = { leaseMs: 4000, marginMs: 400 }
/** Clock rates differ by at most this (a fraction: 1e-3 is 1 ms a second, far more than NTP-free drift). */
const MAX_DRIFT = 1e-3

/** A node's clock: its reading at real time t. */
interface Clock { rate: number, offset: number }
const read = (c: Clock, t: number): number => t * c.rate + c.offset
const realAt = (c: Clock, reading: number): number => (reading - c.offset) / c.rate

interface Event {
  /** Real ms after the previous event. */
  gap: number
  kind: 'renew' | 'restore' | 'elect' | 'release'
  member: number
  /** Network delays of a renewal, there and back (ms). */
  there: number
  back: number
  lost: boolean
}

const event: fc.Arbitrary<Event> = fc.record({
  gap: fc.integer({ min: 0, max: 1500 }),
  kind: fc.constantFrom('renew', 'renew', 'renew', 'restore', 'elect', 'release'),
  member: fc.nat(3),
  there: fc.integer({ min: 0, max: 2000 }),
  back: fc.integer({ min: 0, max: 2000 }),
  lost: fc.boolean()
})

describe('cluster/lease-book: leases never overlap an activation elsewhere', () => {
  it('never lets a restore go ahead while a member it waits for still holds a lease (drifting clocks, delays, lost answers, shrinking leader leases, new leaders)', () => {
    fc.assert(fc.property(
      fc.array(fc.double({ min: -MAX_DRIFT, max: MAX_DRIFT, noNaN: true }), { minLength: 5, maxLength: 5 }),
      fc.array(fc.integer({ min: -1e6, max: 1e6 }), { minLength: 5, maxLength: 5 }),
      fc.array(event, { minLength: 1, maxLength: 80 }),
      (drifts, offsets, events) => {
        // nodes 0-3 are members; node 4 stands for each new leader's clock
        const clocks: Clock[] = drifts.map((d, i) => ({ rate: 1 + d, offset: offsets[i] }))
        const members = ['m0', 'm1', 'm2', 'm3']
        let leader = 0
        let book = new LeaseBook(members[leader], TIMES)
        book.elected(read(clocks[leader], 0))
        /** Each member's lease end in real time (the latest of the leases it holds). */
        const leaseRealEnd = members.map(() => -Infinity)
        /** Members that gave their lease up (a clean stop): they take no answer after that. */
        const released = new Set<number>()
        /** Renewals on their way: answered at real time `at`. */
        const pending: Array<{ at: number, member: number, askedAt: number, validFor: number, book: LeaseBook }> = []
        let t = 0
        for (const e of events) {
          t += e.gap
          // answers that arrived by now extend their member's lease (from its own ask)
          for (const p of pending.filter(p => p.at <= t)) {
            pending.splice(pending.indexOf(p), 1)
            if (p.validFor <= 0 || released.has(p.member)) continue
            const end = realAt(clocks[p.member], leaseEnd(p.askedAt, p.validFor, TIMES))
            leaseRealEnd[p.member] = Math.max(leaseRealEnd[p.member], end)
          }
          const m = e.member
          if (e.kind === 'renew' && m !== leader && !released.has(m)) {
            const askedAt = read(clocks[m], t)
            const grantAt = t + e.there
            const validFor = book.grant(members[m], members, read(clocks[leader], grantAt))
            if (!e.lost) pending.push({ at: grantAt + e.back, member: m, askedAt, validFor, book })
          } else if (e.kind === 'release' && m !== leader && !released.has(m)) {
            // a clean stop: the member stops serving, then tells the leader
            leaseRealEnd[m] = Math.min(leaseRealEnd[m], t)
            released.add(m)
            book.release(members[m], read(clocks[leader], t + e.there))
          } else if (e.kind === 'elect') {
            // a new leader (another member) takes over; the old one's grants may still be on their way
            leader = (leader + 1 + (m % 3)) % members.length
            book = new LeaseBook(members[leader], TIMES)
            book.elected(read(clocks[leader], t))
          } else if (e.kind === 'restore') {
            const others = members.filter((_, i) => i !== leader)
            const wait = book.restoreWaitMs(others, read(clocks[leader], t))
            if (wait === 0) {
              for (const [i, end] of leaseRealEnd.entries()) {
                if (i === leader) continue
                assert.ok(end <= t, `member ${i} holds a lease until ${end.toFixed(1)} (real ms), the restore went ahead at ${t}`)
              }
            }
          }
        }
      }
    ), { numRuns: 2000 })
  })

  it('grants no member a lease past the leader\'s own, which a majority must keep confirming', () => {
    const book = new LeaseBook('a', TIMES)
    const members = ['a', 'b', 'c', 'd', 'e']
    book.elected(0)
    // a and b are not a majority of five: no lease at all
    assert.equal(book.grant('b', members, 0), 0)
    // with c, a majority renewed at 0: the leader's own lease runs a lease less the margin from then
    assert.equal(book.grant('c', members, 0), TIMES.leaseMs - TIMES.marginMs)
    // c then stops renewing: b's grant at 3000 runs only as long as the leader's own lease
    assert.equal(book.grant('b', members, 3000), 600)
    assert.equal(book.ownUntil(members, 3000), TIMES.leaseMs - TIMES.marginMs)
    assert.deepEqual(book.renewing(members, 4500), ['a', 'b'])
  })

  it('keeps the longest lease it granted: a later, shorter grant does not shorten the wait', () => {
    const book = new LeaseBook('a', TIMES)
    const members = ['a', 'b', 'c']
    book.elected(-10_000)
    assert.equal(book.grant('b', members, 0), 3600)
    const longest = 0 + 3600 + 400
    // a later grant that is short (the leader's own lease was short then) leaves the wait as long as the longest
    book.release('c', 0)
    book.grant('b', members, 100)
    assert.ok(book.restoreWaitMs(['b'], 200) >= longest - 200)
  })
})
