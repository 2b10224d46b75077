import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { promisify } from 'node:util'
import { removeLeftovers, TestNetwork } from '../helpers/netns.js'
import { skipWithoutNetns } from './scenario.js'

/** Whether a TCP connection from `from` to the greeting server on `to` gets its greeting within 500 ms (on a veth pair: well under 1 ms). */
async function reaches (net: TestNetwork, from: string, to: string): Promise<boolean> {
  const script = `const s = require('net').connect(7000, '${net.host(to).ip}')
s.setTimeout(500, () => { console.log('no'); process.exit() })
s.on('data', () => { console.log('yes'); process.exit() })
s.on('error', () => { console.log('no'); process.exit() })`
  const { stdout } = await promisify(execFile)('ip', ['netns', 'exec', net.host(from).ns, process.execPath, '-e', script], { encoding: 'utf8' })
  return stdout.trim() === 'yes'
}

const namespaces = (): string[] => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map(l => l.split(' ')[0]).filter(n => n !== '')

describe('test networks of network namespaces', function () {
  this.timeout(60_000)
  let net: TestNetwork | undefined

  before(async function () {
    await skipWithoutNetns(this)
    net = await TestNetwork.create(['a', 'b', 'c'])
    // a greeting server on every host
    for (const host of net.names) {
      const script = `require('net').createServer(s => s.end('hi')).listen(7000, '${net.host(host).ip}', () => console.log('up'))`
      const server = net.spawn(host, process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
      await once(server.stdout!, 'data')
    }
  })

  after(async function () {
    await net?.destroy()
  })

  /** Who reaches whom: `ab ac | ba bc | ca cb` when all do (each probe is its own OS process in `from`'s namespace). */
  const matrix = async (): Promise<string> => {
    const hosts = net!.names
    const rows = await Promise.all(hosts.map(async from => {
      const ok = await Promise.all(hosts.map(async to => to !== from && await reaches(net!, from, to)))
      return hosts.filter((_, i) => ok[i]).map(to => from + to).join(' ')
    }))
    return rows.join(' | ')
  }

  it('connects every host with every other', async function () {
    assert.equal(await matrix(), 'ab ac | ba bc | ca cb')
  })

  it('cuts a host off from everyone, and heals', async function () {
    await net!.isolate('a')
    assert.equal(await matrix(), ' | bc | cb')
    assert.deepEqual(net!.groups(), [['b', 'c'], ['a']])
    await net!.heal()
    assert.equal(await matrix(), 'ab ac | ba bc | ca cb')
  })

  it('splits the network into groups', async function () {
    await net!.partition([['a', 'c']])
    assert.equal(await matrix(), 'ac |  | ca')
    await net!.partition([['a'], ['b']])
    assert.equal(await matrix(), ' |  | ')
    await net!.heal()
  })

  it('removes what a killed run left behind, and nothing of a live run', function () {
    // a namespace named as a run whose os process is gone (pid 2^22 + 1 is above Linux's maximum)
    const stale = 'pxn-4194305-000000-x'
    execFileSync('ip', ['netns', 'add', stale])
    removeLeftovers()
    assert.ok(!namespaces().includes(stale))
    assert.ok(namespaces().includes(net!.host('a').ns))
  })

  it('removes its namespaces, processes and files when destroyed', async function () {
    const gone = net!
    const names = [...gone.hosts.values()].map(h => h.ns)
    await gone.destroy()
    net = undefined
    assert.deepEqual(namespaces().filter(n => names.includes(n)), [])
    assert.ok(!existsSync(gone.dir))
  })
})
