import { locationKey, verifyLocation } from './location.js'
import type { Location } from './location.js'
import type { AbortOptions, ContentRouting } from '@libp2p/interface'

/**
 * Looks a pid's location record up in the DHT and verifies it. `contentRouting.get` returns
 * with the first (already validated and selected) value instead of draining the whole query.
 * Resolves `undefined` when no peer holds a record.
 */
export async function fetchLocation (contentRouting: Pick<ContentRouting, 'get'>, pid: string, options: AbortOptions = {}): Promise<Location | undefined> {
  let value: Uint8Array
  try {
    value = await contentRouting.get(locationKey(pid), options)
  } catch (err) {
    options.signal?.throwIfAborted()
    // Promise.any over the routers wraps NotFoundError in an AggregateError
    const errors = err instanceof AggregateError ? err.errors : [err]
    if (errors.every(e => (e as Error)?.name === 'NotFoundError')) return undefined
    throw errors[0]
  }
  return await verifyLocation(value, pid, options)
}
