import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { concat as uint8ArrayConcat } from 'uint8arrays/concat'
import { compare as uint8ArrayCompare } from 'uint8arrays/compare'
import { fromString as uint8ArrayFromString } from 'uint8arrays/from-string'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { LocationRecord, SignedLocation } from './pb/directory.js'
import { verifyEd25519 } from './ed25519.js'
import { PraasError } from './errors.js'
import { MAX_GRANT_BYTES, verifyGrant } from './grant.js'
import { MAX_PID_LENGTH } from './limits.js'
import type { AbortOptions, PeerId, PrivateKey } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** The DHT key namespace of location records: keys are `/praas-pid/<pid>`. */
export const LOCATION_NAMESPACE = 'praas-pid'
const KEY_PREFIX = `/${LOCATION_NAMESPACE}/`

/** The largest stored record (envelope included); a bigger value is refused unread. */
export const MAX_LOCATION_RECORD_BYTES = 4096
/** Multiaddrs one record may carry, and the longest one (binary). */
export const MAX_LOCATION_ADDRS = 16
export const MAX_LOCATION_ADDR_BYTES = 256

/** Signatures cover this prefix and the record bytes, so they cannot be replayed as another kind of message. */
const SIGNATURE_DOMAIN = uint8ArrayFromString('praas-location-record:')

export type LocationStatus = 'active' | 'swapped' | 'deleted'

/** An activation epoch as the allocator issues it: the leader's term, then its counter. */
export interface ActivationEpoch {
  term: number
  counter: number
  /**
   * The leader's signed grant of this epoch for one pid and node (protocol/grant.ts); a location
   * record is published only with it. Absent on epochs read back from storage.
   */
  grant?: Uint8Array
}

/** Who may speak for the cluster: location records count only when a member signed and granted them. */
export interface VerifyLocationOptions extends AbortOptions {
  isMember?(peerId: string): boolean
}

/** A verified location record: who hosts `pid`, since which activation. */
export interface Location {
  pid: string
  /** The hosting node's peer id, which also signed the record. */
  node: string
  /** The node's multiaddrs, each ending in `/p2p/<node>`. */
  addrs: Multiaddr[]
  epoch: ActivationEpoch
  /** Grows with each record the node writes for one activation. */
  seq: number
  status: LocationStatus
  app: string
}

/** What a node states about a pid before signing; `node` is taken from the signing key. */
export interface LocationInit {
  pid: string
  addrs: Multiaddr[]
  epoch: ActivationEpoch
  seq: number
  status?: LocationStatus
  app?: string
}

const STATUS_TO_WIRE: Record<LocationStatus, LocationRecord.Status> = {
  active: LocationRecord.Status.ACTIVE,
  swapped: LocationRecord.Status.SWAPPED,
  deleted: LocationRecord.Status.DELETED
}
const STATUS_FROM_WIRE: Record<LocationRecord.Status, LocationStatus> = {
  [LocationRecord.Status.ACTIVE]: 'active',
  [LocationRecord.Status.SWAPPED]: 'swapped',
  [LocationRecord.Status.DELETED]: 'deleted'
}

function invalid (message: string): PraasError {
  return new PraasError('BAD_REQUEST', `invalid location record: ${message}`)
}

/** The DHT key of a pid's location record. */
export function locationKey (pid: string): Uint8Array {
  return uint8ArrayFromString(KEY_PREFIX + pid)
}

/** The pid a location key names; throws if the key is not one. */
export function pidFromLocationKey (key: Uint8Array): string {
  const text = uint8ArrayToString(key)
  if (!text.startsWith(KEY_PREFIX)) throw invalid(`key is not under /${LOCATION_NAMESPACE}/`)
  return text.slice(KEY_PREFIX.length)
}

function withoutPeer (addr: Multiaddr): Multiaddr {
  return addr.decapsulateCode(421)
}

/** Encodes and signs a record with the hosting node's key; returns the bytes the DHT stores. */
export async function signLocation (init: LocationInit, privateKey: PrivateKey, peerId: PeerId, options?: AbortOptions): Promise<Uint8Array> {
  if (init.pid.length === 0 || init.pid.length > MAX_PID_LENGTH) throw invalid('pid length')
  const addrs = init.addrs.slice(0, MAX_LOCATION_ADDRS).map(a => withoutPeer(a).bytes)
    .filter(b => b.byteLength <= MAX_LOCATION_ADDR_BYTES)
  if (init.epoch.grant == null) throw invalid('the epoch carries no grant from the allocator')
  const record = LocationRecord.encode({
    pid: init.pid,
    node: peerId.toMultihash().bytes,
    addrs,
    term: init.epoch.term,
    counter: init.epoch.counter,
    seq: init.seq,
    status: STATUS_TO_WIRE[init.status ?? 'active'],
    app: init.app ?? '',
    grant: init.epoch.grant as Uint8Array<ArrayBuffer>
  })
  const signature = await privateKey.sign(uint8ArrayConcat([SIGNATURE_DOMAIN, record]), options)
  const value = SignedLocation.encode({ record, signature: signature as Uint8Array<ArrayBuffer> })
  if (value.byteLength > MAX_LOCATION_RECORD_BYTES) throw invalid('record too large')
  return value
}

