import { readFile } from 'node:fs/promises'
import { PraasError } from '../../protocol/errors.js'
import { writeFileDurably } from './cluster-files.js'

/** Apps one client may hold by default, and processes of one client one node hosts. */
export const DEFAULT_MAX_APPS_PER_CLIENT = 64
export const DEFAULT_MAX_PROCESSES_PER_CLIENT = 10_000

/**
 * Which client (token owner, see protocol/token.ts `Grant.owner`) deployed each app: an app name
 * belongs to its first deployer, and a client holds a bounded number of them. Kept in the data dir
 * (every node holds every app, and learns the owner with the app).
 */
export class AppOwners {
  private readonly owners = new Map<string, string>()
  private saving: Promise<void> = Promise.resolve()

  constructor (private readonly path: string) {}

  async load (): Promise<void> {
    try {
      const stored = JSON.parse(await readFile(this.path, 'utf8')) as Record<string, unknown>
      for (const [app, owner] of Object.entries(stored)) if (typeof owner === 'string') this.owners.set(app, owner)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }

  get (app: string): string | undefined {
    return this.owners.get(app)
  }

  count (owner: string): number {
    let n = 0
    for (const o of this.owners.values()) if (o === owner) n++
    return n
  }

  /** Records the owner of an app (kept if it has one already). */
  set (app: string, owner: string): void {
    if (this.owners.get(app) !== undefined && this.owners.get(app) !== '') return
    this.owners.set(app, owner)
    const snapshot = JSON.stringify(Object.fromEntries(this.owners)) + '\n'
    this.saving = this.saving.then(async () => { await writeFileDurably(this.path, snapshot) }).catch(() => {})
  }
}

/**
 * Processes this node hosts per client that created them: a node refuses to host more than the
 * quota of one client (its memory is what the quota protects). Entries of processes that left
 * this node (moved, swapped, deleted) are dropped when the client's count is next looked at.
 */
export class ProcessOwners {
  private readonly byOwner = new Map<string, Set<string>>()

  constructor (private readonly isHosted: (pid: string) => boolean) {}

  /** Counts a process against its client's quota here, or throws TOO_LARGE past the quota. */
  admit (owner: string, pid: string, max: number): void {
    if (owner === '' || owner === 'admin') return
    let pids = this.byOwner.get(owner)
    if (pids == null) {
      pids = new Set()
      this.byOwner.set(owner, pids)
    }
    if (pids.size >= max) {
      for (const p of pids) if (!this.isHosted(p)) pids.delete(p)
      if (pids.size >= max) throw new PraasError('TOO_LARGE', `this node hosts ${max} processes of this client already (its --max-processes-per-client)`)
    }
    pids.add(pid)
  }
}
