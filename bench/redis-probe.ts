// Small helpers for benchmarks that start outside programs (redis-server): a free loopback
// port, a check that a command is installed, and a PING probe.
import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { connect, createServer } from 'node:net'

/** Throws a clear error when `command` is not on PATH. */
export function requireCommand (command: string, aptPackage: string): void {
  if (spawnSync('sh', ['-c', `command -v ${command}`]).status !== 0) {
    throw new Error(`${command} is not installed: apt-get install ${aptPackage}`)
  }
}

export async function freePort (): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  await new Promise(resolve => server.close(resolve))
  return port
}

/** Resolves true once a Redis PING on `port` is answered with PONG (1 s per attempt). */
export async function answersPing (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const socket = connect({ host: '127.0.0.1', port })
    const done = (ok: boolean): void => { socket.destroy(); resolve(ok) }
    socket.setTimeout(1000, () => { done(false) })
    socket.on('error', () => { done(false) })
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', chunk => { done(chunk.toString().startsWith('+PONG')) })
  })
}
