import { locationKey, verifyLocation } from './location.js'
import type { Location, VerifyLocationOptions } from './location.js'
import type { ContentRouting } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'

/**
 * Looks a pid's location record up in the DHT, asking every peer near the key and keeping the
 * newest record (the selector's choice), and verifies it. `contentRouting.get` returns with
 * the selected value rather than draining the query's events. Resolves `undefined` when no
 * peer holds a record. Use it when a faster answer turned out stale (the node said MOVED).
 */
export async function fetchLocation (contentRouting: Pick<ContentRouting, 'get'>, pid: string, options: VerifyLocationOptions = {}): Promise<Location | undefined> {
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
  return await verifyLocation(value, pid, { signal: options.signal, isMember: options.isMember })
}

/**
 * Looks a pid's location record up in the DHT and returns the first valid record a peer sends,
 * then stops the query: about half the time of a full query, which waits for every peer. The
 * DHT has already checked that record (signature, and not older than one this peer has seen:
 * see `locationValidator`). Resolves `undefined` when no peer holds a record.
 */
export async function fetchLocationFast (dht: Pick<KadDHT, 'get'>, pid: string, options: VerifyLocationOptions = {}): Promise<Location | undefined> {
  const controller = new AbortController()
  const signal = options.signal == null ? controller.signal : AbortSignal.any([controller.signal, options.signal])
  try {
    for await (const event of dht.get(locationKey(pid), { signal })) {
      const value = event.name === 'PEER_RESPONSE' ? event.record?.value : event.name === 'VALUE' ? event.value : undefined
      if (value != null) return await verifyLocation(value, pid, { signal: options.signal, isMember: options.isMember })
    }
  } catch (err) {
    options.signal?.throwIfAborted()
    if ((err as Error)?.name !== 'NotFoundError') throw err
  } finally {
    controller.abort()
  }
  return undefined
}
