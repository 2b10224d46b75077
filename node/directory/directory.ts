import { setMaxListeners } from 'node:events'
import { TypedEventEmitter } from 'main-event'
import { withTimeout } from '../../protocol/cancellation.js'
import { PraasError } from '../../protocol/errors.js'
import { compareLocations, locationKey, signLocation, verifyLocation } from '../../protocol/location.js'
import { fetchLocation, fetchLocationFast } from '../../protocol/resolve.js'
import { LocationCache } from './cache.js'
import { systemClock } from '../cluster/swim/clock.js'
import type { Timer } from '../cluster/swim/types.js'
import type { ActivationEpoch, Location, LocationStatus } from '../../protocol/location.js'
import type { AbortOptions, ComponentLogger, ContentRouting, Logger, PeerId, PrivateKey, Startable } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface DirectoryComponents {
  peerId: PeerId
  privateKey: PrivateKey
  /** The DHT service: puts go through it directly, to learn how many peers took the record. */
  dht: Pick<KadDHT, 'put' | 'get'> & { routingTable?: { size: number } }
  contentRouting: ContentRouting
  addressManager: { getAddresses(): Multiaddr[] }
  logger: ComponentLogger
  /** Records count only when a member signed them and a member granted their epoch. */
  roster: { isMember(peerId: string): boolean }
}

export interface DirectoryInit {
  /** How often this node re-puts the records it owns (DHT peers come and go; stored records live 48 h). Default 15 min. */
  refreshIntervalMs?: number
  /** Records refreshed at once. Default 4. */
  refreshConcurrency?: number
  /** Resolved locations kept. Default 10,000. */
  cacheSize?: number
  /** How long a resolved location is trusted without asking again. Default 60 s. */
  cacheTtlMs?: number
  /** Limit of one DHT put or get when the caller gives no signal. Default 10 s. */
  operationTimeoutMs?: number
  /** How long the record of a process just created waits before its DHT put (`publishSoon`). Default 100 ms. */
  publishDelayMs?: number
  /** How often this node re-puts the records of the processes swapped out here (read from disk). Default 6 h. */
  swappedRefreshIntervalMs?: number
}

/** What the record of a process swapped out on this node says; `Directory.swappedRecords` reads them from disk. */
export interface SwappedRecord {
  pid: string
  epoch: ActivationEpoch
  app: string
}

export interface PublishOptions extends AbortOptions {
  /** The activation epoch the allocator issued for this activation. */
  epoch: ActivationEpoch
  /** Where to reach the process. Default: this node's addresses. */
  addrs?: Multiaddr[]
  app?: string
}

export interface ResolveOptions extends AbortOptions {
  /**
   * Skip the cache and ask every DHT peer near the key for the newest record, rather than
   * taking the first answer. Implied for the next resolve of a pid after `invalidate`.
   */
  fresh?: boolean
}

export interface DirectoryEvents {
  /** A newer activation of a pid this node published exists elsewhere: this one must step down. */
  superseded: CustomEvent<Location>
}

/**
 * A record this node publishes. The epoch's fields are its own (one object per pid, not two),
 * and its grant is a one-byte string: a Uint8Array of its own costs about 450 bytes per process
 * (its array buffer and backing store), and one decoded from the allocator's answer is a view
 * that kept a whole pooled 8 KiB buffer alive.
 */
interface Owned {
  pid: string
  term: number
  counter: number
  grant?: string
  app: string
  status: LocationStatus
  addrs?: Multiaddr[]
}

function owning (pid: string, epoch: ActivationEpoch, app: string, status: LocationStatus, addrs?: Multiaddr[]): Owned {
  const grant = epoch.grant == null ? undefined : Buffer.from(epoch.grant.buffer, epoch.grant.byteOffset, epoch.grant.byteLength).toString('latin1')
  return { pid, term: epoch.term, counter: epoch.counter, grant, app, status, addrs }
}

function epochOf (owned: Owned): ActivationEpoch {
  return { term: owned.term, counter: owned.counter, grant: owned.grant == null ? undefined : Buffer.from(owned.grant, 'latin1') }
}

