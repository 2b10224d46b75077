import { CtlRequest, PraasError, SingleFlight, toPraasError } from '../../protocol/index.js'
import { laterVersion, manifestOf, versionHash } from '../runtime/index.js'
import type { AppEntry } from '../../protocol/pb/messages.js'
import type { AppRegistry, AppVersion } from '../runtime/index.js'
import type { AppOwners } from '../trust/quotas.js'
import type { Peers } from './peers.js'
import type { AbortOptions, Logger } from '@libp2p/interface'

/** How long one member may take to list its apps, or to hand one over. */
const ASK_TIMEOUT_MS = 3_000
const FETCH_TIMEOUT_MS = 15_000
/** Apps fetched at once during a sync. */
const FETCH_CONCURRENCY = 4
/** A sync with one live member, now and then: a deploy missed while cut off from the others, and not seen since. */
const ANTI_ENTROPY_MS = 60_000
/** A client's request for an app this node lacks makes it ask the members at most this often. */
const ON_DEMAND_SYNC_MS = 2_000
const MAX_SUPERSEDED = 1_024

export interface AppSyncInit {
  apps: AppRegistry
  owners: AppOwners
  /** The members, and control requests to them. */
  peers: Pick<Peers, 'list' | 'request'>
  /** The members heard from lately (heartbeats), for the occasional sync. */
  live(): string[]
  log: Logger
}

/**
 * Every node holds every app, at the newest version of each name (the highest deploy serial,
 * apps.ts `laterVersion`): a deploy reaches the nodes live at the time, and a node that joins
 * later, or was down or cut off during a deploy, asks the members which apps they hold (APPS)
 * and fetches what it lacks or holds in an older version (FETCH_APP), from any member that holds
 * that version, accepting it only if the source and grants hash to the version's hash. It learns
 * each app's owner (quotas.ts) with it. A node syncs before it says it is ready (node.json), when
 * a member joins or comes back, when a client asks it for an app it lacks, and now and then.
 */
export class AppSync {
  private readonly syncing = new SingleFlight<number>()
  private readonly fetching = new SingleFlight<AppVersion>()
  private timer?: ReturnType<typeof setInterval>

  constructor (private readonly init: AppSyncInit) {}

  /** The apps this node holds: what it answers APPS with. */
  catalog (): AppEntry[] {
    return this.init.apps.list().map(app => this.entry(app))
  }

  entry (app: AppVersion): AppEntry {
    return { name: app.name, hash: app.hash, serial: app.serial, owner: this.init.owners.get(app.name) ?? '' }
  }

  start (): void {
    this.timer = setInterval(() => {
      const live = this.init.live()
      if (live.length === 0) return
      void this.sync({ from: [live[Math.floor(Math.random() * live.length)]] }).catch(() => {})
    }, ANTI_ENTROPY_MS)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
  }

  /**
   * A sync with every member, asked for by a client's request for an app this node lacks: at
   * most one every ON_DEMAND_SYNC_MS, so that requests for names no one deployed cost the
   * cluster little.
   */
  async syncOnDemand (options: AbortOptions = {}): Promise<void> {
    const now = Date.now()
    if (now - this.lastOnDemand < ON_DEMAND_SYNC_MS) return
    this.lastOnDemand = now
    await this.sync(options).catch((err: Error) => { this.init.log('sync on demand: %s', err.message) })
  }

  private lastOnDemand = 0

  /**
   * Asks members (`from`, default every member this node knows) for their apps, and fetches each
   * version that comes after the one held here. Resolves with the number of versions installed;
   * a member that does not answer is left out (logged). One sync at a time (a burst shares it).
   */
  async sync (options: AbortOptions & { from?: string[] } = {}): Promise<number> {
    const from = options.from ?? this.init.peers.list().map(p => p.id)
    const key = options.from == null ? '*' : from.join(',')
    return await this.syncing.run(key, async () => await this.syncFrom(from, options))
  }

