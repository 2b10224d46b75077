/**
 * The `praas` command line. Every command and option is declared here, which costs little;
 * what a command does lives in a module of its group, loaded only when that command runs
 * (client-commands.ts for the commands that talk to a cluster, run-node.ts for `praas node`).
 * A new command group is a module of its own and a few declarations below.
 */
import '../../protocol/polyfill.js'
import { Command, CommanderError, Option } from 'commander'
import { errorLine } from './errors.js'
import { bootstrapOption, envName, listOption, pathOption, swarmKeyOption, tokenOption } from './options.js'
import type { RunNode } from './run-node.js'

export interface CliLoaders {
  /**
   * Loads `praas node`'s runner. The entry point (bin/praas.js) passes it in: the rest of the CLI
   * may run from a bundle, while the node runs from the compiled modules, whose worker threads
   * are files of their own.
   */
  runNode(): Promise<{ runNode: RunNode }>
}

// The node's defaults, repeated here so that `--help` does not load the node (node/node.ts holds the same values).
const NODE_DEFAULTS = { functionTimeout: '60000', mailboxLimit: String(64 * 1024 * 1024), replicas: '2', swapAfter: String(5 * 60_000), maxAppsPerClient: '64', maxProcessesPerClient: '10000' }

const clientCommands = async (): Promise<typeof import('./client-commands.js')> => await import('./client-commands.js')
const tokenCommands = async (): Promise<typeof import('./token-commands.js')> => await import('./token-commands.js')

