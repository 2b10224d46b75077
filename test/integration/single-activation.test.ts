import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import fc from 'fast-check'
import { Client, PraasError } from '../../sdk/index.js'
import { text } from '../helpers/assertions.js'
import { eventually, placeOnEvery, startCluster, startNode, stopCluster, waitForMesh } from '../helpers/cluster.js'
import { fixture } from '../helpers/paths.js'
import type { TestNode } from '../helpers/cluster.js'

/**
 * What the caller knows of one counter process: the increments acknowledged, and those whose
 * outcome is unknown (the call failed after it may have run). With one activation per pid, the
 * count only ever grows, by one per increment: a second activation (an old image, a stale
 * replica, a host that missed its move) would serve a count that went back.
 */
interface Model {
  acked: number
  unknown: number
  /** The node (index) that is down now, if one is: at most one at a time, so a copy survives (R = 2). */
  down: number | undefined
}

interface Real {
  client: Client
  nodes: TestNode[]
  pid: string
}

/** The count read back must lie between the acknowledged increments and those plus the unknown ones. */
function checkCount (model: Model, count: number, what: string): void {
  assert.ok(count >= model.acked && count <= model.acked + model.unknown, `${what}: count ${count} outside [${model.acked}, ${model.acked + model.unknown}]`)
  // Now the count is known again.
  model.unknown = 0
  model.acked = count
}

class Incr implements fc.AsyncCommand<Model, Real> {
  check (): boolean { return true }
  async run (model: Model, real: Real): Promise<void> {
    try {
      const count = Number(text(await real.client.invoke(real.pid, 'incr', undefined, { timeoutMs: 20_000 })))
      // this increment, after every acknowledged one and some of the unknown ones
      model.acked++
      checkCount(model, count, 'incr')
    } catch (err) {
      if (!(err instanceof PraasError)) throw err
      model.unknown++
    }
  }

  toString (): string { return 'incr' }
}

class Read implements fc.AsyncCommand<Model, Real> {
  check (): boolean { return true }
  async run (model: Model, real: Real): Promise<void> {
    checkCount(model, Number(text(await real.client.invoke(real.pid, 'get', 'n'))), 'read')
  }

  toString (): string { return 'read' }
}

class Migrate implements fc.AsyncCommand<Model, Real> {
  constructor (readonly target: number) {}
  check (model: Model): boolean { return model.down !== this.target }
  async run (_model: Model, real: Real): Promise<void> {
    await real.client.migrate(real.pid, real.nodes[this.target].peerId)
    const entry = (await real.client.list()).find(p => p.pid === real.pid)
    assert.equal(entry?.node, real.nodes[this.target].peerId)
  }

  toString (): string { return `migrate(${this.target})` }
}

class Swap implements fc.AsyncCommand<Model, Real> {
  check (): boolean { return true }
  async run (_model: Model, real: Real): Promise<void> {
    await real.client.swap(real.pid)
  }

  toString (): string { return 'swap' }
}

class Kill implements fc.AsyncCommand<Model, Real> {
  constructor (readonly victim: number) {}
  check (model: Model): boolean { return model.down == null }
  async run (model: Model, real: Real): Promise<void> {
    await real.nodes[this.victim].kill('SIGKILL')
    model.down = this.victim
  }

  toString (): string { return `kill(${this.victim})` }
}

/** Brings the node that is down back with its data dir: its old swap images and replicas return with it. */
class Restart implements fc.AsyncCommand<Model, Real> {
  check (model: Model): boolean { return model.down != null }
  async run (model: Model, real: Real): Promise<void> {
    const i = model.down!
    const old = real.nodes[i]
    real.nodes[i] = await startNode({ dataDir: old.dataDir, bootstrap: [real.nodes[0].addrs[0]], join: real.nodes[0].token })
    assert.equal(real.nodes[i].peerId, old.peerId)
    model.down = undefined
    // every node sees it again (membership), and all follow one leader
    await waitForMesh(real.nodes)
    // It listens on a new port (a daemon restarted on its fixed port would not): every node must
    // have heard a heartbeat that says so, or it hands out the old address for a while.
    const fresh = real.nodes[i]
    await eventually(async () => {
      const views = await Promise.all(real.nodes.map(async node => {
        const c = await Client.connect({ bootstrap: [node.addrs[0]], token: node.token })
        try { return await c.status() } finally { await c.close() }
      }))
      const where = fresh.addrs[0].split('/p2p/')[0]
      return views.every(v => v.nodes.some(n => n.peerId === fresh.peerId && n.addrs.some(a => a.split('/p2p/')[0] === where)))
    }, 15_000, 'every node knowing the restarted node\'s new address')
  }

  toString (): string { return 'restart' }
}

describe('one activation per pid, under random kills, restarts, swaps and moves', function () {
  this.timeout(600_000)
  const COUNT = 5
  let nodes: TestNode[]
  let client: Client

  before(async function () {
    nodes = await startCluster(COUNT)
    client = await Client.connect({ bootstrap: [nodes[0].addrs[0]], token: nodes[0].token })
    await client.deploy('kit', await readFile(fixture('testkit')))
    await placeOnEvery(client, nodes, 'kit')
  })

  after(async function () {
    await client?.close()
    if (nodes != null) await stopCluster(nodes)
  })

  it('never serves a count that went back, and loses no acknowledged increment', async function () {
    // Node 0 is everyone's bootstrap node and stays up; the others may die, one at a time.
    const others = fc.integer({ min: 1, max: COUNT - 1 })
    const commands = [
      fc.constant(new Incr()),
      fc.constant(new Incr()),
      fc.constant(new Read()),
      fc.constant(new Swap()),
      others.map(i => new Migrate(i)),
      fc.integer({ min: 0, max: COUNT - 1 }).map(i => new Migrate(i)),
      others.map(i => new Kill(i)),
      fc.constant(new Restart())
    ]
    let run = 0
    await fc.assert(fc.asyncProperty(fc.commands(commands, { maxCommands: 12 }), async (cmds) => {
      // a node left down by an earlier run is down for this one too
      const downAt = nodes.findIndex(n => n.child.exitCode != null || n.child.signalCode != null)
      const model: Model = { acked: 0, unknown: 0, down: downAt >= 0 ? downAt : undefined }
      const host = [1, 2, 3, 4].find(i => i !== model.down && i === 1 + (run % (COUNT - 1))) ?? [1, 2, 3, 4].find(i => i !== model.down)!
      run++
      const pid = await client.create('kit', { node: nodes[host].peerId })
      try {
        await fc.asyncModelRun(() => ({ model, real: { client, nodes, pid } }), [...cmds, new Read()])
      } catch (err) {
        if (process.env.DUMP != null) {
          for (const [i, n] of nodes.entries()) console.log(`--- node ${i} ${n.peerId}\n` + n.log().split('\n').filter(l => l.includes(pid)).slice(-30).join('\n'))
        }
        throw err
      }
    }), { numRuns: 5, endOnFailure: true, seed: process.env.PRAAS_SEED != null ? Number(process.env.PRAAS_SEED) : undefined })
  })
})
