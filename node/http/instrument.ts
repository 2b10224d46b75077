import type { NodeMetrics } from './metrics.js'

/** What the metrics time of the node's lifecycle: public methods of Lifecycle and StateClient. */
export interface Instrumented {
  lifecycle: {
    swap(pid: string): Promise<void>
    restore(pid: string, ...rest: any[]): Promise<unknown>
    migrate(pid: string, target: string, ...rest: any[]): Promise<unknown>
  }
  state: {
    replicate(peer: string, ...rest: any[]): Promise<Uint8Array>
  }
}

function outcomeOf (err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^[A-Z_]{1,32}$/.test(code) ? code : 'error'
}

/** Replaces `object[name]` with a version that reports each call's outcome and start to `done`. */
function wrap<T extends object, K extends keyof T> (object: T, name: K, done: (outcome: string, startedMs: number, args: unknown[]) => void): void {
  const original = object[name] as (...args: unknown[]) => Promise<unknown>
  const wrapped = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
    const started = performance.now()
    try {
      const result = await original.apply(this, args)
      done('ok', started, args)
      return result
    } catch (err) {
      done(outcomeOf(err), started, args)
      throw err
    }
  }
  Object.defineProperty(object, name, { value: wrapped, configurable: true, writable: true })
}

/**
 * Counts and times swaps, restores, migrations and replication round trips by wrapping the
 * methods that do them on the node's own instances. The durability layer has no events for
 * these yet; wrapping the public methods (which call one another through `this`, so a swap of
 * an idle process counts too) keeps the metrics out of that code. Replication round trips are
 * the state client's `replicate` calls (/praas/replicate/1.0.0): one batch group to one replica
 * and its answer.
 */
export function instrument (parts: Instrumented, metrics: NodeMetrics): void {
  wrap(parts.lifecycle, 'swap', (outcome, started) => { metrics.timed('swap', outcome, started) })
  wrap(parts.lifecycle, 'restore', (outcome, started) => { metrics.timed('restore', outcome, started) })
  wrap(parts.lifecycle, 'migrate', (outcome, started) => { metrics.timed('migration', outcome, started) })
  wrap(parts.state, 'replicate', (outcome, started) => { metrics.timed('replication', outcome, started) })
}
