import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Ed25519PrivateKey } from '../../protocol/ed25519.js'
import type { PrivateKey } from '@libp2p/interface'

const KEY_FILE = 'identity.key'

/** The node's Ed25519 identity, kept in its data dir so that a restarted node keeps its peer id. */
export async function loadOrCreateIdentity (dataDir: string): Promise<PrivateKey> {
  const path = join(dataDir, KEY_FILE)
  const stored = await readFile(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined
    throw err
  })
  if (stored != null) return withKeptKeyObject(privateKeyFromProtobuf(stored))
  const key = await generateKeyPair('Ed25519')
  await mkdir(dataDir, { recursive: true })
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, privateKeyToProtobuf(key), { mode: 0o600 })
  await rename(tmp, path)
  return withKeptKeyObject(key)
}

/**
 * Sign once, with a key made once: @libp2p/crypto 5 signs with an Ed25519 key on Node by
 * importing it from a JWK into a new key object for every signature (`createPrivateKey` in
 * `hashAndSign`, keys/ed25519/index.js), which is most of the cost of a signature. Everything
 * the node signs with its identity through libp2p (Noise handshakes, signed peer records,
 * location records) goes through this key, so its `sign` is replaced, here and only here, by one
 * on a key object made once (protocol/ed25519.ts). Same bytes out: Ed25519 is deterministic
 * (test/cluster/identity.test.ts checks it against libp2p's).
 */
export function withKeptKeyObject (key: PrivateKey): PrivateKey {
  if (key.type !== 'Ed25519') return key
  const signer = new Ed25519PrivateKey(new Uint8Array(key.raw.subarray(0, 32)))
  key.sign = (data, options) => {
    options?.signal?.throwIfAborted()
    return signer.sign(data instanceof Uint8Array ? data : data.subarray())
  }
  return key
}
