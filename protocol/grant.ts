import { peerIdFromString } from '@libp2p/peer-id'
import { concat as uint8ArrayConcat } from 'uint8arrays/concat'
import { equals as uint8ArrayEquals } from 'uint8arrays/equals'
import { fromString as uint8ArrayFromString } from 'uint8arrays/from-string'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { verifyEd25519 } from './ed25519.js'
import { PraasError } from './errors.js'
import { EpochGrant, SignedGrant } from './pb/cluster.js'
import type { Ed25519PrivateKey } from './ed25519.js'
import type { PeerId } from '@libp2p/interface'

/**
 * Epoch grants: the allocator (the leader) signs each activation epoch it issues, naming the pid
 * and the node that is to host it. The hosting node's location record carries the grant, and a
 * record is valid only with a grant that a member signed for exactly its pid, node and epoch: a
 * peer outside the cluster cannot make up an epoch (docs/security.md).
 */

const SIGNATURE_DOMAIN = uint8ArrayFromString('praas-epoch-grant:')
export const MAX_GRANT_BYTES = 512

export interface GrantedEpoch {
  pid: string
  /** The hosting node's peer id. */
  node: PeerId
  term: number
  counter: number
}

/** Signs an epoch with the leader's identity key; returns the encoded SignedGrant. */
export function signGrant (epoch: GrantedEpoch, leader: PeerId, key: Ed25519PrivateKey): Uint8Array<ArrayBuffer> {
  const grant = EpochGrant.encode({ pid: epoch.pid, node: epoch.node.toMultihash().bytes, term: epoch.term, counter: epoch.counter })
  return SignedGrant.encode({ grant, leader: leader.toMultihash().bytes, signature: key.sign(uint8ArrayConcat([SIGNATURE_DOMAIN, grant])) })
}

function invalid (message: string): PraasError {
  return new PraasError('BAD_REQUEST', `invalid epoch grant: ${message}`)
}

/**
 * Checks a grant against the epoch it should grant, and returns the leader that signed it; the
 * caller checks that the leader is a member. Throws BAD_REQUEST otherwise.
 */
export function verifyGrant (bytes: Uint8Array, epoch: GrantedEpoch): PeerId {
  if (bytes.byteLength === 0) throw invalid('missing')
  if (bytes.byteLength > MAX_GRANT_BYTES) throw invalid('too large')
  let signed: SignedGrant
  let grant: EpochGrant
  let leader: PeerId
  try {
    signed = SignedGrant.decode(bytes)
    grant = EpochGrant.decode(signed.grant)
    leader = peerIdFromString(uint8ArrayToString(signed.leader, 'base58btc'))
  } catch (err) {
    throw invalid((err as Error).message)
  }
  if (grant.pid !== epoch.pid || grant.term !== epoch.term || grant.counter !== epoch.counter || !uint8ArrayEquals(grant.node, epoch.node.toMultihash().bytes)) {
    throw invalid('it grants another pid, node or epoch')
  }
  if (leader.type !== 'Ed25519' || leader.publicKey == null) throw invalid('the leader has no Ed25519 key')
  if (!verifyEd25519(leader.publicKey.raw, uint8ArrayConcat([SIGNATURE_DOMAIN, signed.grant]), signed.signature)) throw invalid('bad signature')
  return leader
}
