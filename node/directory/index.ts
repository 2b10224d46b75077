/**
 * The pid directory: where each process lives, as signed records in the DHT (no broker).
 *
 * - `directory(init)` is a libp2p service factory; `clusterServices()` (node/cluster) adds it
 *   as `services.directory`, after the `dht` service it relies on.
 * - The record format, the DHT validator and selector live in `protocol/location.ts` (the SDK
 *   verifies records too); they are re-exported here.
 */
import { Directory } from './directory.js'
import type { DirectoryComponents, DirectoryInit } from './directory.js'

export { Directory } from './directory.js'
export type { DirectoryComponents, DirectoryInit, DirectoryEvents, PublishOptions, ResolveOptions, SwappedRecord } from './directory.js'
export {
  compareLocations, locationKey, signLocation, verifyLocation, validateLocationRecord, selectLocationRecord,
  LOCATION_NAMESPACE, MAX_LOCATION_RECORD_BYTES
} from '../../protocol/location.js'
export type { ActivationEpoch, Location, LocationInit, LocationStatus } from '../../protocol/location.js'

/** The directory as a libp2p service: `services: { dht: kadDHT(…), directory: directory() }`. */
export function directory (init: DirectoryInit = {}): (components: DirectoryComponents) => Directory {
  return (components) => new Directory(components, init)
}