/** Runs `task` for each item, `limit` at a time, until the items end or `going` says no (`task` handles its own failures). */
async function eachInParallel<T> (items: Iterable<T> | AsyncIterable<T>, limit: number, going: () => boolean, task: (item: T) => Promise<void>): Promise<void> {
  const iterator = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : items[Symbol.iterator]()
  const worker = async (): Promise<void> => {
    for (let next = await iterator.next(); next.done !== true && going(); next = await iterator.next()) await task(next.value)
  }
  await Promise.all(Array.from({ length: limit }, worker))
}

export const DEFAULT_REFRESH_INTERVAL_MS = 15 * 60_000
export const DEFAULT_REFRESH_CONCURRENCY = 4
export const DEFAULT_CACHE_SIZE = 10_000
export const DEFAULT_CACHE_TTL_MS = 60_000
export const DEFAULT_OPERATION_TIMEOUT_MS = 10_000
export const DEFAULT_PUBLISH_DELAY_MS = 100
/** Stored DHT records live 48 h; a swapped process's record changes only when it comes back. */
export const DEFAULT_SWAPPED_REFRESH_INTERVAL_MS = 6 * 60 * 60_000
const UNREPLICATED_RETRY_MS = 1_000
const UNREPLICATED_RETRY_SLACK_MS = 500
const MAX_RETRIES_PER_TICK = 64
const MAX_SUSPECTS = 10_000

/**
 * The pid directory: signed location records in the DHT, one per pid, published by the node
 * that hosts the process and refreshed while it lives there; resolution from a local cache
 * first, then the DHT. Records carry the activation epoch, so that the newest activation wins
 * everywhere (see protocol/location.ts).
 */
export class Directory extends TypedEventEmitter<DirectoryEvents> implements Startable {
  private readonly log: Logger
  private readonly cache: LocationCache
  private readonly owned = new Map<string, Owned>()
  private readonly lookups = new Map<string, Promise<Location | undefined>>()
  /** Pids whose cached location proved wrong: their next lookup is a full one. */
  private readonly suspect = new Set<string>()
  private readonly refreshIntervalMs: number
  private readonly refreshConcurrency: number
  private readonly timeoutMs: number
  /** Owned pids whose last put reached no other peer of a DHT that had some: retried soon. */
  private readonly unreplicated = new Set<string>()
  /**
   * Set when a put found no DHT peer at all (a node alone): once it has peers, every owned record
   * is put again. A node alone would otherwise hold each of its pids in \`unreplicated\` too.
   */
  private alone = false
  /** Owned pids whose first put waits (`publishSoon`); a subset of `owned`, so bounded as it is. */
  private readonly deferred = new Set<string>()
  private readonly publishDelayMs: number
  private deferTimer?: ReturnType<typeof setTimeout>
  private deferring: Promise<void> = Promise.resolve()
  private lastSeq = 0
  private timer?: ReturnType<typeof setTimeout>
  private swappedTimer?: ReturnType<typeof setTimeout>
  private readonly swappedRefreshIntervalMs: number
  /**
   * The records of the processes swapped out on this node, for their refresh. A swapped process
   * leaves `owned` once its record is put: 100,000 of them cost the node files, not memory.
   */
  swappedRecords?: () => AsyncIterable<SwappedRecord>
  private retryTimer?: Timer

  /** Every second or so: with another timer's wake-up when one comes within UNREPLICATED_RETRY_SLACK_MS (swim/clock.ts). */
  private armRetry (): void {
    const running = this.controller
    this.retryTimer = systemClock.setTimer(UNREPLICATED_RETRY_MS, () => {
      if (this.controller !== running) return
      void this.retryUnreplicated()
        .catch((err: Error) => { this.log('putting records again failed: %s', err.message) })
        // not after a stop (and a start, which armed its own)
        .finally(() => { if (this.controller === running) this.armRetry() })
    }, UNREPLICATED_RETRY_SLACK_MS)
  }

  private controller?: AbortController
  private retrying = false

  constructor (private readonly components: DirectoryComponents, init: DirectoryInit = {}) {
    super()
    this.log = components.logger.forComponent('praas:directory')
    this.cache = new LocationCache(init.cacheSize ?? DEFAULT_CACHE_SIZE, init.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS)
    this.refreshIntervalMs = init.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS
    this.refreshConcurrency = init.refreshConcurrency ?? DEFAULT_REFRESH_CONCURRENCY
    this.timeoutMs = init.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS
    this.publishDelayMs = init.publishDelayMs ?? DEFAULT_PUBLISH_DELAY_MS
    this.swappedRefreshIntervalMs = init.swappedRefreshIntervalMs ?? DEFAULT_SWAPPED_REFRESH_INTERVAL_MS
  }

