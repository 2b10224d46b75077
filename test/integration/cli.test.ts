import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startCluster, startNode, stopCluster } from '../helpers/cluster.js'
import { BIN, EXAMPLES } from '../helpers/paths.js'
import type { TestNode } from '../helpers/cluster.js'

const run = promisify(execFile)

interface Outcome { code: number, stdout: string, stderr: string }

async function praas (args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 30_000 })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number, stdout: string, stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

describe('the praas CLI against three node processes', function () {
  this.timeout(90_000)
  let nodes: TestNode[]
  let env: Record<string, string>

  before(async function () {
    nodes = await startCluster(3)
    env = { PRAAS_BOOTSTRAP: nodes[0].addrs[0], PRAAS_TOKEN: nodes[0].token }
  })

  after(async function () {
    if (nodes != null) await stopCluster(nodes)
  })

  it('deploys the counter, creates a process, invokes it and lists it', async function () {
    const deployed = await praas(['deploy', 'counter', join(EXAMPLES, 'counter', 'index.js')], env)
    assert.equal(deployed.code, 0, deployed.stderr)
    const created = await praas(['create', 'counter', '--node', nodes[2].peerId, '--bootstrap', nodes[1].addrs[0], '--token', nodes[0].token])
    assert.equal(created.code, 0, created.stderr)
    const pid = created.stdout.trim()
    const five = await praas(['invoke', pid, 'incr', '--data', '5'], env)
    assert.equal(five.stdout, '5', five.stderr)
    assert.equal((await praas(['invoke', pid, 'incr'], env)).stdout, '6')
    const listed = await praas(['ps', '--json'], env)
    assert.equal(listed.code, 0, listed.stderr)
    const entries = JSON.parse(listed.stdout) as Array<{ pid: string, app: string, status: string, node: string }>
    assert.deepEqual(entries.find(e => e.pid === pid), { pid, app: 'counter', status: 'active', node: nodes[2].peerId })
    const table = await praas(['ps'], env)
    assert.match(table.stdout, new RegExp(`${pid}\\s+counter\\s+active\\s+${nodes[2].peerId}`))
  })

  it('swaps a process, lists it swapped, brings it back, and migrates it', async function () {
    const created = await praas(['create', 'counter', '--node', nodes[1].peerId], env)
    assert.equal(created.code, 0, created.stderr)
    const pid = created.stdout.trim()
    const seven = await praas(['invoke', pid, 'incr', '--data', '7'], env)
    assert.equal(seven.stdout, '7', seven.stderr)
    const swapped = await praas(['swap', pid], env)
    assert.equal(swapped.code, 0, swapped.stderr)
    const listed = JSON.parse((await praas(['ps', '--json'], env)).stdout) as Array<{ pid: string, status: string }>
    assert.equal(listed.find(e => e.pid === pid)?.status, 'swapped')
    const eight = await praas(['invoke', pid, 'incr'], env)
    assert.equal(eight.stdout, '8', eight.stderr)
    const moved = await praas(['migrate', pid, '--to', nodes[2].peerId], env)
    assert.equal(moved.code, 0, moved.stderr)
    const after = JSON.parse((await praas(['ps', '--json'], env)).stdout) as Array<{ pid: string, status: string, node: string }>
    assert.deepEqual(after.filter(e => e.pid === pid).map(e => [e.status, e.node]), [['active', nodes[2].peerId]])
    const nine = await praas(['invoke', pid, 'incr'], env)
    assert.equal(nine.stdout, '9', nine.stderr)
    const missing = await praas(['migrate', pid], env)
    assert.notEqual(missing.code, 0)
  })

  it('reads the input of an invocation from a file and writes raw bytes', async function () {
    const pid = (await praas(['create', 'counter'], env)).stdout.trim()
    const file = join(nodes[0].dataDir, 'step.txt')
    await writeFile(file, '41')
    assert.equal((await praas(['invoke', pid, 'incr', '--data-file', file], env)).stdout, '41')
  })

  it('exits non-zero with one "error CODE: message" line on stderr', async function () {
    const missing = await praas(['invoke', 'no-such-pid', 'incr'], env)
    assert.notEqual(missing.code, 0)
    assert.match(missing.stderr, /^error NOT_FOUND: .+\n$/)
    assert.equal(missing.stdout, '')
    const noBootstrap = await praas(['ps'], { PRAAS_BOOTSTRAP: '' })
    assert.match(noBootstrap.stderr, /^error BAD_REQUEST: /m)
  })

  it('prints help for each command', async function () {
    for (const command of ['node', 'deploy', 'create', 'invoke', 'ps']) {
      const help = await praas([command, '--help'])
      assert.equal(help.code, 0)
      assert.match(help.stdout, new RegExp(`Usage: praas ${command}`))
    }
  })
})

describe('a node process', function () {
  this.timeout(60_000)

  it('exits 0 on SIGTERM and keeps its peer id across a restart', async function () {
    const node = await startNode()
    assert.equal(await node.kill('SIGTERM'), 0)
    const again = await startNode({ dataDir: node.dataDir })
    try {
      assert.equal(again.peerId, node.peerId)
      assert.equal(again.pid, again.child.pid)
      assert.match(again.addrs[0], new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${node.peerId}$`))
    } finally {
      await stopCluster([again])
    }
  })

  it('accepts only clients that hold the cluster\'s swarm key', async function () {
    const node = await startNode()
    const keyFile = join(node.dataDir, 'swarm.key')
    await node.kill('SIGKILL')
    const { generateKey } = await import('@libp2p/pnet')
    const key = new Uint8Array(95)
    generateKey(key)
    await writeFile(keyFile, key)
    const closed = await startNode({ dataDir: node.dataDir, args: ['--swarm-key', keyFile] })
    try {
      const without = await praas(['ps', '--bootstrap', closed.addrs[0]])
      assert.match(without.stderr, /^error UNAVAILABLE: /m)
      const withKey = await praas(['ps', '--json', '--bootstrap', closed.addrs[0], '--swarm-key', keyFile, '--token', closed.token])
      assert.equal(withKey.code, 0, withKey.stderr)
      assert.deepEqual(JSON.parse(withKey.stdout), [])
    } finally {
      await stopCluster([closed])
    }
  })
})