  private async syncFrom (members: string[], options: AbortOptions): Promise<number> {
    const wanted = new Map<string, { entry: AppEntry, holders: string[] }>()
    await Promise.all(members.map(async member => {
      let apps: AppEntry[]
      try {
        apps = (await this.init.peers.request(member, { op: CtlRequest.Op.APPS }, { signal: signal(ASK_TIMEOUT_MS, options) })).apps
      } catch (err) {
        this.init.log('%s did not list its apps: %s', member, (err as Error).message)
        return
      }
      for (const entry of apps) {
        const held = this.init.apps.get(entry.name)
        if (held != null && !laterVersion(entry, held)) continue
        const seen = wanted.get(entry.name)
        if (seen == null || laterVersion(entry, seen.entry)) wanted.set(entry.name, { entry, holders: [member] })
        else if (seen.entry.hash === entry.hash) seen.holders.push(member)
      }
    }))
    const queue = [...wanted.values()]
    let installed = 0
    await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, queue.length) }, async () => {
      for (let next = queue.shift(); next != null; next = queue.shift()) {
        try {
          await this.install(next.entry, next.holders, options)
          installed++
        } catch (err) {
          this.init.log.error('could not fetch app %s (%s) from %s: %s', next.entry.name, next.entry.hash, next.holders.join(' '), (err as Error).message)
        }
      }
    }))
    return installed
  }

  /**
   * Installs a version of an app this node lacks, fetched from the first of `holders` that has it
   * (then from any other member), checked against its hash. A version older than the one held
   * here leaves that one current.
   */
  async install (entry: Pick<AppEntry, 'name' | 'hash'> & Partial<AppEntry>, holders: string[], options: AbortOptions = {}): Promise<AppVersion> {
    const held = this.init.apps.get(entry.name)
    if (held?.hash === entry.hash) {
      // the same version, deployed again since: only its place in the order moves on
      if (entry.owner != null && entry.owner !== '') this.init.owners.set(entry.name, entry.owner)
      if (entry.serial != null && entry.serial > held.serial) return await this.init.apps.deploy(held.name, held.source, held.manifest, entry.serial)
      return held
    }
    const key = `${entry.name}@${entry.hash}`
    // a version fetched once and found older than the one held (a placing node behind on deploys) is not fetched again
    if (held != null && this.superseded.has(key)) return held
    const version = await this.fetching.run(key, async () => await this.fetch(entry, holders, options))
    if (version.hash !== entry.hash) {
      if (this.superseded.size >= MAX_SUPERSEDED) this.superseded.delete(this.superseded.values().next().value!)
      this.superseded.add(key)
    }
    return version
  }

  /** `name@hash` of versions found older than the one held here. */
  private readonly superseded = new Set<string>()

  private async fetch (entry: Pick<AppEntry, 'name' | 'hash'>, holders: string[], options: AbortOptions): Promise<AppVersion> {
    const { name, hash } = entry
    const others = this.init.peers.list().map(p => p.id).filter(id => !holders.includes(id))
    let last: PraasError = new PraasError('NOT_FOUND', `no member holds app ${name} at version ${hash}`)
    for (const holder of [...holders, ...others]) {
      let response
      try {
        response = await this.init.peers.request(holder, { op: CtlRequest.Op.FETCH_APP, app: name, hash }, { signal: signal(FETCH_TIMEOUT_MS, options) })
      } catch (err) {
        last = toPraasError(err)
        options.signal?.throwIfAborted()
        continue
      }
      // the grants and limits are part of the hash: a member cannot hand out more than the deploy granted
      const manifest = manifestOf({ allow: response.allow, memoryMiB: response.memoryMib, cpuMs: response.cpuMs })
      if (versionHash(response.source, manifest) !== hash) {
        last = new PraasError('UNAUTHORIZED', `app ${name} fetched from ${holder} does not match its hash`)
        this.init.log.error(last.message)
        continue
      }
      const about = response.apps.find(a => a.name === name && a.hash === hash)
      if (about != null && about.owner !== '') this.init.owners.set(name, about.owner)
      const version = await this.init.apps.deploy(name, response.source, manifest, about?.serial ?? 0)
      this.init.log('fetched app %s (%s) from %s', name, hash, holder)
      return version
    }
    throw last
  }
}

function signal (ms: number, options: AbortOptions): AbortSignal {
  return AbortSignal.any([AbortSignal.timeout(ms), ...(options.signal != null ? [options.signal] : [])])
}