  readonly [Symbol.toStringTag] = 'praas:directory'

  isStarted (): boolean {
    return this.controller != null
  }

  private readonly running = (): boolean => this.controller != null

  start (): void {
    if (this.controller != null) return
    this.controller = new AbortController()
    // each DHT operation in flight listens to it (withTimeout) until it settles: not a leak
    setMaxListeners(Infinity, this.controller.signal)
    this.schedule()
    this.scheduleSwapped()
    this.armRetry()
  }

  stop (): void {
    clearTimeout(this.timer)
    clearTimeout(this.swappedTimer)
    this.retryTimer?.cancel()
    this.retryTimer = undefined
    clearTimeout(this.deferTimer)
    this.deferTimer = undefined
    this.deferred.clear()
    this.unreplicated.clear()
    this.suspect.clear()
    this.controller?.abort()
    this.controller = undefined
    this.cache.clear()
  }

  /** A record sequence number that grows across restarts too (it starts from the clock). */
  private nextSeq (): number {
    this.lastSeq = Math.max(Date.now(), this.lastSeq + 1)
    return this.lastSeq
  }

  /** Runs one DHT operation within this directory's limit, the caller's signal and this service's stop. */
  private async timed<T> (options: AbortOptions, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return await withTimeout(this.timeoutMs, [options.signal, this.controller?.signal], fn)
  }

  /** Signs this node's current record for an owned pid and puts it in the DHT. */
  private async put (owned: Owned, options: AbortOptions): Promise<Location> {
    const { peerId, privateKey, addressManager, dht } = this.components
    const addrs = owned.addrs ?? addressManager.getAddresses()
    const value = await signLocation({ pid: owned.pid, epoch: epochOf(owned), app: owned.app, status: owned.status, addrs, seq: this.nextSeq() }, privateKey, peerId, options)
    // not cached: this node finds the processes it hosts or swapped without the directory
    // (control.ts locate), and drops the entry when one leaves; an entry per process created
    // lived a minute, long enough to wait for a full collection afterwards (issue 19)
    const location = await verifyLocation(value, owned.pid)
    const stored = await this.timed(options, async (signal) => {
      let stored = 0
      for await (const event of dht.put(locationKey(owned.pid), value, { signal })) {
        if (event.name === 'PEER_RESPONSE') stored++
        else if (event.name === 'QUERY_ERROR') stored--
      }
      return stored
    })
    if (stored > 0 || owned.status === 'deleted') this.unreplicated.delete(owned.pid)
    else if (dht.routingTable?.size === 0) this.alone = true
    else this.unreplicated.add(owned.pid)
    return location
  }

  /** Puts again, a bounded number at a time, the owned records that no other peer holds yet. */
  private async retryUnreplicated (): Promise<void> {
    this.cache.sweep()
    // with no DHT peer yet (a node alone) there is nobody to put to
    if (this.retrying || this.components.dht.routingTable?.size === 0) return
    if (!this.alone && this.unreplicated.size === 0) return
    this.retrying = true
    try {
      if (this.alone) {
        // peers at last: every record put while there were none
        this.alone = false
        this.log('the DHT has peers now: putting the records of %d processes', this.owned.size)
        await this.refreshAll()
        return
      }
      const pids: string[] = []
      for (const pid of this.unreplicated) {
        if (pids.push(pid) === MAX_RETRIES_PER_TICK) break
      }
      for (const pid of pids) {
        const owned = this.owned.get(pid)
        if (owned == null) {
          this.unreplicated.delete(pid)
          continue
        }
        await this.put(owned, {}).catch((err: Error) => { this.log('putting %s again failed: %s', pid, err.message) })
      }
    } finally {
      this.retrying = false
    }
  }

  /**
   * States that this node hosts `pid` under the given activation epoch, and keeps the record
   * refreshed until the pid is released, swapped away for good, or superseded.
   */
  private readonly isMember = (peerId: string): boolean => this.components.roster.isMember(peerId)

