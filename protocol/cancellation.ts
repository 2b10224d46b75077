import type { AbortOptions } from '@libp2p/interface'

type Reaction = (reason: unknown) => void

/**
 * The cancellation of one call, usable as its AbortOptions, whose AbortSignal is made only when
 * something asks for `signal`. Node 20 builds an AbortSignal by reshaping an EventTarget, and
 * that, with listening on it, measured about 10 us per call on the invoke path, where almost no
 * call is ever cancelled: the hot path registers its reaction with `onAbort` instead.
 */
export class Cancellation implements AbortOptions {
  private controller?: AbortController
  private reactions?: Reaction | Reaction[]
  private abortReason?: unknown
  private done = false

  get aborted (): boolean {
    return this.done
  }

  get reason (): unknown {
    return this.abortReason
  }

  /** The signal of this cancellation (made now if nothing asked for it before). */
  get signal (): AbortSignal {
    if (this.controller == null) {
      this.controller = new AbortController()
      if (this.done) this.controller.abort(this.abortReason)
    }
    return this.controller.signal
  }

  abort (reason?: unknown): void {
    if (this.done) return
    this.done = true
    this.abortReason = reason ?? new DOMException('This operation was aborted', 'AbortError')
    this.controller?.abort(this.abortReason)
    const reactions = this.reactions
    this.reactions = undefined
    if (typeof reactions === 'function') reactions(this.abortReason)
    else if (reactions != null) for (const reaction of reactions) reaction(this.abortReason)
  }

  /** Runs `reaction` on abort (never if it was aborted already); returns what stops that. */
  listen (reaction: Reaction): () => void {
    if (this.done) return noop
    const current = this.reactions
    if (current == null) this.reactions = reaction
    else if (typeof current === 'function') this.reactions = [current, reaction]
    else current.push(reaction)
    return () => { this.unlisten(reaction) }
  }

  private unlisten (reaction: Reaction): void {
    const current = this.reactions
    if (current === reaction) {
      this.reactions = undefined
    } else if (Array.isArray(current)) {
      const index = current.indexOf(reaction)
      if (index >= 0) current.splice(index, 1)
    }
  }
}

function noop (): void {}

/** Whether `options` is aborted, without making a Cancellation's signal. */
export function isAborted (options: AbortOptions): boolean {
  return options instanceof Cancellation ? options.aborted : options.signal?.aborted === true
}

/** Throws the abort reason if `options` is aborted, without making a Cancellation's signal. */
export function throwIfAborted (options: AbortOptions): void {
  if (options instanceof Cancellation) {
    if (options.aborted) throw options.reason
    return
  }
  options.signal?.throwIfAborted()
}

/**
 * Runs `reaction` once when `options` is aborted (not if it already is); returns what stops
 * listening. A Cancellation is listened to without making its signal.
 */
export function onAbort (options: AbortOptions, reaction: Reaction): () => void {
  if (options instanceof Cancellation) return options.listen(reaction)
  const signal = options.signal
  if (signal == null) return noop
  const listener = (): void => { reaction(signal.reason) }
  signal.addEventListener('abort', listener, { once: true })
  return () => { signal.removeEventListener('abort', listener) }
}

/**
 * Runs `fn` with a signal that aborts after `ms` (a TimeoutError, as AbortSignal.timeout's) or
 * when any of `signals` does, and clears the timer and its listeners when `fn` settles.
 * AbortSignal.timeout's timer lives until it fires: a node serving 1,500 creates a second held
 * two such timers per create for their whole limit (tens of seconds each). And AbortSignal.any
 * leaves a WeakRef behind in each source signal for every signal it makes (Node 20): on a
 * long-lived signal (a service's stop signal) one per operation, for the node's life (about
 * 40 bytes per swapped process, measured).
 */
export async function withTimeout<T> (ms: number, signals: Array<AbortSignal | undefined>, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController()
  const timer = setTimeout(() => { controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')) }, ms)
  const stops: Array<() => void> = []
  for (const signal of signals) {
    if (signal == null) continue
    if (signal.aborted) {
      controller.abort(signal.reason)
      break
    }
    stops.push(onAbort({ signal }, (reason) => { controller.abort(reason) }))
  }
  try {
    return await fn(controller.signal)
  } finally {
    clearTimeout(timer)
    for (const stop of stops) stop()
  }
}
