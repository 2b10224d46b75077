import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT } from '../helpers/paths.js'

const UNIT = join(ROOT, 'contrib', 'systemd', 'praas.service')
const CONFIG = join(ROOT, 'contrib', 'systemd', 'node.json')

describe('contrib/systemd', function () {
  this.timeout(30_000)

  it('has a unit that systemd-analyze verify accepts without a warning', async function () {
    if (spawnSync('systemd-analyze', ['--version']).status !== 0) this.skip() // pending where systemd is not installed
    const dir = await mkdtemp(join(tmpdir(), 'praas-unit-'))
    try {
      // verify checks that ExecStart's program exists: use this machine's node
      const unit = (await readFile(UNIT, 'utf8')).replace('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `)
      const file = join(dir, 'praas.service')
      await writeFile(file, unit)
      const verified = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' })
      assert.equal(verified.status, 0, verified.stderr)
      assert.equal(verified.stderr.trim(), '', 'systemd-analyze warns')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('stops the node with SIGTERM and waits longer than the node takes to swap everything out', async () => {
    const unit = await readFile(UNIT, 'utf8')
    const value = (key: string): string | undefined => new RegExp(`^${key}=(.*)$`, 'm').exec(unit)?.[1]
    assert.equal(value('KillSignal'), 'SIGTERM')
    assert.match(value('Restart') ?? '', /^(on-failure|always)$/)
    assert.match(value('Type') ?? '', /^(simple|notify)$/)
    // run-node.ts gives a stop 120 s before it exits on its own
    assert.ok(Number(value('TimeoutStopSec')) > 120)
    assert.match(value('ExecStart') ?? '', /praas\.js node --config \/etc\/praas\/node\.json$/)
  })

  it('ships a config file whose keys are options of praas node', async () => {
    const { program } = await import('../../node/cli/main.js')
    const node = program({ runNode: async () => { throw new Error('not run') } }).commands.find(c => c.name() === 'node')!
    const keys = new Set(node.options.map(o => o.attributeName()))
    const config = JSON.parse(await readFile(CONFIG, 'utf8')) as Record<string, unknown>
    for (const key of Object.keys(config)) assert.ok(keys.has(key), `${key} is not an option of praas node`)
  })
})
