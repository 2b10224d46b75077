/** The commands that talk to a cluster through the SDK's Client (loaded only when one runs). */
import { readFile } from 'node:fs/promises'
import { Client, PraasError } from '../../sdk/index.js'
import { listValues } from './options.js'

/** What every cluster command takes: `--bootstrap` (or `$PRAAS_BOOTSTRAP`), `--swarm-key` and `--token` (or `$PRAAS_TOKEN`). */
export interface ClusterOptions {
  bootstrap?: string[]
  swarmKey?: string
  token?: string
}

/** The caller's token: --token, else $PRAAS_TOKEN, else ./.praas/admin.token (the node `npm start` runs wrote it). */
export async function tokenOf (opts: { token?: string }): Promise<string | undefined> {
  if (opts.token != null && opts.token.trim() !== '') return opts.token.trim()
  const stored = await readFile('.praas/admin.token', 'utf8').catch(() => undefined)
  return stored?.trim()
}

/** Runs `fn` with a Client connected to the cluster, and always closes it. */
async function withClient<T> (opts: ClusterOptions, fn: (client: Client) => Promise<T>): Promise<T> {
  const bootstrap = listValues(opts.bootstrap)
  if (bootstrap.length === 0) throw new PraasError('BAD_REQUEST', 'no bootstrap node: pass --bootstrap MULTIADDR or set PRAAS_BOOTSTRAP')
  const swarmKey = opts.swarmKey == null ? undefined : await readFile(opts.swarmKey)
  const client = await Client.connect({ bootstrap, swarmKey, token: await tokenOf(opts) })
  try {
    return await fn(client)
  } finally {
    await client.close()
  }
}

async function writeOut (data: Uint8Array | string): Promise<void> {
  await new Promise<void>((resolve, reject) => { process.stdout.write(data, err => { err != null ? reject(err) : resolve() }) })
}

function wholeNumber (value: string | undefined, what: string): number | undefined {
  if (value == null) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n <= 0) throw new PraasError('BAD_REQUEST', `${what} takes a positive whole number`)
  return n
}

export async function deploy (app: string, file: string, opts: ClusterOptions & { allow?: string[], memory?: string, cpuMs?: string }): Promise<void> {
  const source = await readFile(file)
  const options = { allow: listValues(opts.allow), memoryMiB: wholeNumber(opts.memory, '--memory'), cpuMs: wholeNumber(opts.cpuMs, '--cpu-ms') }
  await withClient(opts, async client => { await client.deploy(app, source, options) })
  process.stderr.write(`deployed ${app}\n`)
}

export async function revoke (tokenOrId: string, opts: ClusterOptions): Promise<void> {
  const id = await withClient(opts, async client => await client.revoke(tokenOrId))
  process.stderr.write(`revoked ${id}\n`)
}

export async function removeNode (peerId: string, opts: ClusterOptions): Promise<void> {
  await withClient(opts, async client => { await client.removeNode(peerId) })
  process.stderr.write(`removed ${peerId} from the cluster\n`)
}

export async function create (app: string, opts: ClusterOptions & { pid?: string, node?: string }): Promise<void> {
  const pid = await withClient(opts, async client => await client.create(app, { pid: opts.pid, node: opts.node }))
  await writeOut(`${pid}\n`)
}

export async function invoke (pid: string, fn: string, opts: ClusterOptions & { data?: string, dataFile?: string, timeout?: string }): Promise<void> {
  if (opts.data != null && opts.dataFile != null) throw new PraasError('BAD_REQUEST', 'give --data or --data-file, not both')
  const timeoutMs = opts.timeout != null ? Number(opts.timeout) : undefined
  if (timeoutMs != null && !(Number.isInteger(timeoutMs) && timeoutMs > 0)) {
    throw new PraasError('BAD_REQUEST', '--timeout takes a positive number of ms')
  }
  const data = opts.dataFile != null ? await readFile(opts.dataFile) : opts.data
  await writeOut(await withClient(opts, async client => await client.invoke(pid, fn, data, { timeoutMs })))
}

export async function ps (opts: ClusterOptions & { json?: boolean }): Promise<void> {
  const list = await withClient(opts, async client => await client.list())
  if (opts.json === true) return await writeOut(JSON.stringify(list) + '\n')
  const rows = [['PID', 'APP', 'STATUS', 'NODE'], ...list.map(p => [p.pid, p.app, p.status, p.node])]
  const widths = rows[0].map((_, i) => Math.max(...rows.map(r => r[i].length)))
  await writeOut(rows.map(r => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n')
}

export async function status (opts: ClusterOptions & { json?: boolean }): Promise<void> {
  const mesh = await withClient(opts, async client => await client.status())
  if (opts.json === true) return await writeOut(JSON.stringify(mesh) + '\n')
  await writeOut(`leader: ${mesh.leader ?? '(none elected)'}  term: ${mesh.term}\n` +
    mesh.nodes.map(node => `${node.peerId}  load ${node.load}  ${node.addrs.join(' ')}\n`).join(''))
}

/** `praas delete` (a reserved word in JavaScript). */
export async function remove (pid: string, opts: ClusterOptions): Promise<void> {
  await withClient(opts, async client => { await client.delete(pid) })
}

export async function swap (pid: string, opts: ClusterOptions): Promise<void> {
  await withClient(opts, async client => { await client.swap(pid) })
}

export async function migrate (pid: string, opts: ClusterOptions & { to: string }): Promise<void> {
  await withClient(opts, async client => { await client.migrate(pid, opts.to) })
}