  async publish (pid: string, options: PublishOptions): Promise<Location> {
    this.deferred.delete(pid)
    const owned = owning(pid, options.epoch, options.app ?? this.owned.get(pid)?.app ?? '', 'active', options.addrs)
    this.owned.set(pid, owned)
    return await this.put(owned, options)
  }

  /**
   * `publish` for a process just created, whose record no older one can contradict: the pid is
   * owned at once and put in the DHT a moment later, the puts of that moment together and a few
   * at a time. A put is a query and a store on every close peer (about 20 ms of the mesh's CPU
   * with 8 nodes on 2 cores), which would otherwise share the event loop with the process's
   * first calls. Meanwhile the host answers LOCATE itself, the creating client was told where
   * the process is, and other nodes that miss in the DHT ask their peers.
   */
  publishSoon (pid: string, options: Omit<PublishOptions, keyof AbortOptions>): void {
    this.owned.set(pid, owning(pid, options.epoch, options.app ?? '', 'active', options.addrs))
    this.deferred.add(pid)
    if (this.deferTimer != null) return
    this.deferTimer = setTimeout(() => {
      this.deferTimer = undefined
      const pids = [...this.deferred]
      this.deferred.clear()
      this.deferring = this.deferring.then(async () => { await this.putDeferred(pids) })
    }, this.publishDelayMs)
    this.deferTimer.unref?.()
  }

  private async putDeferred (pids: string[]): Promise<void> {
    await eachInParallel(pids, this.refreshConcurrency, () => true, async (pid) => {
      const owned = this.owned.get(pid)
      // released, or published again (by then with a put of its own) meanwhile
      if (owned == null || this.deferred.has(pid)) return
      await this.put(owned, {}).catch((err: Error) => {
        this.log('putting the record of %s failed: %s', pid, err.message)
        if (this.owned.get(pid) === owned) this.unreplicated.add(pid)
      })
    })
  }

  /**
   * States that the process is swapped out (its image is in storage) under the epoch it had.
   * The pid then leaves `owned`: its record is refreshed from disk (`swappedRecords`), rarely,
   * until a newer activation supersedes it.
   */
  async markSwapped (pid: string, options: AbortOptions = {}): Promise<Location> {
    const owned = this.owned.get(pid)
    if (owned == null) throw new PraasError('NOT_FOUND', `this node publishes no record for ${pid}`)
    owned.status = 'swapped'
    try {
      return await this.put(owned, options)
    } finally {
      if (this.owned.get(pid) === owned) {
        this.owned.delete(pid)
        this.unreplicated.delete(pid)
      }
    }
  }

  /**
   * States that the process is deleted (a tombstone, so stale copies lose) and stops refreshing
   * it. A process swapped out here is not owned any more: `swapped` gives its record (from disk).
   */
  async unpublish (pid: string, options: AbortOptions & { swapped?: SwappedRecord } = {}): Promise<void> {
    const swapped = options.swapped
    const owned = this.owned.get(pid) ?? (swapped?.pid === pid ? owning(pid, swapped.epoch, swapped.app, 'swapped') : undefined)
    if (owned == null) return
    this.owned.delete(pid)
    this.cache.delete(pid)
    await this.put({ ...owned, status: 'deleted' }, options)
  }

  /** Stops refreshing a pid without writing anything: its new host's record (a higher epoch) replaces ours. */
  release (pid: string): void {
    this.owned.delete(pid)
    this.cache.delete(pid)
  }

  /** The epochs of the records this node publishes. */
  owns (pid: string): ActivationEpoch | undefined {
    const owned = this.owned.get(pid)
    return owned == null ? undefined : epochOf(owned)
  }

  /**
   * Where `pid` lives: from the cache, else from the DHT (concurrent lookups of one pid share
   * one query). `undefined` when no record exists or the process was deleted. A swapped process
   * resolves with status `swapped`.
   */
  async resolve (pid: string, options: ResolveOptions = {}): Promise<Location | undefined> {
    if (options.fresh !== true) {
      const cached = this.cache.get(pid)
      if (cached != null) return cached.status === 'deleted' ? undefined : cached
    }
    const full = options.fresh === true || this.suspect.has(pid)
    const key = full ? `full:${pid}` : pid
    let lookup = this.lookups.get(key)
    if (lookup == null) {
      lookup = this.lookup(pid, full, options).finally(() => this.lookups.delete(key))
      this.lookups.set(key, lookup)
    }
    const location = await lookup
    return location?.status === 'deleted' ? undefined : location
  }

