import { randomBytes } from 'node:crypto'
import { concat as uint8ArrayConcat } from 'uint8arrays/concat'
import { equals as uint8ArrayEquals } from 'uint8arrays/equals'
import { fromString as uint8ArrayFromString } from 'uint8arrays/from-string'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { Ed25519PrivateKey, verifyEd25519 } from './ed25519.js'
import { PraasError } from './errors.js'
import { MAX_NAME_LENGTH, MAX_PID_LENGTH } from './limits.js'
import { SignedBlock, Token, TokenBlock } from './pb/token.js'

/**
 * Tokens: what a peer may do in a cluster, checked offline by every node against the cluster's
 * id (its owner's Ed25519 public key). A token is a chain of blocks: the first is signed by the
 * owner key, each next one by the key its predecessor named (`nextKey`), and the token carries
 * the private key of the last named key (`proof`). Whoever holds a token can append a block, and
 * a block can only narrow what the chain allows (fewer rights, a smaller scope, an earlier end),
 * so an attenuated token never carries more than its parent. The proof must match the last
 * block, so a chain cut short (its narrowing blocks dropped) is refused. Revoking a block's id
 * revokes every token that contains the block. The design is Biscuit's, without its Datalog.
 */

export const RIGHTS = ['deploy', 'create', 'invoke', 'send', 'recv', 'list', 'swap', 'migrate', 'delete', 'status', 'admin'] as const
export type Right = typeof RIGHTS[number]
export type Role = 'node' | 'client'

const ALL_RIGHTS = (1 << RIGHTS.length) - 1
const TOKEN_PREFIX = 'praas_'
const SIGNATURE_DOMAIN = uint8ArrayFromString('praas-token-block:')
export const MAX_TOKEN_CHARS = 16 * 1024
const MAX_BLOCKS = 16
const MAX_SCOPE_ENTRIES = 64
const ID_BYTES = 16

export function rightBit (right: Right): number {
  return 1 << RIGHTS.indexOf(right)
}

export function rightsFromBits (bits: number): Right[] {
  return RIGHTS.filter(r => (bits & rightBit(r)) !== 0)
}

export function isRight (value: string): value is Right {
  return (RIGHTS as readonly string[]).includes(value)
}

/** What a verified token allows: its chain's narrowest role, rights, scope and end. */
export interface Grant {
  role: Role
  /** A bit per right (see `rightBit`). */
  rights: number
  /** Apps it is limited to; undefined for any. */
  apps?: ReadonlySet<string>
  /** Pids it is limited to; undefined for any. */
  pids?: ReadonlySet<string>
  /** Ms since 1970 after which it is refused; Infinity for never. */
  notAfter: number
  /** The ids (hex) of its blocks, first to last; the last is the token's own id. */
  ids: string[]
  /**
   * Whom quotas count it against: the id of the first block without the `admin` right (a
   * client's token and everything minted from it share it), or 'admin'.
   */
  owner: string
}

/** The caveats of a new block. */
export interface Caveats {
  role?: Role
  rights?: Right[]
  apps?: string[]
  pids?: string[]
  /** Life from now, in ms; undefined: no limit of its own (the parent's still holds). */
  ttlMs?: number
}

function unauthorized (message: string): PraasError {
  return new PraasError('UNAUTHORIZED', message)
}

const ROLE_TO_WIRE: Record<Role, TokenBlock.Role> = { node: TokenBlock.Role.NODE, client: TokenBlock.Role.CLIENT }
function roleFromWire (role: TokenBlock.Role): Role | undefined {
  return role === TokenBlock.Role.NODE ? 'node' : role === TokenBlock.Role.CLIENT ? 'client' : undefined
}

function encodeToken (token: Token): string {
  return TOKEN_PREFIX + uint8ArrayToString(Token.encode(token), 'base64url')
}

function decodeToken (text: string): Token {
  if (typeof text !== 'string' || !text.startsWith(TOKEN_PREFIX) || text.length > MAX_TOKEN_CHARS) throw unauthorized('not a praas token')
  try {
    const token = Token.decode(uint8ArrayFromString(text.slice(TOKEN_PREFIX.length).trim(), 'base64url'), { limits: { blocks: MAX_BLOCKS } })
    if (token.blocks.length === 0) throw new Error('no blocks')
    return token
  } catch (err) {
    throw unauthorized(`malformed token: ${(err as Error).message}`)
  }
}

function decodeBlock (bytes: Uint8Array): TokenBlock {
  const block = TokenBlock.decode(bytes, { limits: { apps: MAX_SCOPE_ENTRIES, pids: MAX_SCOPE_ENTRIES } })
  if (block.id.byteLength !== ID_BYTES || block.nextKey.byteLength !== 32) throw new Error('block id or next key of the wrong size')
  if (!Number.isSafeInteger(block.notAfter) || !Number.isSafeInteger(block.issuedAt)) throw new Error('time out of range')
  if (block.apps.some(a => a.length === 0 || a.length > MAX_NAME_LENGTH) || block.pids.some(p => p.length === 0 || p.length > MAX_PID_LENGTH)) throw new Error('scope entry of the wrong length')
  return block
}

