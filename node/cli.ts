import '../protocol/polyfill.js'
import { Command, Option } from 'commander'
import { readFile } from 'node:fs/promises'
import { Client } from '../sdk/index.js'
import { PraasError, toPraasError } from '../protocol/index.js'
import { attenuateToken, inspectToken, isRight, issueToken, parseDuration, rightsFromBits, tokenId } from '../protocol/token.js'
import { readClusterKey } from './trust/cluster-files.js'
import type { Caveats, Right } from '../protocol/token.js'
import { DEFAULT_FUNCTION_TIMEOUT_MS, DEFAULT_MAILBOX_BYTES, DEFAULT_REPLICAS, DEFAULT_SWAP_AFTER_MS, startNode } from './node.js'

function collect (value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

function bootstrapOf (opts: { bootstrap?: string[] }): string[] {
  if (opts.bootstrap != null && opts.bootstrap.length > 0) return opts.bootstrap
  return (process.env.PRAAS_BOOTSTRAP ?? '').split(',').map(s => s.trim()).filter(s => s !== '')
}

async function readSwarmKey (path: string | undefined): Promise<Uint8Array | undefined> {
  return path == null ? undefined : await readFile(path)
}

const bootstrapOption = (): Option => new Option('--bootstrap <multiaddr>', 'a node of the cluster (repeatable; default $PRAAS_BOOTSTRAP, comma separated)').argParser(collect)
const tokenOption = (): Option => new Option('--token <token>', 'what this client may do (default $PRAAS_TOKEN, else ./.praas/admin.token)')

/** The caller's token: --token, else $PRAAS_TOKEN, else ./.praas/admin.token (the node `npm start` runs wrote it). */
async function tokenOf (opts: { token?: string }): Promise<string | undefined> {
  if (opts.token != null && opts.token !== '') return opts.token.trim()
  if (process.env.PRAAS_TOKEN != null && process.env.PRAAS_TOKEN !== '') return process.env.PRAAS_TOKEN.trim()
  const stored = await readFile('.praas/admin.token', 'utf8').catch(() => undefined)
  return stored?.trim()
}
const swarmKeyOption = (): Option => new Option('--swarm-key <file>', 'the cluster\'s pnet swarm key')

/** Runs a command that talks to the cluster through a Client, and always closes it. */
async function withClient<T> (opts: { bootstrap?: string[], swarmKey?: string, token?: string }, fn: (client: Client) => Promise<T>): Promise<T> {
  const bootstrap = bootstrapOf(opts)
  if (bootstrap.length === 0) throw new PraasError('BAD_REQUEST', 'no bootstrap node: pass --bootstrap MULTIADDR or set PRAAS_BOOTSTRAP')
  const client = await Client.connect({ bootstrap, swarmKey: await readSwarmKey(opts.swarmKey), token: await tokenOf(opts) })
  try {
    return await fn(client)
  } finally {
    await client.close()
  }
}

function fail (err: unknown): never {
  const error = toPraasError(err, 'BAD_REQUEST')
  process.stderr.write(`error ${error.code}: ${error.message.split('\n')[0]}\n`)
  process.exit(1)
}

const program = new Command('praas')
  .description('Process-as-a-Service on a peer-to-peer libp2p mesh')
  .showHelpAfterError()
  .configureOutput({ writeOut: (s) => process.stderr.write(s), writeErr: (s) => process.stderr.write(s) })

program.command('node')
  .description('run a node until SIGINT or SIGTERM; `praas node remove PEERID` takes a member out of the cluster for good')
  .argument('[action]', '`remove` to take a member out (needs the admin right)')
  .argument('[peerId]', 'with remove: the member\'s peer id')
  .addOption(new Option('--listen <multiaddr>', 'address to listen on (repeatable; default TCP and QUIC port 4001)').argParser(collect))
  .addOption(bootstrapOption())
  .option('--join <token>', 'join the cluster of --bootstrap with this node token (an empty data dir without it starts a new cluster)')
  .addOption(tokenOption())
  .option('--max-apps-per-client <n>', 'app names one client may hold', '64')
  .option('--max-processes-per-client <n>', 'processes of one client this node hosts at most', '10000')
  .option('--data-dir <dir>', 'identity, apps and node.json', './.praas')
  .option('--apps <dir>', 'load every app module of this folder at start')
  .addOption(swarmKeyOption())
  .option('--function-timeout <ms>', 'longest a function may run', String(DEFAULT_FUNCTION_TIMEOUT_MS))
  .option('--mailbox-limit <bytes>', 'byte limit of one mailbox; senders to a full one wait', String(DEFAULT_MAILBOX_BYTES))
  .option('--replicas <n>', 'copies of each process\'s state, this node\'s included (1: no replication)', String(DEFAULT_REPLICAS))
  .option('--swap-after <ms>', 'swap a process idle this long (0: never)', String(DEFAULT_SWAP_AFTER_MS))
  .action(async (action: string | undefined, peerId: string | undefined, opts: { listen?: string[], bootstrap?: string[], join?: string, token?: string, dataDir: string, apps?: string, swarmKey?: string, functionTimeout: string, mailboxLimit: string, replicas: string, swapAfter: string, maxAppsPerClient: string, maxProcessesPerClient: string }) => {
    if (action != null) {
      if (action !== 'remove' || peerId == null) throw new PraasError('BAD_REQUEST', 'usage: praas node remove PEERID (or praas node [options] to run a node)')
      await withClient(opts, async client => { await client.removeNode(peerId) })
      process.stderr.write(`removed ${peerId} from the cluster\n`)
      return
    }
    const maxAppsPerClient = Number(opts.maxAppsPerClient)
    const maxProcessesPerClient = Number(opts.maxProcessesPerClient)
    if (!Number.isInteger(maxAppsPerClient) || maxAppsPerClient < 1 || !Number.isInteger(maxProcessesPerClient) || maxProcessesPerClient < 1) {
      throw new PraasError('BAD_REQUEST', '--max-apps-per-client and --max-processes-per-client take positive numbers')
    }
    const replicas = Number(opts.replicas)
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > 16) throw new PraasError('BAD_REQUEST', '--replicas takes a number from 1 to 16')
    const swapAfterMs = Number(opts.swapAfter)
    if (!Number.isInteger(swapAfterMs) || swapAfterMs < 0) throw new PraasError('BAD_REQUEST', '--swap-after takes a number of ms (0: never)')
    const mailboxBytes = Number(opts.mailboxLimit)
    if (!Number.isInteger(mailboxBytes) || mailboxBytes <= 0) throw new PraasError('BAD_REQUEST', '--mailbox-limit takes a positive number of bytes')
    const functionTimeoutMs = Number(opts.functionTimeout)
    if (!Number.isInteger(functionTimeoutMs) || functionTimeoutMs <= 0) throw new PraasError('BAD_REQUEST', '--function-timeout takes a positive number of ms')
    const node = await startNode({
      dataDir: opts.dataDir,
      listen: opts.listen,
      bootstrap: bootstrapOf(opts),
      join: opts.join,
      maxAppsPerClient,
      maxProcessesPerClient,
      appsDir: opts.apps,
      swarmKey: await readSwarmKey(opts.swarmKey),
      functionTimeoutMs,
      mailboxBytes,
      replicas,
      swapAfterMs
    })
    process.stderr.write(`praas node ${node.peerId} of cluster ${node.cluster}\n${node.addrs.map(a => `  listening on ${a}\n`).join('')}`)
    let stopping = false
    const stop = (signal: string): void => {
      if (stopping) return
      stopping = true
      process.stderr.write(`${signal}: stopping\n`)
      // Stopping swaps every process out first (disk and replicas): give big states time.
      const force = setTimeout(() => { process.exit(1) }, 120_000)
      force.unref()
      node.stop().then(() => { process.exit(0) }, (err: Error) => { fail(err) })
    }
    process.on('SIGINT', () => { stop('SIGINT') })
    process.on('SIGTERM', () => { stop('SIGTERM') })
  })

