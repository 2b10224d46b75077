import { createPrivateKey, createPublicKey, randomBytes, sign, verify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'

/**
 * Ed25519 on Node's own crypto, with key objects made once. @libp2p/crypto's Ed25519 keys import
 * a JWK into a new key object for every signature and verification on Node (a profile of an idle
 * node showed `createPrivateKey` per heartbeat); tokens and grants are signed and checked here.
 */

/** DER prefixes that wrap a raw 32-byte Ed25519 seed (PKCS#8) or public key (SPKI). */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

export const ED25519_KEY_BYTES = 32
export const ED25519_SIGNATURE_BYTES = 64

/** A private key: its 32-byte seed and the key object made from it once. */
export class Ed25519PrivateKey {
  private readonly key: KeyObject
  /** The raw 32-byte public key. */
  readonly publicKey: Uint8Array<ArrayBuffer>

  constructor (readonly seed: Uint8Array<ArrayBuffer>) {
    if (seed.byteLength !== ED25519_KEY_BYTES) throw new RangeError('an Ed25519 seed is 32 bytes')
    this.key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' })
    const spki = createPublicKey(this.key).export({ format: 'der', type: 'spki' })
    this.publicKey = new Uint8Array(spki.subarray(SPKI_PREFIX.byteLength))
  }

  static generate (): Ed25519PrivateKey {
    return new Ed25519PrivateKey(new Uint8Array(randomBytes(ED25519_KEY_BYTES)))
  }

  sign (data: Uint8Array): Uint8Array<ArrayBuffer> {
    return new Uint8Array(sign(null, data, this.key))
  }
}

const MAX_CACHED_PUBLIC_KEYS = 1024
const publicKeys = new Map<string, KeyObject>()

function publicKeyObject (raw: Uint8Array): KeyObject {
  const id = Buffer.from(raw).toString('base64')
  let key = publicKeys.get(id)
  if (key == null) {
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' })
    if (publicKeys.size >= MAX_CACHED_PUBLIC_KEYS) publicKeys.delete(publicKeys.keys().next().value!)
    publicKeys.set(id, key)
  }
  return key
}

/** Whether `signature` is `publicKey`'s (raw, 32 bytes) over `data`; false for anything malformed. */
export function verifyEd25519 (publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.byteLength !== ED25519_KEY_BYTES || signature.byteLength !== ED25519_SIGNATURE_BYTES) return false
  try {
    return verify(null, data, publicKeyObject(publicKey), signature)
  } catch {
    return false
  }
}
