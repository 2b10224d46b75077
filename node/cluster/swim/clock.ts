import type { Clock, Random } from './types.js'

/**
 * The process's own clock: performance.now() and unref'd timers (a node's probes must not keep
 * a process alive that has nothing else to do).
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer (ms, fn) {
    const timer = setTimeout(fn, ms)
    timer.unref?.()
    return { cancel: () => { clearTimeout(timer) } }
  }
}

export const systemRandom: Random = Math.random