interface Decoded {
  envelope: SignedLocation
  record: LocationRecord
  peerId: PeerId
}

/** Decodes a stored value and checks its shape (not its signature). */
function decodeShape (value: Uint8Array): Decoded {
  if (value.byteLength > MAX_LOCATION_RECORD_BYTES) throw invalid('too large')
  let envelope: SignedLocation
  let record: LocationRecord
  try {
    envelope = SignedLocation.decode(value)
    record = LocationRecord.decode(envelope.record, { limits: { addrs: MAX_LOCATION_ADDRS } })
  } catch (err) {
    throw invalid((err as Error).message)
  }
  // one encoding per record: the envelope is not signed, so accept only its canonical bytes
  // (protons ignores wire types, and a changed tag byte could otherwise still decode)
  if (uint8ArrayCompare(SignedLocation.encode(envelope), value) !== 0) throw invalid('not canonically encoded')
  if (record.pid.length === 0 || record.pid.length > MAX_PID_LENGTH) throw invalid('pid length')
  if (!Number.isSafeInteger(record.term) || !Number.isSafeInteger(record.counter) || !Number.isSafeInteger(record.seq)) throw invalid('epoch out of range')
  if (STATUS_FROM_WIRE[record.status] == null) throw invalid('status')
  if (record.app.length > MAX_PID_LENGTH) throw invalid('app name length')
  if (record.addrs.some(a => a.byteLength > MAX_LOCATION_ADDR_BYTES)) throw invalid('address too long')
  if (record.grant.byteLength > MAX_GRANT_BYTES) throw invalid('grant too large')
  let peerId: PeerId
  try {
    peerId = peerIdFromString(uint8ArrayToString(record.node, 'base58btc'))
  } catch {
    throw invalid('node is not a peer id')
  }
  if (peerId.publicKey == null) throw invalid('node peer id carries no public key')
  return { envelope, record, peerId }
}

/**
 * The address lists of locations, shared: every record of one node names the same few addresses,
 * and a decoded multiaddr costs about a kilobyte (its components, each with bytes of its own), so
 * a node's cache and table of thousands of pids would hold thousands of copies of the same
 * list. Lists are read, never changed in place. Bounded: past MAX_SHARED_ADDR_LISTS the oldest go.
 */
const sharedAddrLists = new Map<string, Multiaddr[]>()
const MAX_SHARED_ADDR_LISTS = 4096

function addrsOf (node: string, addrs: Uint8Array[]): Multiaddr[] {
  let key = node
  for (const bytes of addrs) key += '|' + uint8ArrayToString(bytes, 'base64')
  const shared = sharedAddrLists.get(key)
  if (shared != null) return shared
  const list = addrs.map(bytes => multiaddr(bytes).encapsulate(`/p2p/${node}`))
  if (sharedAddrLists.size >= MAX_SHARED_ADDR_LISTS) sharedAddrLists.delete(sharedAddrLists.keys().next().value!)
  sharedAddrLists.set(key, list)
  return list
}

function toLocation ({ record, peerId }: Decoded): Location {
  const node = peerId.toString()
  return {
    pid: record.pid,
    node,
    addrs: addrsOf(node, record.addrs),
    // a buffer of its own: the decoded grant is a view into the whole record's bytes (or the
    // network buffer they came in), which a cached location would otherwise keep alive
    epoch: { term: record.term, counter: record.counter, grant: record.grant.slice() },
    seq: record.seq,
    status: STATUS_FROM_WIRE[record.status],
    app: record.app
  }
}

/**
 * Verify once: the values whose signatures (the node's, and the leader's grant) were checked
 * lately, by their bytes. One lookup brings the same record from several peers, and kad-dht's
 * validator and the resolver each check what arrives; the bytes are compared whole, so only an
 * identical value skips the checks (membership is checked again every time).
 */
class VerifiedValues {
  private readonly bySignature = new Map<string, { value: Uint8Array, leader: PeerId }>()

  constructor (private readonly max: number) {}

  get (value: Uint8Array): PeerId | undefined {
    const key = signatureKey(value)
    const hit = this.bySignature.get(key)
    if (hit == null || uint8ArrayCompare(hit.value, value) !== 0) return undefined
    this.bySignature.delete(key)
    this.bySignature.set(key, hit)
    return hit.leader
  }

  set (value: Uint8Array, leader: PeerId): void {
    const key = signatureKey(value)
    this.bySignature.delete(key)
    this.bySignature.set(key, { value: value.slice(), leader })
    if (this.bySignature.size > this.max) this.bySignature.delete(this.bySignature.keys().next().value!)
  }
}

/** The last 64 bytes of an envelope are its signature (the last field): unique per record, cheap to key by. */
function signatureKey (value: Uint8Array): string {
  return Buffer.from(value.buffer, value.byteOffset + Math.max(0, value.byteLength - 64), Math.min(64, value.byteLength)).toString('base64')
}

