import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resolveOptions } from '../../node/cli/config.js'
import { program } from '../../node/cli/main.js'
import { eventually } from '../helpers/cluster.js'
import { BIN } from '../helpers/paths.js'
import type { AddressInfo } from 'node:net'

/** The options `praas node ARGS` would run with, under `env` (nothing is started). */
async function nodeOptions (args: string[], env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const saved = { ...process.env }
  for (const key of Object.keys(process.env)) if (key.startsWith('PRAAS_')) delete process.env[key]
  Object.assign(process.env, env)
  try {
    let resolved: Record<string, unknown> | undefined
    await program({ runNode: async () => ({ runNode: async (command) => { resolved = await resolveOptions(command) } }) })
      .parseAsync(['node', 'praas', 'node', ...args])
    return resolved!
  } finally {
    process.env = saved
  }
}

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise(resolve => server.close(resolve))
  return port
}

describe('praas node --config', function () {
  let dir: string

  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'praas-config-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('takes options from the file, a flag beats the environment, which beats the file', async () => {
    const config = join(dir, 'node.json')
    await writeFile(config, JSON.stringify({ http: '127.0.0.1:1111', replicas: 3, swapAfter: '1000', listen: ['/ip4/127.0.0.1/tcp/5001', '/ip4/127.0.0.1/tcp/5002'], logLevel: 'warn' }))
    const file = await nodeOptions(['--config', config])
    assert.deepEqual([file.http, file.replicas, file.swapAfter, file.listen, file.logLevel], ['127.0.0.1:1111', '3', '1000', ['/ip4/127.0.0.1/tcp/5001', '/ip4/127.0.0.1/tcp/5002'], 'warn'])
    assert.equal(file.functionTimeout, '60000', 'what the file leaves out keeps its default')
    const env = await nodeOptions(['--config', config], { PRAAS_HTTP: '127.0.0.1:2222', PRAAS_LISTEN: '/ip4/127.0.0.1/tcp/6001,/ip4/127.0.0.1/tcp/6002' })
    assert.deepEqual([env.http, env.replicas, env.listen], ['127.0.0.1:2222', '3', ['/ip4/127.0.0.1/tcp/6001', '/ip4/127.0.0.1/tcp/6002']])
    const flag = await nodeOptions(['--config', config, '--http', '127.0.0.1:3333', '--listen', '/ip4/127.0.0.1/tcp/7001'], { PRAAS_HTTP: '127.0.0.1:2222' })
    assert.deepEqual([flag.http, flag.listen], ['127.0.0.1:3333', ['/ip4/127.0.0.1/tcp/7001']])
  })

  it('takes relative paths in the file from the file\'s folder', async () => {
    const config = join(dir, 'node.json')
    await writeFile(config, JSON.stringify({ dataDir: 'data', apps: '/srv/apps' }))
    const opts = await nodeOptions(['--config', config])
    assert.deepEqual([opts.dataDir, opts.apps], [join(dir, 'data'), '/srv/apps'])
    assert.equal((await nodeOptions(['--config', config, '--data-dir', 'here'])).dataDir, 'here', 'a flag is taken as given')
  })

  it('refuses an unknown key, a value of the wrong type, and a file that is not one JSON object', async () => {
    const cases: Array<[string, RegExp]> = [
      [JSON.stringify({ dataDirectory: 'x' }), /unknown option "dataDirectory"/],
      [JSON.stringify({ replicas: true }), /"replicas" takes a string or a number/],
      [JSON.stringify({ listen: [1, {}] }), /"listen" takes strings/],
      [JSON.stringify({ logLevel: 'loud' }), /"logLevel" takes one of error, warn, info, debug/],
      [JSON.stringify(['http']), /one JSON object/],
      ['{ "http": ', /is not JSON/]
    ]
    for (const [text, message] of cases) {
      await writeFile(join(dir, 'bad.json'), text)
      await assert.rejects(nodeOptions(['--config', join(dir, 'bad.json')]), (err: { code?: string, message: string }) => err.code === 'BAD_REQUEST' && message.test(err.message), text)
    }
    await assert.rejects(nodeOptions(['--config', join(dir, 'missing.json')]), { code: 'BAD_REQUEST' })
  })

  it('runs a node with the options of its file, and a flag beats the file', async function () {
    this.timeout(60_000)
    const [filePort, flagPort] = [await freePort(), await freePort()]
    const config = join(dir, 'node.json')
    await writeFile(config, JSON.stringify({ listen: ['/ip4/127.0.0.1/tcp/0'], dataDir: 'data', http: `127.0.0.1:${filePort}`, replicas: 1, logFormat: 'json' }))
    for (const [args, port] of [[[], filePort], [['--http', `127.0.0.1:${flagPort}`, '--log-level', 'warn'], flagPort]] as const) {
      const child = spawn(process.execPath, ['--no-node-snapshot', BIN, 'node', '--config', config, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
      let log = ''
      child.stderr.on('data', (chunk: Buffer) => { log += chunk.toString() })
      try {
        const info = await eventually(async () => JSON.parse(await readFile(join(dir, 'data', 'node.json'), 'utf8')).pid === child.pid, 20_000, 'node.json in the data dir of the file')
          .then(async () => JSON.parse(await readFile(join(dir, 'data', 'node.json'), 'utf8')) as { http: string })
        assert.equal(info.http, `http://127.0.0.1:${port}/`)
        assert.equal((await fetch(`${info.http}healthz`)).status, 200)
        // the log is JSON lines, as the file asked, with info lines unless the level is warn
        const ready = log.split('\n').filter(l => l !== '').map(l => JSON.parse(l) as { msg: string, level: number }).find(l => l.msg === 'node ready')
        assert.equal(ready?.level, args.length === 0 ? 30 : undefined)
      } finally {
        child.kill('SIGKILL')
        await new Promise(resolve => child.once('exit', resolve))
      }
    }
  })
})
