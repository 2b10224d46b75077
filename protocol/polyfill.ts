// Node 20 lacks Promise.withResolvers, which libp2p 3 and its dependencies call at run time.
// Every entry point (CLI, SDK, node, workers, tests) imports this module before any libp2p one.
declare global {
  interface PromiseConstructor {
    withResolvers<T>(): { promise: Promise<T>, resolve(value: T | PromiseLike<T>): void, reject(reason?: unknown): void }
  }
}

if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T> () {
      let resolve!: (value: T | PromiseLike<T>) => void
      let reject!: (reason?: unknown) => void
      const promise = new Promise<T>((_resolve, _reject) => { resolve = _resolve; reject = _reject })
      return { promise, resolve, reject }
    }
  })
}

export {}