/** The command line, with every command declared; exported for tests. */
export function program (loaders: CliLoaders): Command {
  const praas = new Command('praas')
    .description('Process-as-a-Service on a peer-to-peer libp2p mesh')
    // usage mistakes end as one line (errorLine), help goes to stdout
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s), outputError: () => {} })

  const node = praas.command('node')
    .description('run a node until SIGINT or SIGTERM; `praas node remove PEERID` takes a member out of the cluster for good (admin)')
    .argument('[action]', '`remove`: take the member PEERID out of the cluster')
    .argument('[peerId]', 'with remove: the member\'s peer id')
    .addOption(tokenOption())
    .action(async (action: string | undefined, peerId: string | undefined, opts: Record<string, unknown>, command: Command) => {
      if (action != null) {
        if (action !== 'remove' || peerId == null) throw new CommanderError(1, 'praas.usage', 'usage: praas node remove PEERID, or praas node [options] to run a node')
        await (await clientCommands()).removeNode(peerId, opts)
        return
      }
      const { runNode } = await loaders.runNode()
      await runNode(command)
    })
  // every option of the node has an environment variable too: --data-dir is PRAAS_DATA_DIR
  // (commander reads it only for options that name it when they are added)
  const nodeOptions = [
    pathOption('--config <file>', 'a JSON file of options (keys: the long option names in camelCase); a flag beats the environment, which beats the file'),
    listOption('--listen <multiaddr>', 'address to listen on (repeatable; default TCP and QUIC port 4001)'),
    bootstrapOption(),
    pathOption('--data-dir <dir>', 'identity, apps and node.json').default('./.praas'),
    pathOption('--apps <dir>', 'load every app module of this folder at start'),
    swarmKeyOption(),
    new Option('--join <token>', 'join the cluster of --bootstrap with this node token (an empty data dir without it starts a new cluster)'),
    new Option('--max-apps-per-client <n>', 'app names one client (token) may hold').default(NODE_DEFAULTS.maxAppsPerClient),
    new Option('--max-processes-per-client <n>', 'processes of one client this node hosts at most').default(NODE_DEFAULTS.maxProcessesPerClient),
    new Option('--http <host:port>', 'the HTTP endpoint: /metrics, /healthz and the web view at / ("off": none; default 127.0.0.1:4080, or a free port if that is taken)'),
    new Option('--log-level <level>', 'the least severe log line written').choices(['error', 'warn', 'info', 'debug']).default('info'),
    new Option('--log-format <format>', 'log lines as JSON objects, or for people (default: pretty on a terminal, else json)').choices(['json', 'pretty']),
    new Option('--function-timeout <ms>', 'longest a function may run').default(NODE_DEFAULTS.functionTimeout),
    new Option('--mailbox-limit <bytes>', 'byte limit of one mailbox; senders to a full one wait').default(NODE_DEFAULTS.mailboxLimit),
    new Option('--replicas <n>', 'copies of each process\'s state, this node\'s included (1: no replication)').default(NODE_DEFAULTS.replicas),
    new Option('--swap-after <ms>', 'swap a process idle this long (0: never)').default(NODE_DEFAULTS.swapAfter)
  ]
  for (const option of nodeOptions) node.addOption(option.envVar == null ? option.env(envName(option)) : option)

  praas.command('deploy')
    .description('upload a single-file ES module as app APP, with the capabilities and limits of its sandbox')
    .argument('<app>').argument('<file>')
    .addOption(listOption('--allow <grant>', 'a capability: exec:PROGRAM (ctx.exec) or net:HOST:PORT (ctx.connect); repeatable; needs the admin right'))
    .option('--memory <mib>', 'memory of one isolate of the app, heap and array buffers (default 128)')
    .option('--cpu-ms <ms>', 'CPU time one call may use (default: only the time limit)')
    .addOption(bootstrapOption()).addOption(swarmKeyOption()).addOption(tokenOption())
    .action(async (app: string, file: string, opts) => { await (await clientCommands()).deploy(app, file, opts) })

  praas.command('create')
    .description('create a process of APP and print its pid')
    .argument('<app>')
    .option('--pid <pid>', 'the pid to give it')
    .option('--node <peerId>', 'the node to place it on')
    .addOption(bootstrapOption()).addOption(swarmKeyOption()).addOption(tokenOption())
    .action(async (app: string, opts) => { await (await clientCommands()).create(app, opts) })

  praas.command('invoke')
    .description('invoke FN of process PID and write the raw result to stdout')
    .argument('<pid>').argument('<fn>')
    .option('--data <string>', 'the input, as UTF-8')
    .option('--data-file <file>', 'the input, read from a file')
    .option('--timeout <ms>', 'fail with TIMEOUT after this long')
    .addOption(bootstrapOption()).addOption(swarmKeyOption()).addOption(tokenOption())
    .action(async (pid: string, fn: string, opts) => { await (await clientCommands()).invoke(pid, fn, opts) })

  praas.command('ps')
    .description('list processes: pid, app, status, hosting node')
    .option('--json', 'print a JSON array of {pid, app, status, node}')
    .addOption(bootstrapOption()).addOption(swarmKeyOption()).addOption(tokenOption())
    .action(async (opts) => { await (await clientCommands()).ps(opts) })

  praas.command('status')
    .description('the mesh: nodes, leader, per-node load')
    .option('--json', 'print {leader, term, nodes: [{peerId, addrs, load}]}')
    .addOption(bootstrapOption()).addOption(swarmKeyOption()).addOption(tokenOption())
    .action(async (opts) => { await (await clientCommands()).status(opts) })

  praas.command('delete')
    .description('delete a process and its state')
    .argument('<pid>')
    .addOption(bootstrapOption()).addOption(swarmKeyOption()).addOption(tokenOption())
    .action(async (pid: string, opts) => { await (await clientCommands()).remove(pid, opts) })

  praas.command('swap')
    .description('persist a process (state and unread messages) and free its compute; the next call brings it back')
    .argument('<pid>')
    .addOption(bootstrapOption()).addOption(swarmKeyOption()).addOption(tokenOption())
    .action(async (pid: string, opts) => { await (await clientCommands()).swap(pid, opts) })

  praas.command('migrate')
    .description('move a running process to another node; calls meanwhile wait and run there')
    .argument('<pid>')
    .requiredOption('--to <peerId>', 'the peer id of the target node')
    .addOption(bootstrapOption()).addOption(swarmKeyOption()).addOption(tokenOption())
    .action(async (pid: string, opts) => { await (await clientCommands()).migrate(pid, opts) })

  const token = praas.command('token').description('mint and revoke tokens (see docs/security.md)')
  token.command('create')
    .description('mint a token with at most the rights of yours (printed on stdout; its id on stderr)')
    .requiredOption('--role <role>', 'node (to join a node with) or client')
    .option('--rights <list>', 'client rights, comma separated (deploy,create,invoke,send,recv,list,swap,migrate,delete,status,admin); default: all of yours')
    .addOption(listOption('--app <app>', 'limit it to an app (repeatable)'))
    .addOption(listOption('--pid <pid>', 'limit it to a process (repeatable)'))
    .option('--ttl <duration>', 'its life, e.g. 15m, 12h, 30d', '30d')
    .addOption(pathOption('--cluster-key <file>', 'mint from the cluster\'s owner key (DATA_DIR/cluster.key) instead of a token'))
    .addOption(tokenOption())
    .action(async (opts) => { await (await tokenCommands()).create(opts) })
  token.command('revoke')
    .description('revoke a token, given whole or by its id (by id needs the admin right); every node refuses it within seconds')
    .argument('<tokenOrId>')
    .addOption(bootstrapOption()).addOption(swarmKeyOption()).addOption(tokenOption())
    .action(async (tokenOrId: string, opts) => { await (await clientCommands()).revoke(tokenOrId, opts) })

  return praas
}

/**
 * Runs the command line `argv` (as `process.argv`). Commands other than `node` exit when done
 * (the client's libp2p peer may hold timers); `node` runs until a signal stops it.
 */
export async function main (argv: string[], loaders: CliLoaders): Promise<void> {
  const praas = program(loaders)
  try {
    if (argv.length <= 2) throw new CommanderError(1, 'praas.noCommand', 'no command given (praas --help lists them)')
    await praas.parseAsync(argv)
  } catch (err) {
    if (err instanceof CommanderError && err.exitCode === 0) process.exit(0) // --help, --version
    process.stderr.write(errorLine(err) + '\n')
    process.exit(1)
  }
  if (argv[2] !== 'node' || argv[3] === 'remove') process.exit(0)
}
