import fc from 'fast-check'
import { APP, PartitionCluster, skipWithoutNetns, sleep } from './scenario.js'

/** The link flaps this long, each state lasting from 2 to 4 s (drawn from the run's seed). */
const FLAP_MS = 60_000
const STATE_MS = { min: 2000, max: 4000 }
/** Callers in all, spread over the three clients; and how long they go on once the link stays up. */
const CALLERS = 64
const AFTER_HEAL_MS = 3000

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
    for (const h of hosts) await c.client(h).startLoop('flap', pid, keys.get(h)!)

    // a, the process's host, is cut off and back, again and again
    const until = Date.now() + FLAP_MS
    for (let i = 0; Date.now() < until; i++) {
      if (i % 2 === 0) await c.net.isolate('a'); else await c.net.heal()
      await sleep(Math.min(states[i], Math.max(0, until - Date.now())))
    }
    await c.net.heal()
    await sleep(AFTER_HEAL_MS)
    for (const h of hosts) await c.client(h).stopLoop('flap')
    await c.verdict(pid, [...keys.values()].flat(), [], `seed ${seed} (PRAAS_SEED)`)
  })
})
