import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { checkName, MAX_APP_SOURCE_BYTES, PraasError, SingleFlight } from '../../protocol/index.js'
import { parseGrants } from './capabilities.js'
import { IsolateSandbox } from './isolate-sandbox.js'
import type { AppManifest, Sandbox, SandboxFactory, SandboxHost } from './sandbox.js'
import type { Logger } from '@libp2p/interface'

export interface AppVersion {
  name: string
  /** The version's id: the SHA-256 of its source, and of its grants and limits when it has any. */
  hash: string
  source: Uint8Array
  manifest: AppManifest
  functions: string[]
  sandbox: Sandbox
  /**
   * The deploy's place in the order of the app's versions (ms since 1970, or one past the version
   * it replaced): of two versions of a name, every node runs the one with the higher serial
   * (then the higher hash), whatever order they reached it in.
   */
  serial: number
}

/** Whether version `a` of an app comes after version `b` (higher serial, then higher hash). */
export function laterVersion (a: { serial: number, hash: string }, b: { serial: number, hash: string }): boolean {
  return a.serial > b.serial || (a.serial === b.serial && a.hash > b.hash)
}

export interface AppRegistryInit {
  /** What app code may ask of the node (the runtime). */
  host: SandboxHost
  log: Logger
  /** What runs app code; default: V8 isolates (isolate-sandbox.ts). */
  sandbox?: SandboxFactory
}

export const NO_MANIFEST: AppManifest = { allow: [], memoryMiB: 0, cpuMs: 0 }

/** The manifest in one canonical form (grants sorted, no duplicates), checked. */
export function manifestOf (manifest: Partial<AppManifest> = {}): AppManifest {
  const allow = [...new Set(manifest.allow ?? [])].sort()
  parseGrants(allow)
  const limit = (value: number | undefined, what: string, max: number): number => {
    const n = value ?? 0
    if (!Number.isInteger(n) || n < 0 || n > max) throw new PraasError('BAD_REQUEST', `${what} takes a whole number from 0 (the default) to ${max}`)
    return n
  }
  const memoryMiB = limit(manifest.memoryMiB, 'the memory limit (MiB)', 16 * 1024)
  if (memoryMiB > 0 && memoryMiB < 8) throw new PraasError('BAD_REQUEST', 'an app needs at least 8 MiB of memory')
  return { allow, memoryMiB, cpuMs: limit(manifest.cpuMs, 'the CPU limit (ms)', 3_600_000) }
}

/**
 * A version's id. An app deployed without grants or limits keeps the plain SHA-256 of its source;
 * grants and limits are part of the id otherwise, so that a node fetching the app from a peer
 * checks them with the source (control.ts ensureApp) and a redeploy with other grants is a new version.
 */
export function versionHash (source: Uint8Array, manifest: AppManifest = NO_MANIFEST): string {
  const hash = createHash('sha256').update(source)
  if (manifest.allow.length > 0 || manifest.memoryMiB > 0 || manifest.cpuMs > 0) hash.update('\0praas-manifest\0').update(JSON.stringify(manifest))
  return hash.digest('hex')
}

/** The SHA-256 of an app's source alone. */
export function sourceHash (source: Uint8Array): string {
  return versionHash(source)
}

/**
 * The apps a node can run: each one a single ES module with its grants and limits, stored in
 * the data dir by version hash and accepted only once its sandbox has loaded it (its top-level
 * code run inside the sandbox) and found exported functions. Each app's current version owns
 * its sandbox.
 */
export class AppRegistry {
  private readonly apps = new Map<string, AppVersion>()
  private readonly deploying = new SingleFlight<AppVersion>()
  private readonly factory: SandboxFactory

  constructor (private readonly dir: string, private readonly init: AppRegistryInit) {
    this.factory = init.sandbox ?? IsolateSandbox.create
  }

  get (name: string): AppVersion | undefined {
    return this.apps.get(name)
  }

  list (): AppVersion[] {
    return [...this.apps.values()]
  }

  /**
   * Stores, checks and activates a module with its grants and limits. Without `serial` it is a
   * new deploy, after every version this node holds; with one (a version another node deployed),
   * it replaces the current version only if it comes after it, and the current version is
   * returned otherwise. The same version again only moves its serial on.
   */
  async deploy (name: string, source: Uint8Array, options: Partial<AppManifest> = {}, serial?: number): Promise<AppVersion> {
    checkName(name, 'an app name')
    if (source.byteLength > MAX_APP_SOURCE_BYTES) throw new PraasError('TOO_LARGE', `app source exceeds ${MAX_APP_SOURCE_BYTES} bytes`)
    const manifest = manifestOf(options)
    const hash = versionHash(source, manifest)
    const current = this.apps.get(name)
    const order = serial ?? Math.max(Date.now(), (current?.serial ?? 0) + 1)
    if (current != null && !laterVersion({ serial: order, hash }, current)) return current
    if (current?.hash === hash) {
      current.serial = order
      await writeFile(join(this.dir, name, 'current'), `${hash}\n${order}\n`)
      return current
    }
    const key = `${name}@${hash}`
    return await this.deploying.run(key, async () => await this.activate(name, hash, source, manifest, order))
  }

  private async activate (name: string, hash: string, source: Uint8Array, manifest: AppManifest, serial: number): Promise<AppVersion> {
    const sandbox = await this.factory({ app: name, source, manifest, host: this.init.host, log: this.init.log })
    const appDir = join(this.dir, name)
    await mkdir(appDir, { recursive: true })
    const modulePath = join(appDir, `${hash}.mjs`)
    try {
      await writeAtomic(modulePath, source)
      await writeAtomic(join(appDir, `${hash}.json`), JSON.stringify(manifest))
    } catch (err) {
      await sandbox.stop()
      await rm(modulePath, { force: true })
      throw err
    }
    const version: AppVersion = { name, hash, source, manifest, functions: sandbox.functions, sandbox, serial }
    const previous = this.apps.get(name)
    // a later version may have been activated while this one loaded
    if (previous != null && !laterVersion(version, previous)) {
      await sandbox.stop()
      return previous
    }
    this.apps.set(name, version)
    await writeFile(join(appDir, 'current'), `${hash}\n${serial}\n`)
    if (previous != null) void previous.sandbox.retire()
    return version
  }

  /** Loads the apps this node had deployed before it restarted. */
  async loadStored (): Promise<void> {
    const names = await readdir(this.dir).catch(() => [] as string[])
    for (const name of names) {
      // `current`: the version's hash, then its serial (absent in files of older nodes: 0)
      const [hash = '', serial = '0'] = (await readFile(join(this.dir, name, 'current'), 'utf8').catch(() => '')).trim().split('\n')
      if (hash === '') continue
      const source = await readFile(join(this.dir, name, `${hash}.mjs`)).catch(() => undefined)
      const manifest = await readFile(join(this.dir, name, `${hash}.json`), 'utf8').then(s => JSON.parse(s) as AppManifest, () => NO_MANIFEST)
      if (source != null) await this.deploy(name, source, manifest, Number(serial) || 0).catch((err: Error) => { this.init.log.error('app %s does not load any more: %s', name, err.message) })
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
    await Promise.all([...this.apps.values()].map(async app => { await app.sandbox.stop() }))
    this.apps.clear()
  }
}

async function writeAtomic (path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, data)
  await rename(tmp, path)
}
