import type { StreamMiddleware } from '@libp2p/interface'

/** The part of libp2p's internal registrar that stream middleware goes through. */
export interface MiddlewareRegistrar {
  use(protocol: string, middleware: StreamMiddleware | StreamMiddleware[]): void
  getMiddleware(protocol: string): StreamMiddleware[]
}

const patched = new WeakSet<object>()

/**
 * libp2p 3.3 (connection.js, onIncomingStream) pushes the protocol handler onto the array that
 * `registrar.getMiddleware` returns, which is the registered array itself: every inbound stream
 * of a protocol with middleware adds one more handler call, so the n-th stream runs its handler
 * n times. Upstream fix: js-libp2p PR #3534 ("handle terminal middleware without mutating
 * chains"), open as of this writing. Until it lands, `getMiddleware` hands out a copy.
 * Checks the registrar's shape first and throws if it changed (test/protocol/patches.test.ts).
 */
export function patchMiddlewareRegistrar (registrar: MiddlewareRegistrar): void {
  if (patched.has(registrar)) return
  if (typeof registrar.getMiddleware !== 'function' || typeof registrar.use !== 'function') {
    throw new Error('libp2p registrar has no getMiddleware/use: the middleware patch no longer fits this libp2p')
  }
  const stock = registrar.getMiddleware.bind(registrar)
  registrar.getMiddleware = (protocol: string) => [...stock(protocol)]
  patched.add(registrar)
}

/** Registers middleware on a protocol (after making the registrar safe for it). */
export function useMiddleware (registrar: MiddlewareRegistrar, protocols: string[], middleware: StreamMiddleware): void {
  patchMiddlewareRegistrar(registrar)
  for (const protocol of protocols) registrar.use(protocol, [middleware])
}