/** Values verified lately, whatever peer or lookup they came with. */
const verifiedValues = new VerifiedValues(1024)

/**
 * Decodes a stored value and verifies it: well formed, within limits, signed by the node it
 * names, its epoch granted by the allocator for exactly this pid and node, and (given `pid`)
 * about that pid; with `isMember`, signer and granter must be members. Throws a BAD_REQUEST
 * PraasError otherwise.
 */
export async function verifyLocation (value: Uint8Array, pid?: string, options?: VerifyLocationOptions): Promise<Location> {
  const decoded = decodeShape(value)
  if (pid != null && decoded.record.pid !== pid) throw invalid('the record names another pid than its key')
  options?.signal?.throwIfAborted()
  const { record, peerId } = decoded
  let leader = verifiedValues.get(value)
  if (leader == null) {
    // a key object per signer kept (ed25519.ts), not libp2p's JWK import per verification
    if (!verifyEd25519(peerId.publicKey!.raw, uint8ArrayConcat([SIGNATURE_DOMAIN, decoded.envelope.record]), decoded.envelope.signature)) {
      throw invalid(`not signed by ${peerId.toString()}`)
    }
    leader = verifyGrant(record.grant, { pid: record.pid, node: peerId, term: record.term, counter: record.counter })
    verifiedValues.set(value, leader)
  }
  if (options?.isMember != null) {
    if (!options.isMember(peerId.toString())) throw invalid(`signed by ${peerId.toString()}, which is not a member of this cluster`)
    if (!options.isMember(leader.toString())) throw invalid(`its epoch was granted by ${leader.toString()}, which is not a member of this cluster`)
  }
  const location = toLocation(decoded)
  for (const addr of location.addrs) {
    // a malformed multiaddr throws when read; refuse it here rather than at dial time
    try { addr.toString() } catch { throw invalid('malformed address') }
  }
  return location
}

/** Orders records about one pid: higher epoch (term, then counter) first, then higher seq. */
export function compareLocations (a: Pick<Location, 'epoch' | 'seq'>, b: Pick<Location, 'epoch' | 'seq'>): number {
  return (a.epoch.term - b.epoch.term) || (a.epoch.counter - b.epoch.counter) || (a.seq - b.seq)
}

/** kad-dht validator for `/praas-pid/` keys: the record must verify and name the key's pid. */
export async function validateLocationRecord (key: Uint8Array, value: Uint8Array, options?: VerifyLocationOptions): Promise<void> {
  await verifyLocation(value, pidFromLocationKey(key), options)
}

/** How many pids a stale-record guard remembers (least recently seen out first). */
export const DEFAULT_TRACKED_LOCATIONS = 50_000

/**
 * A validator for `/praas-pid/` keys that also refuses stale records: once this peer has seen a
 * valid record of a pid, an older one (lower epoch, or same epoch and lower seq) is invalid here.
 * kad-dht stores whatever a PUT_VALUE brings without asking the selector, so without this guard
 * a replayed old record (validly signed, once) would overwrite a newer one on the peers that
 * hold the key. One guard per libp2p peer: it is state of that peer's DHT.
 */
export function locationValidator (isMember?: (peerId: string) => boolean, maxTracked = DEFAULT_TRACKED_LOCATIONS): (key: Uint8Array, value: Uint8Array, options?: AbortOptions) => Promise<void> {
  const newest = new Map<string, Pick<Location, 'epoch' | 'seq'>>()
  return async (key, value, options) => {
    const pid = pidFromLocationKey(key)
    const location = await verifyLocation(value, pid, { signal: options?.signal, isMember })
    const known = newest.get(pid)
    if (known != null && compareLocations(location, known) < 0) {
      throw invalid(`stale: epoch ${location.epoch.term}.${location.epoch.counter} seq ${location.seq} is older than one already seen`)
    }
    newest.delete(pid)
    newest.set(pid, known != null && compareLocations(known, location) > 0 ? known : { epoch: location.epoch, seq: location.seq })
    if (newest.size > maxTracked) newest.delete(newest.keys().next().value!)
  }
}

/**
 * kad-dht selector for `/praas-pid/` keys: the index of the newest record (epoch, then seq).
 * Values that do not decode rank last. Ties between different bytes (one node signing two
 * records with the same seq) go to the greater bytes, so every peer picks the same one.
 */
export function selectLocationRecord (key: Uint8Array, values: Uint8Array[]): number {
  let best = -1
  let bestRecord: LocationRecord | undefined
  values.forEach((value, index) => {
    let record: LocationRecord
    try {
      record = decodeShape(value).record
    } catch {
      return
    }
    const order = bestRecord == null
      ? 1
      : compareLocations(asOrder(record), asOrder(bestRecord)) || uint8ArrayCompare(value, values[best])
    if (order > 0) {
      best = index
      bestRecord = record
    }
  })
  return Math.max(best, 0)
}

function asOrder (record: LocationRecord): Pick<Location, 'epoch' | 'seq'> {
  return { epoch: { term: record.term, counter: record.counter }, seq: record.seq }
}
