import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { checkName, MAX_APP_SOURCE_BYTES, PraasError, SingleFlight } from '../../protocol/index.js'
import { PollerSlots } from './doorbell.js'
import { WorkerPool } from './worker-pool.js'
import type { PoolInit } from './worker-pool.js'

export interface AppVersion {
  name: string
  hash: string
  source: Uint8Array
  functions: string[]
  pool: WorkerPool
}

export type PoolOptions = Omit<PoolInit, 'app' | 'modulePath'>

export function sourceHash (source: Uint8Array): string {
  return createHash('sha256').update(source).digest('hex')
}

/**
 * The apps a node can run: each one a single ES module, stored in the data dir by content hash
 * and accepted only once a worker has loaded it and found exported functions. Each app's
 * current version owns a warm worker pool.
 */
export class AppRegistry {
  private readonly apps = new Map<string, AppVersion>()
  private readonly deploying = new SingleFlight<AppVersion>()

  private readonly poolOptions: PoolOptions

  constructor (private readonly dir: string, poolOptions: PoolOptions) {
    // one set of polling slots for every worker of the node
    this.poolOptions = { ...poolOptions, pollers: poolOptions.pollers ?? new PollerSlots() }
  }

  get (name: string): AppVersion | undefined {
    return this.apps.get(name)
  }

  list (): AppVersion[] {
    return [...this.apps.values()]
  }

  /** Stores, checks and activates a module; the same source twice is a no-op. */
  async deploy (name: string, source: Uint8Array): Promise<AppVersion> {
    checkName(name, 'an app name')
    if (source.byteLength > MAX_APP_SOURCE_BYTES) throw new PraasError('TOO_LARGE', `app source exceeds ${MAX_APP_SOURCE_BYTES} bytes`)
    const hash = sourceHash(source)
    const current = this.apps.get(name)
    if (current?.hash === hash) return current
    const key = `${name}@${hash}`
    return await this.deploying.run(key, async () => await this.activate(name, hash, source))
  }

  private async activate (name: string, hash: string, source: Uint8Array): Promise<AppVersion> {
    const appDir = join(this.dir, name)
    await mkdir(appDir, { recursive: true })
    const modulePath = join(appDir, `${hash}.mjs`)
    const tmp = `${modulePath}.${process.pid}.tmp`
    await writeFile(tmp, source)
    await rename(tmp, modulePath)
    const pool = new WorkerPool({ ...this.poolOptions, app: name, modulePath })
    let functions: string[]
    try {
      functions = await Promise.race([
        pool.warm(),
        new Promise<never>((_resolve, reject) => setTimeout(() => { reject(new PraasError('BAD_REQUEST', 'the app module did not load within 10 s')) }, 10_000).unref())
      ])
    } catch (err) {
      await pool.stop()
      await rm(modulePath, { force: true })
      throw err
    }
    const version: AppVersion = { name, hash, source, functions, pool }
    const previous = this.apps.get(name)
    this.apps.set(name, version)
    await writeFile(join(appDir, 'current'), hash)
    if (previous != null) void previous.pool.retire()
    return version
  }

  /** Loads the apps this node had deployed before it restarted. */
  async loadStored (): Promise<void> {
    const names = await readdir(this.dir).catch(() => [] as string[])
    for (const name of names) {
      const hash = (await readFile(join(this.dir, name, 'current'), 'utf8').catch(() => '')).trim()
      if (hash === '') continue
      const source = await readFile(join(this.dir, name, `${hash}.mjs`)).catch(() => undefined)
      if (source != null) await this.deploy(name, source).catch(() => {})
    }
  }

  /** Loads every app of a folder: `NAME.js` / `NAME.mjs`, or `NAME/index.js` / `NAME/index.mjs`. */
  async loadDir (dir: string): Promise<string[]> {
    const loaded: string[] = []
    for (const entry of await readdir(dir)) {
      const path = join(dir, entry)
      let file: string | undefined
      let name: string
      if ((await stat(path)).isDirectory()) {
        name = entry
        for (const index of ['index.mjs', 'index.js']) {
          if (file == null && await stat(join(path, index)).then(s => s.isFile(), () => false)) file = join(path, index)
        }
      } else {
        name = entry.replace(/\.m?js$/, '')
        if (name !== entry) file = path
      }
      if (file == null) continue
      await this.deploy(name, await readFile(file))
      loaded.push(name)
    }
    return loaded
  }

  async stop (): Promise<void> {
    await Promise.all([...this.apps.values()].map(async app => { await app.pool.stop() }))
    this.apps.clear()
  }
}