program.command('deploy')
  .description('upload a single-file ES module as app APP, with the capabilities and limits of its sandbox')
  .argument('<app>').argument('<file>')
  .addOption(new Option('--allow <grant>', 'a capability: exec:PROGRAM (ctx.exec) or net:HOST:PORT (ctx.connect); repeatable').argParser(collect))
  .option('--memory <mib>', 'memory of one isolate of the app, heap and array buffers (default 128)')
  .option('--cpu-ms <ms>', 'CPU time one call may use (default: only the time limit)')
  .addOption(bootstrapOption()).addOption(swarmKeyOption()).addOption(tokenOption())
  .action(async (app: string, file: string, opts) => {
    const source = await readFile(file)
    const whole = (value: string | undefined, what: string): number | undefined => {
      if (value == null) return undefined
      const n = Number(value)
      if (!Number.isInteger(n) || n <= 0) throw new PraasError('BAD_REQUEST', `${what} takes a positive whole number`)
      return n
    }
    const options = { allow: opts.allow as string[] | undefined, memoryMiB: whole(opts.memory, '--memory'), cpuMs: whole(opts.cpuMs, '--cpu-ms') }
    await withClient(opts, async client => { await client.deploy(app, source, options) })
    process.stderr.write(`deployed ${app}\n`)
  })

