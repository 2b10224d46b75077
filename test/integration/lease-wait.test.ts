import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { Client } from '../../sdk/index.js'
import { dumpOnFailure, startCluster, stopCluster } from '../helpers/cluster.js'
import { fixture } from '../helpers/paths.js'
import { text } from '../helpers/assertions.js'
import type { TestNode } from '../helpers/cluster.js'

/** A member's lease is LEASE_MS (4 s) less its margin from its last renewal: past this, none is held. */
const PAST_ANY_LEASE_MS = 6_000

/**
 * A call that reaches a node while its lease is out (the leader failed over, or the majority was
 * out of reach a moment) waits for the lease within its own time limit, and runs once the node
 * holds one again; it never runs while the node holds none.
 */
describe('a call to a node whose lease is out', function () {
  this.timeout(120_000)
  let nodes: TestNode[]
  let client: Client

  before(async function () {
    // one copy: a lease that comes back leaves the activations where they are (with copies they step down and come back from the newest)
    nodes = await startCluster(3, ['--replicas', '1'])
    client = await Client.connect({ bootstrap: [nodes[0].addrs[0]], token: nodes[0].token })
    await client.deploy('kit', await readFile(fixture('testkit')))
  })

  afterEach(function () {
    dumpOnFailure(this, () => nodes)
  })

  after(async function () {
    for (const node of nodes ?? []) if (node.child.exitCode == null && node.child.signalCode == null) process.kill(node.pid, 'SIGCONT')
    await client?.close()
    if (nodes != null) await stopCluster(nodes)
  })

  it('waits for the lease to come back and then runs, rather than failing at once', async function () {
    const pid = await client.create('kit', { node: nodes[0].peerId })
    assert.equal(text(await client.invoke(pid, 'incr')), '1')
    const others = nodes.slice(1)
    for (const node of others) process.kill(node.pid, 'SIGSTOP')
    let resumedAt = Infinity
    try {
      // the majority is out of reach: nodes[0]'s lease runs out
      await new Promise(resolve => setTimeout(resolve, PAST_ANY_LEASE_MS))
      let answeredAt = -Infinity
      const call = client.invoke(pid, 'incr', undefined, { timeoutMs: 20_000 }).finally(() => { answeredAt = Date.now() })
      await new Promise(resolve => setTimeout(resolve, 1_000))
      resumedAt = Date.now()
      for (const node of others) process.kill(node.pid, 'SIGCONT')
      assert.equal(text(await call), '2')
      // nothing answered while the others were stopped (an answer without a lease would have come at once)
      assert.ok(answeredAt >= resumedAt, `answered ${resumedAt - answeredAt} ms before the majority was back`)
    } finally {
      if (resumedAt === Infinity) for (const node of others) process.kill(node.pid, 'SIGCONT')
    }
    assert.equal(text(await client.invoke(pid, 'get', 'n')), '2')
  })
})