  private async lookup (pid: string, full: boolean, options: AbortOptions): Promise<Location | undefined> {
    const started = performance.now()
    const found = await this.timed(options, async (signal) => full
      ? await fetchLocation(this.components.contentRouting, pid, { signal, isMember: this.isMember })
      : await fetchLocationFast(this.components.dht, pid, { signal, isMember: this.isMember }))
    if (full) this.suspect.delete(pid)
    this.log.trace('looked %s up in %d ms: %s', pid, Math.round(performance.now() - started), found?.node ?? 'nothing')
    if (found == null) return undefined
    const cached = this.cache.get(pid)
    // a lagging DHT replica never overrides what this node already knows to be newer
    if (cached != null && compareLocations(cached, found) > 0) return cached
    this.cache.set(found)
    return found
  }

  /** Forgets the cached location of `pid` (say, after its node answered MOVED). */
  invalidate (pid: string): void {
    this.cache.delete(pid)
    if (this.suspect.size < MAX_SUSPECTS) this.suspect.add(pid)
  }

  private schedule (): void {
    if (this.controller == null) return
    this.timer = setTimeout(() => {
      void this.refreshAll().finally(() => { this.schedule() })
    }, this.refreshIntervalMs)
    this.timer.unref?.()
  }

  /** Re-puts every owned record, a few at a time; a record superseded by a newer activation is dropped. */
  async refreshAll (options: AbortOptions = {}): Promise<void> {
    await eachInParallel([...this.owned.values()], this.refreshConcurrency, this.running, async (owned) => {
      try {
        await this.refresh(owned, options)
      } catch (err) {
        this.log('refreshing the record of %s failed: %s', owned.pid, (err as Error).message)
      }
    })
  }

  private async refresh (owned: Owned, options: AbortOptions): Promise<void> {
    if (this.owned.get(owned.pid) !== owned) return
    const found = await this.newer(owned, options)
    if (found != null) {
      this.log('%s moved to %s with a newer epoch; this node steps down', owned.pid, found.node)
      this.owned.delete(owned.pid)
      this.safeDispatchEvent('superseded', { detail: found })
      return
    }
    if (this.owned.get(owned.pid) === owned) await this.put(owned, options)
  }

  /** A record of a newer activation elsewhere than `owned`'s, if the DHT has one. */
  private async newer (owned: Owned, options: AbortOptions): Promise<Location | undefined> {
    const found = await this.timed(options, async (signal) => await fetchLocation(this.components.contentRouting, owned.pid, { signal, isMember: this.isMember }))
    if (found == null || found.node === this.components.peerId.toString() ||
        compareLocations(found, { epoch: { term: owned.term, counter: owned.counter }, seq: Number.MAX_SAFE_INTEGER }) <= 0) return undefined
    this.cache.set(found)
    return found
  }

  private scheduleSwapped (): void {
    if (this.controller == null) return
    this.swappedTimer = setTimeout(() => {
      void this.refreshSwapped().finally(() => { this.scheduleSwapped() })
    }, this.swappedRefreshIntervalMs)
    this.swappedTimer.unref?.()
  }

  /**
   * Re-puts the records of the processes swapped out here, read from disk a few at a time; one
   * that came back here (owned again) or has a newer activation elsewhere is left alone (the
   * activation that superseded it fences the image here).
   */
  async refreshSwapped (options: AbortOptions = {}): Promise<number> {
    const source = this.swappedRecords?.()
    if (source == null) return 0
    let put = 0
    await eachInParallel(source, this.refreshConcurrency, this.running, async (record) => {
      const owned = owning(record.pid, record.epoch, record.app, 'swapped')
      try {
        if (this.owned.has(owned.pid) || await this.newer(owned, options) != null || this.owned.has(owned.pid)) return
        await this.put(owned, options)
        this.unreplicated.delete(owned.pid)
        put++
      } catch (err) {
        this.log('refreshing the record of swapped %s failed: %s', owned.pid, (err as Error).message)
      }
    })
    return put
  }
}