program.command('create')
  .description('create a process of APP and print its pid')
  .argument('<app>')
  .option('--pid <pid>', 'the pid to give it')
  .option('--node <peerId>', 'the node to place it on')
  .addOption(bootstrapOption()).addOption(swarmKeyOption()).addOption(tokenOption())
  .action(async (app: string, opts) => {
    const pid = await withClient(opts, async client => await client.create(app, { pid: opts.pid, node: opts.node }))
    process.stdout.write(`${pid}\n`)
  })

program.command('invoke')
  .description('invoke FN of process PID and write the raw result to stdout')
  .argument('<pid>').argument('<fn>')
  .option('--data <string>', 'the input, as UTF-8')
  .option('--data-file <file>', 'the input, read from a file')
  .option('--timeout <ms>', 'fail with TIMEOUT after this long')
  .addOption(bootstrapOption()).addOption(swarmKeyOption()).addOption(tokenOption())
  .action(async (pid: string, fn: string, opts) => {
    if (opts.data != null && opts.dataFile != null) throw new PraasError('BAD_REQUEST', 'give --data or --data-file, not both')
    const data = opts.dataFile != null ? await readFile(opts.dataFile) : opts.data
    const timeoutMs = opts.timeout != null ? Number(opts.timeout) : undefined
    const result = await withClient(opts, async client => await client.invoke(pid, fn, data, { timeoutMs }))
    await new Promise<void>((resolve, reject) => { process.stdout.write(result, err => { err != null ? reject(err) : resolve() }) })
  })

