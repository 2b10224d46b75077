import fc from 'fast-check'
import { APP, PartitionCluster, skipWithoutNetns, sleep } from './scenario.js'

const HOSTS = ['a', 'b', 'c', 'd', 'e']
/** How long each step's network stays as it left it, with every client calling all along. */
const HOLD_MS = 4000
/** Calls on once the network is whole and every node runs again. */
const AFTER_HEAL_MS = 2000

/** What the steps need to know: which node is down (one at most, so that a copy survives with two replicas). */
interface Model {
  down: string | undefined
  /** The steps run so far (fast-check skips those whose check fails), for messages. */
  ran: string[]
}

interface Real {
  c: PartitionCluster
  pid: string
}

abstract class Step implements fc.AsyncCommand<Model, Real> {
  check (_model: Readonly<Model>): boolean { return true }
  abstract act (model: Model, real: Real): Promise<void>
  async run (model: Model, real: Real): Promise<void> {
    model.ran.push(this.toString())
    await this.act(model, real)
    await sleep(HOLD_MS)
  }

  abstract toString (): string
}

class Isolate extends Step {
  constructor (readonly host: string) { super() }
  async act (_model: Model, { c }: Real): Promise<void> { await c.net.isolate(this.host) }
  toString (): string { return `isolate(${this.host})` }
}

class Split extends Step {
  constructor (readonly side: string[]) { super() }
  async act (_model: Model, { c }: Real): Promise<void> { await c.net.partition([this.side]) }
  toString (): string { return `split(${this.side.join('')} | ${HOSTS.filter(h => !this.side.includes(h)).join('')})` }
}

class Heal extends Step {
  async act (_model: Model, { c }: Real): Promise<void> { await c.net.heal() }
  toString (): string { return 'heal' }
}

class Kill extends Step {
  constructor (readonly host: string) { super() }
  override check (model: Readonly<Model>): boolean { return model.down == null }
  async act (model: Model, { c }: Real): Promise<void> {
    await c.node(this.host).kill('SIGKILL')
    model.down = this.host
  }

  toString (): string { return `kill(${this.host})` }
}

class Restart extends Step {
  override check (model: Readonly<Model>): boolean { return model.down != null }
  async act (model: Model, { c }: Real): Promise<void> {
    await c.restart(model.down!)
    model.down = undefined
  }

  toString (): string { return 'restart' }
}

/** A live migration, asked of the target's own client; it may fail in a partition (nothing is assumed of it). */
class Migrate extends Step {
  constructor (readonly to: string) { super() }
  override check (model: Readonly<Model>): boolean { return model.down !== this.to }
  async act (_model: Model, { c, pid }: Real): Promise<void> {
    await c.client(this.to).request({ op: 'migrate', pid, node: c.node(this.to).peerId }, 30_000).catch(() => {})
  }

  toString (): string { return `migrate(${this.to})` }
}

describe('partition: random cuts, heals, kills and moves', function () {
  this.timeout(300_000)
  let cluster: PartitionCluster | undefined

  before(async function () {
    await skipWithoutNetns(this)
    cluster = await PartitionCluster.start(HOSTS)
  })

  after(async function () {
    await cluster?.stop(this.currentTest?.state === 'failed')
  })

  it('every count is acknowledged once, in real-time order, and the final count keeps them all', async function () {
    const c = cluster!
    const host = fc.constantFrom(...HOSTS)
    const steps = [
      host.map(h => new Isolate(h)),
      fc.subarray(HOSTS, { minLength: 1, maxLength: HOSTS.length - 1 }).map(side => new Split(side)),
      fc.constant(new Heal()),
      host.map(h => new Kill(h)),
      fc.constant(new Restart()),
      host.map(h => new Migrate(h))
    ]
    // every run starts with a cut (the process's host alone, or a split), then random steps
    const firstCut = fc.oneof(host.map(h => new Isolate(h)), steps[1])
    let run = 0
    await fc.assert(fc.asyncProperty(firstCut, fc.commands(steps, { maxCommands: 5, size: 'max' }), host, async (first, rest, home) => {
      const cmds = [first, ...rest]
      run++
      const pid = await c.client(home).request<string>({ op: 'create', app: APP, node: c.node(home).peerId })
      const keys = new Map(HOSTS.map(h => [h, c.keys(1, `r${run}.`, h)]))
      // each caller also reads the next client's key after each increment (see the flapping test)
      for (const [i, h] of HOSTS.entries()) await c.client(h).startLoop(`r${run}`, pid, keys.get(h)!, { reads: keys.get(HOSTS[(i + 1) % HOSTS.length]) })
      const model: Model = { down: undefined, ran: [] }
      const problems: string[] = []
      try {
        await fc.asyncModelRun(() => ({ model, real: { c, pid } }), cmds)
      } finally {
        // whole again: the network healed, every node running, one mesh
        await c.net.heal()
        if (model.down != null) await c.restart(model.down)
        await c.waitForMesh().catch((err: Error) => { problems.push(err.message) })
        await sleep(AFTER_HEAL_MS)
        for (const h of HOSTS) await c.client(h).stopLoop(`r${run}`)
      }
      await c.verdict(pid, [...keys.values()].flat(), problems, `run ${run}: process created on ${home}, then ${model.ran.join(', ')}`)
    }), { numRuns: 2, endOnFailure: true, seed: process.env.PRAAS_SEED != null ? Number(process.env.PRAAS_SEED) : undefined })
  })
})
