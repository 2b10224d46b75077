// A test network of Linux network namespaces: one namespace per host, each with a veth pair to
// a bridge in a namespace of its own, addresses from 198.51.100.0/24 (TEST-NET-2, RFC 5737,
// never routed). Partitions move bridge ports between bridges: a host on a bridge of its own,
// or a group on another bridge, keeps its link up and its address, and its packets to the
// other side vanish, as on a real network that split (no reset, no "unreachable"). Nothing
// touches the namespace the tests run in: every address lives inside the run's namespaces.
//
// Every name carries the run's prefix (`pxn-<os pid>-<random>`), so runs never collide, and a
// run killed before its cleanup is found and removed by the next one (its os pid is dead).
import { execFile, execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { rmSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { ChildProcess, SpawnOptions } from 'node:child_process'

const run = promisify(execFile)

/** Names of every namespace, interface and temp dir of a run start with this, then `<os pid>-`. */
const PREFIX = 'pxn-'
const SUBNET = '198.51.100'
/** Bridge ports are named after hosts inside the bridge namespace: at most 15 characters. */
const HOST_NAME = /^[a-z][a-z0-9]{0,9}$/
const IP_TIMEOUT_MS = 10_000

export interface NetnsHost {
  /** The name the test gives the host (`a`, `n1`…). */
  name: string
  /** Its network namespace. */
  ns: string
  /** Its address on the test network. */
  ip: string
}

async function ip (args: string[], input?: string): Promise<string> {
  if (input == null) return (await run('ip', args, { timeout: IP_TIMEOUT_MS })).stdout
  // `ip -batch -` reads the commands from stdin: several changes in one process
  return await new Promise<string>((resolve, reject) => {
    const child = execFile('ip', args, { timeout: IP_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (err != null) reject(new Error(`ip ${args.join(' ')}: ${stderr || err.message}`)); else resolve(stdout)
    })
    child.stdin!.end(input)
  })
}

let support: Promise<string | undefined> | undefined

/**
 * Why this machine cannot build test networks, or undefined if it can: it tries a namespace, a
 * veth pair and a bridge, as root with iproute2. The answer is kept for the run.
 */
export async function netnsUnsupported (): Promise<string | undefined> {
  support ??= (async () => {
    if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`
    if (process.getuid?.() !== 0) return 'network namespaces need root (CI runs as root)'
    try {
      await run('ip', ['-V'])
    } catch {
      return 'the `ip` command (iproute2) is not installed'
    }
    const probe = `${PREFIX}${process.pid}-probe`
    try {
      await ip(['netns', 'add', probe])
      await ip(['-n', probe, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1'])
      await ip(['-n', probe, 'link', 'add', 'br0', 'type', 'bridge'])
      return undefined
    } catch (err) {
      return `this machine refuses test networks: ${(err as Error).message.trim()}`
    } finally {
      await ip(['netns', 'del', probe]).catch(() => {})
    }
  })()
  return await support
}

/** Is the OS process `pid` alive? */
function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** SIGKILLs every process inside namespace `ns` (they keep a deleted namespace alive otherwise). */
function killInsideSync (ns: string): void {
  let pids: string
  try {
    pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', timeout: IP_TIMEOUT_MS })
  } catch {
    return
  }
  for (const pid of pids.split(/\s+/).filter(p => p !== '')) {
    try { process.kill(Number(pid), 'SIGKILL') } catch {}
  }
}

function deleteNamespacesSync (namespaces: string[]): void {
  for (const ns of namespaces) killInsideSync(ns)
  for (const ns of namespaces) {
    try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: IP_TIMEOUT_MS }) } catch {}
  }
}

/**
 * Removes what runs killed before their cleanup left behind: namespaces (and the processes in
 * them) and temp dirs whose prefix names an OS process that no longer exists.
 */
export function removeLeftovers (): void {
  const dead = (name: string): boolean => {
    const match = new RegExp(`^${PREFIX}(\\d+)-`).exec(name)
    return match != null && Number(match[1]) !== process.pid && !alive(Number(match[1]))
  }
  let listed = ''
  try { listed = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: IP_TIMEOUT_MS }) } catch {}
  deleteNamespacesSync(listed.split('\n').map(l => l.split(' ')[0]).filter(n => n !== '' && dead(n)))
  for (const entry of readdirSync(tmpdir())) {
    if (dead(entry)) rmSync(join(tmpdir(), entry), { recursive: true, force: true })
  }
}

/** Networks not yet destroyed, torn down synchronously if the test process exits or is interrupted. */
const open = new Set<TestNetwork>()
let hooked = false

function hookExit (): void {
  if (hooked) return
  hooked = true
  process.on('exit', () => { for (const net of open) net.destroySync() })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      for (const net of open) net.destroySync()
      // another handler (mocha's) ends the process its own way; else end it as the signal would
      if (process.listenerCount(signal) === 1) process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1))
    })
  }
}

/**
 * A test network. `TestNetwork.create(['a', 'b', 'c'])` builds it; `isolate`, `partition` and
 * `heal` change who reaches whom; `spawn` runs a program inside a host's namespace; `destroy`
 * kills everything inside and removes it all.
 */
export class TestNetwork {
  readonly hosts = new Map<string, NetnsHost>()
  /** Bridge number of each host: hosts on the same bridge reach each other. */
  private readonly bridgeOf = new Map<string, number>()
  private readonly children = new Set<ChildProcess>()
  private destroyed = false

  private constructor (
    /** The run's prefix: every namespace's name starts with it. */
    readonly prefix: string,
    /** The namespace that holds the bridges. */
    readonly bridgeNs: string,
    /** A temp dir for this network's files (node data dirs…), removed with it. */
    readonly dir: string
  ) {}

  /** Builds a network with one namespace per host name, all on one bridge. */
  static async create (names: string[]): Promise<TestNetwork> {
    const reason = await netnsUnsupported()
    if (reason != null) throw new Error(reason)
    if (names.length === 0 || names.length > 200) throw new Error('a test network has 1 to 200 hosts')
    for (const name of names) if (!HOST_NAME.test(name)) throw new Error(`host name ${name}: a lowercase letter, then up to 9 letters or digits`)
    if (new Set(names).size !== names.length) throw new Error('host names must differ')
    hookExit()
    removeLeftovers()
    const prefix = `${PREFIX}${process.pid}-${randomBytes(3).toString('hex')}`
    const dir = await mkdtemp(join(tmpdir(), `${prefix}-`))
    const net = new TestNetwork(prefix, `${prefix}-bridge`, dir)
    open.add(net)
    try {
      await net.build(names)
    } catch (err) {
      await net.destroy()
      throw err
    }
    return net
  }

  private async build (names: string[]): Promise<void> {
    await ip(['netns', 'add', this.bridgeNs])
    // One bridge per host and one more: enough for any partition into groups.
    const bridge = ['link set lo up']
    for (let b = 0; b <= names.length; b++) bridge.push(`link add name br${b} type bridge`, `link set dev br${b} up`)
    await ip(['-n', this.bridgeNs, '-batch', '-'], bridge.join('\n') + '\n')
    for (const [i, name] of names.entries()) {
      const host: NetnsHost = { name, ns: `${this.prefix}-${name}`, ip: `${SUBNET}.${10 + i}` }
      // known before it exists, so that a failure from here on removes it too
      this.hosts.set(name, host)
      await ip(['netns', 'add', host.ns])
      // the pair is made inside the bridge namespace, so no name ever appears in the tests' own
      await ip(['-n', this.bridgeNs, 'link', 'add', 'name', name, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.ns])
      await ip(['-n', this.bridgeNs, 'link', 'set', 'dev', name, 'master', 'br0', 'up'])
      await ip(['-n', host.ns, '-batch', '-'], ['link set lo up', `addr add ${host.ip}/24 dev eth0`, 'link set eth0 up'].join('\n') + '\n')
      this.bridgeOf.set(name, 0)
    }
  }

  host (name: string): NetnsHost {
    const host = this.hosts.get(name)
    if (host == null) throw new Error(`no host ${name} in this network (hosts: ${[...this.hosts.keys()].join(', ')})`)
    return host
  }

  get names (): string[] {
    return [...this.hosts.keys()]
  }

  /**
   * Splits the network: the hosts of each group reach one another and nobody else; the hosts
   * named in no group stay together (with each other only). `partition([['a']])` cuts `a` off
   * from everyone; `partition([['a', 'b'], ['c', 'd']])` splits four hosts two and two.
   */
  async partition (groups: string[][]): Promise<void> {
    const named = groups.flat()
    for (const name of named) this.host(name)
    if (new Set(named).size !== named.length) throw new Error('a host is in two groups')
    const target = new Map<string, number>()
    for (const name of this.names) target.set(name, 0)
    for (const [g, group] of groups.entries()) for (const name of group) target.set(name, g + 1)
    await this.moveTo(target)
  }

  /** Cuts one host off from every other. */
  async isolate (name: string): Promise<void> {
    await this.partition([[name]])
  }

  /** Every host reaches every other again. */
  async heal (): Promise<void> {
    await this.moveTo(new Map(this.names.map(n => [n, 0])))
  }

  /** Which hosts reach each other now: the groups, largest first. */
  groups (): string[][] {
    const by = new Map<number, string[]>()
    for (const [name, b] of this.bridgeOf) by.set(b, [...by.get(b) ?? [], name]) // a handful of hosts
    return [...by.values()].sort((x, y) => y.length - x.length)
  }

  private async moveTo (target: Map<string, number>): Promise<void> {
    if (this.destroyed) throw new Error('the test network is destroyed')
    const commands = [...target].filter(([name, b]) => this.bridgeOf.get(name) !== b).map(([name, b]) => `link set dev ${name} master br${b}`)
    if (commands.length === 0) return
    await ip(['-n', this.bridgeNs, '-batch', '-'], commands.join('\n') + '\n')
    for (const [name, b] of target) this.bridgeOf.set(name, b)
  }

  /**
   * Starts `command` inside a host's namespace (`ip netns exec`, which execs it: the child is
   * the program itself, so its pid and signals are the program's). Killed when the network goes.
   */
  spawn (name: string, command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    if (this.destroyed) throw new Error('the test network is destroyed')
    const child = spawn('ip', ['netns', 'exec', this.host(name).ns, command, ...args], options)
    this.children.add(child)
    child.once('exit', () => this.children.delete(child))
    return child
  }

  /** Kills every process inside the network and removes its namespaces and files. */
  async destroy (): Promise<void> {
    if (this.destroyed) return
    const exits = [...this.children].map(async child => await new Promise<void>(resolve => {
      if (child.exitCode != null || child.signalCode != null) { resolve(); return }
      child.once('exit', () => { resolve() })
    }))
    this.destroySync()
    // the directories only once the processes writing into them are gone
    await Promise.race([Promise.all(exits), new Promise(resolve => setTimeout(resolve, 5000))])
    await rm(this.dir, { recursive: true, force: true })
  }

  /** The same, synchronously (for exit and signal handlers); leaves the temp dir to `destroy` or the next run. */
  destroySync (): void {
    if (this.destroyed) return
    this.destroyed = true
    open.delete(this)
    for (const child of this.children) child.kill('SIGKILL')
    deleteNamespacesSync([...[...this.hosts.values()].map(h => h.ns), this.bridgeNs])
    try { rmSync(this.dir, { recursive: true, force: true }) } catch {}
  }
}
