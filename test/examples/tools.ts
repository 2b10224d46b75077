// The outside programs the examples need: a check that they are installed (CI installs them,
// see .ci/run) and a real redis-server on a free loopback port.
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { answersPing, freePort } from '../../bench/redis-probe.js'

export { freePort }

const REDIS_READY_MS = 10_000

/** Whether `command` is on PATH. */
export function hasCommand (command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0
}

/**
 * Why a suite that runs `commands` cannot run here, or undefined when it can: such a suite is
 * then declared pending with that reason in its title (CI installs them, see .ci/run), so that
 * `npm test` passes on a machine with Node alone.
 */
export function missing (...commands: Array<[command: string, aptPackage: string]>): string | undefined {
  const absent = commands.filter(([command]) => !hasCommand(command))
  if (absent.length === 0) return undefined
  return `pending: ${absent.map(([c, p]) => `${c} is not installed (apt-get install ${p})`).join(', ')}`
}

export interface TestRedis {
  port: number
  /** The stateless functions' store line without the session: redis://127.0.0.1:PORT */
  url: string
  stop(): Promise<void>
}

/** Starts `redis-server` without persistence on a free loopback port and waits for PONG. */
export async function startRedis (): Promise<TestRedis> {
  const port = await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = once(child, 'exit')
  const stop = async (): Promise<void> => {
    if (child.exitCode != null || child.signalCode != null) return
    child.kill('SIGKILL')
    await exited
  }
  const deadline = Date.now() + REDIS_READY_MS
  while (!(await answersPing(port))) {
    if (child.exitCode != null || Date.now() > deadline) {
      await stop()
      throw new Error(`redis-server on port ${port} did not answer PING:\n${output}`)
    }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return { port, url: `redis://127.0.0.1:${port}`, stop }
}