function narrow (scope: ReadonlySet<string> | undefined, entries: string[]): ReadonlySet<string> | undefined {
  if (entries.length === 0) return scope
  return new Set(scope == null ? entries : entries.filter(e => scope.has(e)))
}

/**
 * Folds one block into what the chain before it allows. The role stays the chain's, but a block
 * minted by a holder of `admin` may name the `node` role (a join token); a node token carries no
 * client rights.
 */
function fold (parent: Grant | undefined, block: TokenBlock, id: string): Grant {
  const role = roleFromWire(block.role)
  if (role == null) throw unauthorized('a token block names no role')
  if (parent != null && role !== parent.role && !(role === 'node' && (parent.rights & rightBit('admin')) !== 0)) {
    throw unauthorized(`a ${parent.role} token cannot mint a ${role} token`)
  }
  const rights = role === 'node' ? 0 : (parent?.rights ?? ALL_RIGHTS) & block.rights
  const notAfter = Math.min(parent?.notAfter ?? Infinity, block.notAfter === 0 ? Infinity : block.notAfter)
  const owner = parent != null && parent.owner !== 'admin' ? parent.owner : ((rights & rightBit('admin')) !== 0 ? 'admin' : id)
  return { role, rights, apps: narrow(parent?.apps, block.apps), pids: narrow(parent?.pids, block.pids), notAfter, ids: [...(parent?.ids ?? []), id], owner }
}

/** The cluster a token claims (its first block's), without verifying anything. */
export function tokenCluster (text: string): string {
  const token = decodeToken(text)
  try {
    return decodeBlock(token.blocks[0].block).cluster
  } catch (err) {
    throw unauthorized(`malformed token: ${(err as Error).message}`)
  }
}

/** The cluster id of an owner key: its raw public key in base58btc. */
export function clusterIdOf (ownerPublicKey: Uint8Array): string {
  return uint8ArrayToString(ownerPublicKey, 'base58btc')
}

function clusterKeyOf (clusterId: string): Uint8Array {
  try {
    const key = uint8ArrayFromString(clusterId, 'base58btc')
    if (key.byteLength === 32) return key
  } catch {}
  throw unauthorized(`${clusterId} is not a cluster id`)
}

export interface VerifyOptions {
  /** Ms since 1970. Default: now. */
  now?: number
  /** Whether a block id (hex) is revoked. */
  isRevoked?(id: string): boolean
}

/**
 * Verifies a token against a cluster id and returns what it grants; UNAUTHORIZED says why not
 * (malformed, another cluster, a bad signature, a chain cut short, expired, revoked).
 */
export function verifyToken (text: string, clusterId: string, options: VerifyOptions = {}): Grant {
  const token = decodeToken(text)
  let key = clusterKeyOf(clusterId)
  let grant: Grant | undefined
  for (const [index, signed] of token.blocks.entries()) {
    if (!verifyEd25519(key, uint8ArrayConcat([SIGNATURE_DOMAIN, signed.block]), signed.signature)) {
      throw unauthorized(index === 0 ? 'the token was not issued by this cluster' : 'a token block has a bad signature')
    }
    let block: TokenBlock
    try {
      block = decodeBlock(signed.block)
    } catch (err) {
      throw unauthorized(`malformed token: ${(err as Error).message}`)
    }
    if (index === 0 && block.cluster !== clusterId) throw unauthorized('the token names another cluster')
    grant = fold(grant, block, uint8ArrayToString(block.id, 'base16'))
    key = block.nextKey
  }
  let proof: Ed25519PrivateKey
  try {
    proof = new Ed25519PrivateKey(token.proof)
  } catch {
    throw unauthorized('the token carries no proof')
  }
  if (!uint8ArrayEquals(proof.publicKey, key)) throw unauthorized('the token was cut short: its proof does not match its last block')
  const now = options.now ?? Date.now()
  if (grant!.notAfter < now) throw unauthorized('the token has expired')
  const revoked = grant!.ids.find(id => options.isRevoked?.(id) === true)
  if (revoked != null) throw unauthorized(`the token was revoked (${revoked})`)
  return grant!
}

function newBlock (caveats: Caveats, now: number, next: Ed25519PrivateKey, cluster = ''): TokenBlock {
  const rights = caveats.rights == null ? ALL_RIGHTS : caveats.rights.reduce((bits, r) => bits | rightBit(r), 0)
  return {
    id: new Uint8Array(randomBytes(ID_BYTES)),
    cluster,
    role: ROLE_TO_WIRE[caveats.role ?? 'client'],
    rights,
    apps: caveats.apps ?? [],
    pids: caveats.pids ?? [],
    notAfter: caveats.ttlMs == null ? 0 : now + caveats.ttlMs,
    nextKey: next.publicKey,
    issuedAt: now
  }
}

