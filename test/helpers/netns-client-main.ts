// A client OS process inside a host of a test network (started by netns-clients.ts through
// `ip netns exec`): one SDK Client, driven by JSON lines on stdin, answering with JSON lines on
// stdout. Besides single requests it runs caller loops (`loop`): each caller invokes a counter's
// `incr` back to back (each followed, if asked, by a `get` of another key) and reports every
// call, acknowledged or failed, with its start and end on
// the machine's monotonic clock (shared by every process, whatever its namespace), so that the
// test can check the history across clients (test/partition/counter-history.ts).
// Arguments: the bootstrap multiaddrs, JSON; optionally the Client's options, JSON (`{ timeoutMs }`:
// the limit of control calls and of dialling a node). Ends when stdin closes.
import '../../protocol/polyfill.js'
import { createInterface } from 'node:readline'
import { readFile } from 'node:fs/promises'
import { Client, PraasError } from '../../sdk/index.js'

/** A request from the test; `id` comes back in the answer. */
export type ClientCommand = { id: number } & (
  | { op: 'deploy', app: string, path: string }
  | { op: 'create', app: string, node?: string, pid?: string }
  | { op: 'status' }
  | { op: 'list' }
  | { op: 'invoke', pid: string, fn: string, data?: string, timeoutMs?: number }
  | { op: 'migrate', pid: string, node: string }
  | { op: 'swap', pid: string }
  | { op: 'delete', pid: string }
  | { op: 'loop', run: string, pid: string, keys: string[], reads?: string[], timeoutMs: number, pauseAfterErrorMs: number }
  | { op: 'stop', run: string }
)

/** The answer to a request (`re` = its id; 0: the client connected). */
export type ClientAnswer =
  | { re: number, ok: true, result: unknown, start: number, end: number }
  | { re: number, ok: false, code: string, message: string, start: number, end: number }

/** What the process writes: an answer to a request, or one call of a loop. */
export type ClientLine = ClientAnswer | LoopLine

/** One call of a loop: an `incr` or a `get` of `key`, with the count it returned or the error's code. */
export interface LoopLine {
  ev: 'op'
  run: string
  caller: number
  kind: 'incr' | 'read'
  key: string
  ok: boolean
  value?: string
  code?: string
  /** The error's message, cut to 300 characters. */
  message?: string
  start: number
  end: number
}

/** Microseconds on CLOCK_MONOTONIC: comparable across the processes of one machine. */
const now = (): number => Number(process.hrtime.bigint() / 1000n)
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)
const write = (line: ClientLine): void => { process.stdout.write(JSON.stringify(line) + '\n') }
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

const bootstrap: string[] = JSON.parse(process.argv[2] ?? '[]')
const options: { timeoutMs?: number, token?: string } = JSON.parse(process.argv[3] ?? '{}')
const client = await Client.connect({ bootstrap, ...options })
const loops = new Map<string, { stop: boolean, done: Promise<Array<{ acked: number, failed: number }>> }>()

function startLoop (command: Extract<ClientCommand, { op: 'loop' }>): void {
  if (loops.has(command.run)) throw new PraasError('BAD_REQUEST', `loop ${command.run} exists`)
  const state = { stop: false, done: Promise.resolve([] as Array<{ acked: number, failed: number }>) }
  /** One call, reported; whether it was acknowledged. */
  const call = async (index: number, kind: 'incr' | 'read', key: string): Promise<boolean> => {
    const start = now()
    try {
      const value = text(await client.invoke(command.pid, kind === 'incr' ? 'incr' : 'get', key, { timeoutMs: command.timeoutMs }))
      write({ ev: 'op', run: command.run, caller: index, kind, key, ok: true, value, start, end: now() })
      return true
    } catch (err) {
      const code = err instanceof PraasError ? err.code : 'ERROR'
      const message = String((err as Error)?.message ?? err).slice(0, 300)
      write({ ev: 'op', run: command.run, caller: index, kind, key, ok: false, code, message, start, end: now() })
      // a node that refuses at once would otherwise be asked thousands of times a second
      await sleep(command.pauseAfterErrorMs)
      return false
    }
  }
  const caller = async (index: number, key: string, read: string | undefined): Promise<{ acked: number, failed: number }> => {
    let acked = 0
    let failed = 0
    while (!state.stop) {
      if (await call(index, 'incr', key)) acked++; else failed++
      if (read != null && read !== '' && !state.stop) await call(index, 'read', read)
    }
    return { acked, failed }
  }
  state.done = Promise.all(command.keys.map(async (key, i) => await caller(i, key, command.reads?.[i])))
  loops.set(command.run, state)
}

async function handle (command: ClientCommand): Promise<unknown> {
  switch (command.op) {
    case 'deploy': await client.deploy(command.app, await readFile(command.path)); return null
    case 'create': return await client.create(command.app, { node: command.node, pid: command.pid })
    case 'status': return await client.status()
    case 'list': return await client.list()
    case 'invoke': return text(await client.invoke(command.pid, command.fn, command.data, { timeoutMs: command.timeoutMs }))
    case 'migrate': await client.migrate(command.pid, command.node); return null
    case 'swap': await client.swap(command.pid); return null
    case 'delete': await client.delete(command.pid); return null
    case 'loop': startLoop(command); return null
    case 'stop': {
      const state = loops.get(command.run)
      if (state == null) throw new PraasError('NOT_FOUND', `no loop ${command.run}`)
      state.stop = true
      const callers = await state.done
      loops.delete(command.run)
      return { acked: callers.reduce((n, c) => n + c.acked, 0), failed: callers.reduce((n, c) => n + c.failed, 0) }
    }
  }
}

const lines = createInterface({ input: process.stdin })
lines.on('line', (line) => {
  const command = JSON.parse(line) as ClientCommand
  const start = now()
  handle(command).then(
    result => { write({ re: command.id, ok: true, result: result ?? null, start, end: now() }) },
    (err: Error) => { write({ re: command.id, ok: false, code: err instanceof PraasError ? err.code : 'ERROR', message: err.message, start, end: now() }) }
  )
})
lines.on('close', () => {
  for (const state of loops.values()) state.stop = true
  // the loops' calls end within their time limit; the process ends at once all the same
  client.close().finally(() => process.exit(0))
  setTimeout(() => process.exit(0), 2000).unref()
})
write({ re: 0, ok: true, result: { peerId: client.peerId }, start: now(), end: now() })
