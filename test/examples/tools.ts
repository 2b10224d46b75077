// The outside programs the examples need: a check that they are installed (CI installs them,
// see .ci/run) and a real redis-server on a free loopback port.
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { answersPing, freePort } from '../../bench/redis-probe.js'

export { freePort }

const REDIS_READY_MS = 10_000

/** Throws a clear error when `command` is not on PATH; nothing is skipped. */
export function requireCommand (command: string, aptPackage: string): void {
  if (spawnSync('sh', ['-c', `command -v ${command}`]).status !== 0) {
    throw new Error(`${command} is not installed: run apt-get install ${aptPackage} (.ci/run does)`)
  }
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
