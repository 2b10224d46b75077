import fc from 'fast-check'
import { APP, PartitionCluster, skipWithoutNetns, sleep } from './scenario.js'

/** The link flaps this long, each state lasting from 2 to 5 s (drawn from the run's seed). */
const FLAP_MS = 60_000
const STATE_MS = { min: 2000, max: 5000 }
/** Callers in all, spread over the three clients; and how long they go on once the link stays up. */
const CALLERS = 64
const AFTER_HEAL_MS = 3000
/**
 * Each call fails this long after it was sent: shorter than a cut, so that callers on the
 * majority side give up on the cut-off host and look for the process (which may restore it)
 * while the link is still down, rather than wait until it is back.
 */
const CALL_TIMEOUT_MS = 1500

describe('partition: a flapping link under 64 callers', function () {
  this.timeout(240_000)
  let cluster: PartitionCluster | undefined

  before(async function () {
    await skipWithoutNetns(this)
    cluster = await PartitionCluster.start(['a', 'b', 'c'])
  })

  after(async function () {
    await cluster?.stop(this.currentTest?.state === 'failed')
  })

  it('answers through one activation at a time, and keeps every acknowledged increment', async function () {
    const c = cluster!
    const seed = process.env.PRAAS_SEED != null ? Number(process.env.PRAAS_SEED) : Date.now() % 1_000_000
    const states = fc.sample(fc.integer(STATE_MS), { seed, numRuns: Math.ceil(FLAP_MS / STATE_MS.min) })
    const pid = await c.client('a').request<string>({ op: 'create', app: APP, node: c.node('a').peerId })
    const hosts = c.net.names
    const keys = new Map(hosts.map((h, i) => [h, c.keys(Math.floor(CALLERS / hosts.length) + (i < CALLERS % hosts.length ? 1 : 0), '', `${h}.`)]))
    // after each increment, a caller reads a key the next client's callers increment: a read
    // served by a stale activation shows there (with one key per caller, an increment alone
    // shows it only if the same caller reaches both activations)
    for (const [i, h] of hosts.entries()) {
      const next = keys.get(hosts[(i + 1) % hosts.length])!
      await c.client(h).startLoop('flap', pid, keys.get(h)!, { reads: keys.get(h)!.map((_, j) => next[j % next.length]), timeoutMs: CALL_TIMEOUT_MS })
    }

    // the link of the process's host is cut and back, again and again; the process may have
    // moved while it was cut, so each cut goes to the host the cluster names then
    const until = Date.now() + FLAP_MS
    let host = 'a'
    const cuts: string[] = []
    for (let i = 0; Date.now() < until; i++) {
      if (i % 2 === 0) {
        host = await c.hostOfProcess(pid) ?? host
        cuts.push(host)
        await c.net.isolate(host)
      } else {
        await c.net.heal()
      }
      await sleep(Math.min(states[i], Math.max(0, until - Date.now())))
    }
    await c.net.heal()
    await sleep(AFTER_HEAL_MS)
    for (const h of hosts) await c.client(h).stopLoop('flap')
    await c.verdict(pid, [...keys.values()].flat(), [], `seed ${seed} (PRAAS_SEED), cuts of ${cuts.join(' ')}`)
  })
})