function signBlock (block: TokenBlock, key: Ed25519PrivateKey): SignedBlock {
  const bytes = TokenBlock.encode(block)
  return { block: bytes, signature: key.sign(uint8ArrayConcat([SIGNATURE_DOMAIN, bytes])) }
}

/** A new token issued by the cluster's owner key (the first block of a chain). */
export function issueToken (owner: Ed25519PrivateKey, caveats: Caveats, now = Date.now()): string {
  const next = Ed25519PrivateKey.generate()
  const block = newBlock(caveats, now, next, clusterIdOf(owner.publicKey))
  return encodeToken({ blocks: [signBlock(block, owner)], proof: next.seed })
}

/** What a token's chain allows, read without checking signatures (for minting and inspecting). */
export function inspectToken (text: string): Grant {
  const token = decodeToken(text)
  let grant: Grant | undefined
  for (const signed of token.blocks) {
    let block: TokenBlock
    try {
      block = decodeBlock(signed.block)
    } catch (err) {
      throw unauthorized(`malformed token: ${(err as Error).message}`)
    }
    grant = fold(grant, block, uint8ArrayToString(block.id, 'base16'))
  }
  return grant!
}

/**
 * Mints a narrower token from `parent` (offline: the parent's proof signs the new block). Asking
 * for more than the parent allows is an UNAUTHORIZED error naming what is missing; the result
 * could not carry it anyway.
 */
export function attenuateToken (parent: string, caveats: Caveats, now = Date.now()): string {
  const token = decodeToken(parent)
  const allowed = inspectToken(parent)
  const role = caveats.role ?? allowed.role
  if (role !== allowed.role && !(role === 'node' && (allowed.rights & rightBit('admin')) !== 0)) {
    throw unauthorized(`a ${allowed.role} token cannot mint a ${role} token${role === 'node' ? ' (that needs the admin right)' : ''}`)
  }
  if (role === 'client') {
    const missing = (caveats.rights ?? rightsFromBits(allowed.rights)).filter(r => (allowed.rights & rightBit(r)) === 0)
    if (missing.length > 0) throw unauthorized(`the token lacks the right${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`)
  }
  for (const [what, scope, asked] of [['app', allowed.apps, caveats.apps], ['pid', allowed.pids, caveats.pids]] as const) {
    const outside = scope == null ? [] : (asked ?? []).filter(e => !scope.has(e))
    if (outside.length > 0) throw unauthorized(`the token does not reach ${what} ${outside.join(', ')}`)
  }
  if (caveats.ttlMs != null && now + caveats.ttlMs > allowed.notAfter) throw unauthorized('the new token would outlive the token it is minted from')
  let proof: Ed25519PrivateKey
  try {
    proof = new Ed25519PrivateKey(token.proof)
  } catch {
    throw unauthorized('the token carries no proof: it cannot mint')
  }
  const next = Ed25519PrivateKey.generate()
  const block = newBlock({ ...caveats, role, rights: role === 'node' ? [] : caveats.rights }, now, next)
  return encodeToken({ blocks: [...token.blocks, signBlock(block, proof)], proof: next.seed })
}

/** The id of a token (its last block's, hex): what `praas token revoke ID` names. */
export function tokenId (text: string): string {
  return inspectToken(text).ids.at(-1)!
}

/** What a request touches, for the scope check: the app and pid it acts on, where known. */
export interface Target {
  app?: string
  pid?: string
}

/**
 * Checks one request against a connection's grant (undefined: no token was presented) and throws
 * UNAUTHORIZED naming what is missing. Cheap: a bit test and set lookups.
 */
export function authorize (grant: Grant | undefined, right: Right, target: Target = {}, now = Date.now()): void {
  if (grant == null) throw unauthorized(`the ${right} right is needed, and this connection presented no token`)
  if (grant.notAfter < now) throw unauthorized('the token has expired')
  if ((grant.rights & rightBit(right)) === 0) throw unauthorized(`the token lacks the ${right} right`)
  if (grant.apps != null && target.app != null && !grant.apps.has(target.app)) throw unauthorized(`the token does not reach app ${target.app}`)
  if (grant.pids != null && target.pid != null && !grant.pids.has(target.pid)) throw unauthorized(`the token does not reach process ${target.pid}`)
}

/** Whether a grant reaches an app and a pid (for filtering lists). */
export function reaches (grant: Grant, target: Target): boolean {
  return (grant.apps == null || target.app == null || grant.apps.has(target.app)) &&
    (grant.pids == null || target.pid == null || grant.pids.has(target.pid))
}

/** Parses a duration such as `90s`, `15m`, `12h`, `30d` (or plain ms) into ms. */
export function parseDuration (text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim())
  if (match == null) throw new PraasError('BAD_REQUEST', `${text} is not a duration (e.g. 90s, 15m, 12h, 30d)`)
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(match[2] ?? 'ms') as 'ms']
  return Number(match[1]) * unit
}
