import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { BIN } from '../helpers/paths.js'

const run = promisify(execFile)

async function praas (args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: { ...process.env, PRAAS_BOOTSTRAP: '' }, timeout: 30_000 })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number, stdout: string, stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

describe('the praas CLI\'s usage', function () {
  this.timeout(60_000)

  it('answers a usage mistake with one line, error BAD_REQUEST, and a non-zero exit', async () => {
    const mistakes: Array<[string[], RegExp]> = [
      [[], /no command given/],
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['ps', '--frob'], /unknown option '--frob'/],
      [['invoke', 'pid-only'], /missing required argument 'fn'/],
      [['migrate', 'some-pid'], /required option '--to <peerId>' not specified/],
      [['node', '--log-level', 'loud'], /option '--log-level <level>' argument 'loud' is invalid/],
      [['node', '--http', 'nowhere'], /--http takes HOST:PORT/],
      [['invoke', 'p', 'f', '--timeout', 'soon', '--bootstrap', '/ip4/127.0.0.1/tcp/1'], /--timeout takes a positive number of ms/]
    ]
    for (const [args, message] of mistakes) {
      const out = await praas(args)
      assert.notEqual(out.code, 0, args.join(' '))
      assert.equal(out.stdout, '', args.join(' '))
      assert.match(out.stderr, /^error BAD_REQUEST: [^\n]+\n$/, args.join(' '))
      assert.match(out.stderr, message, args.join(' '))
    }
  })

  it('writes help to stdout and exits 0', async () => {
    for (const args of [['--help'], ['node', '--help'], ['invoke', '--help'], ['help', 'status']]) {
      const out = await praas(args)
      assert.equal(out.code, 0, args.join(' '))
      assert.equal(out.stderr, '', args.join(' '))
      assert.match(out.stdout, /^Usage: praas/, args.join(' '))
    }
  })
})