program.command('ps')
  .description('list processes: pid, app, status, hosting node')
  .option('--json', 'print a JSON array of {pid, app, status, node}')
  .addOption(bootstrapOption()).addOption(swarmKeyOption()).addOption(tokenOption())
  .action(async (opts) => {
    const list = await withClient(opts, async client => await client.list())
    if (opts.json === true) {
      process.stdout.write(JSON.stringify(list) + '\n')
      return
    }
    const rows = [['PID', 'APP', 'STATUS', 'NODE'], ...list.map(p => [p.pid, p.app, p.status, p.node])]
    const widths = rows[0].map((_, i) => Math.max(...rows.map(r => r[i].length)))
    process.stdout.write(rows.map(r => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n')
  })

program.command('status')
  .description('the mesh: nodes, leader, per-node load')
  .option('--json', 'print {leader, term, nodes: [{peerId, addrs, load}]}')
  .addOption(bootstrapOption()).addOption(swarmKeyOption()).addOption(tokenOption())
  .action(async (opts) => {
    const status = await withClient(opts, async client => await client.status())
    if (opts.json === true) {
      process.stdout.write(JSON.stringify(status) + '\n')
      return
    }
    process.stdout.write(`leader: ${status.leader ?? '(none elected)'}  term: ${status.term}\n`)
    for (const node of status.nodes) process.stdout.write(`${node.peerId}  load ${node.load}  ${node.addrs.join(' ')}\n`)
  })

program.command('delete')
  .description('delete a process and its state')
  .argument('<pid>')
  .addOption(bootstrapOption()).addOption(swarmKeyOption()).addOption(tokenOption())
  .action(async (pid: string, opts) => {
    await withClient(opts, async client => { await client.delete(pid) })
  })

program.command('swap')
  .description('persist a process (state and unread messages) and free its compute; the next call brings it back')
  .argument('<pid>')
  .addOption(bootstrapOption()).addOption(swarmKeyOption()).addOption(tokenOption())
  .action(async (pid: string, opts) => {
    await withClient(opts, async client => { await client.swap(pid) })
  })

program.command('migrate')
  .description('move a running process to another node; calls meanwhile wait and run there')
  .argument('<pid>')
  .requiredOption('--to <peerId>', 'the peer id of the target node')
  .addOption(bootstrapOption()).addOption(swarmKeyOption()).addOption(tokenOption())
  .action(async (pid: string, opts) => {
    await withClient(opts, async client => { await client.migrate(pid, opts.to) })
  })

const token = program.command('token').description('mint and revoke tokens (SPEC "Trust")')

token.command('create')
  .description('mint a token with at most the rights of yours (printed on stdout; its id on stderr)')
  .requiredOption('--role <role>', 'node (to join a node with) or client')
  .option('--rights <list>', 'client rights, comma separated (deploy,create,invoke,send,recv,list,swap,migrate,delete,status,admin); default: all of yours')
  .option('--app <app>', 'limit it to an app (repeatable)', collect)
  .option('--pid <pid>', 'limit it to a process (repeatable)', collect)
  .option('--ttl <duration>', 'its life, e.g. 15m, 12h, 30d', '30d')
  .option('--cluster-key <file>', 'mint from the cluster\'s owner key (DATA_DIR/cluster.key) instead of a token')
  .addOption(tokenOption())
  .action(async (opts: { role: string, rights?: string, app?: string[], pid?: string[], ttl: string, clusterKey?: string, token?: string }) => {
    if (opts.role !== 'node' && opts.role !== 'client') throw new PraasError('BAD_REQUEST', '--role is node or client')
    const rights = opts.rights?.split(',').map(r => r.trim()).filter(r => r !== '')
    const unknown = rights?.filter(r => !isRight(r)) ?? []
    if (unknown.length > 0) throw new PraasError('BAD_REQUEST', `unknown right ${unknown.join(', ')}`)
    const caveats: Caveats = { role: opts.role, rights: rights as Right[] | undefined, apps: opts.app, pids: opts.pid, ttlMs: parseDuration(opts.ttl) }
    let minted: string
    if (opts.clusterKey != null) {
      minted = issueToken(await readClusterKey(opts.clusterKey), caveats)
    } else {
      const parent = await tokenOf(opts)
      if (parent == null) throw new PraasError('UNAUTHORIZED', 'no token to mint from: pass --token, set PRAAS_TOKEN, or run where ./.praas/admin.token is')
      minted = attenuateToken(parent, caveats)
    }
    const grant = inspectToken(minted)
    process.stdout.write(`${minted}\n`)
    process.stderr.write(`token ${tokenId(minted)}: ${grant.role}${grant.role === 'client' ? ` ${rightsFromBits(grant.rights).join(',')}` : ''}, expires ${Number.isFinite(grant.notAfter) ? new Date(grant.notAfter).toISOString() : 'never'}\n`)
  })

token.command('revoke')
  .description('revoke a token, given whole or by its id (by id needs the admin right); every node refuses it within seconds')
  .argument('<tokenOrId>')
  .addOption(bootstrapOption()).addOption(swarmKeyOption()).addOption(tokenOption())
  .action(async (tokenOrId: string, opts) => {
    const id = await withClient(opts, async client => await client.revoke(tokenOrId))
    process.stderr.write(`revoked ${id}\n`)
  })

program.parseAsync(process.argv).then(() => {
  const command = process.argv[2]
  if (command !== 'node' || process.argv[3] === 'remove') process.exit(0)
}, fail)
