import assert from 'node:assert/strict'
import fc from 'fast-check'
import { fromString as uint8ArrayFromString } from 'uint8arrays/from-string'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { Ed25519PrivateKey } from '../../protocol/ed25519.js'
import { Token } from '../../protocol/pb/token.js'
import {
  RIGHTS, attenuateToken, authorize, clusterIdOf, inspectToken, issueToken, parseDuration, rightBit, rightsFromBits, tokenCluster, tokenId, verifyToken
} from '../../protocol/token.js'
import type { Caveats, Grant, Right } from '../../protocol/token.js'
import { throwsCode } from './helpers.js'

const owner = Ed25519PrivateKey.generate()
const cluster = clusterIdOf(owner.publicKey)
const admin = issueToken(owner, {})

function tamper (text: string, edit: (token: Token) => void): string {
  const token = Token.decode(uint8ArrayFromString(text.slice('praas_'.length), 'base64url'))
  edit(token)
  return 'praas_' + uint8ArrayToString(Token.encode(token), 'base64url')
}

const rightsArb = fc.subarray([...RIGHTS])
const caveatsArb: fc.Arbitrary<Caveats> = fc.record({
  rights: fc.option(rightsArb, { nil: undefined }),
  apps: fc.option(fc.subarray(['a', 'b', 'c', 'd']), { nil: undefined }),
  pids: fc.option(fc.subarray(['p1', 'p2', 'p3']), { nil: undefined }),
  ttlMs: fc.option(fc.integer({ min: 1, max: 10_000_000 }), { nil: undefined }),
  role: fc.option(fc.constantFrom('client' as const, 'node' as const), { nil: undefined })
})

function within (child: ReadonlySet<string> | undefined, parent: ReadonlySet<string> | undefined): boolean {
  if (parent == null) return true
  return child != null && [...child].every(e => parent.has(e))
}

describe('protocol/token', () => {
  it('verifies a token issued by the cluster key, with every right and no end', () => {
    const grant = verifyToken(admin, cluster)
    assert.equal(grant.role, 'client')
    assert.deepEqual(rightsFromBits(grant.rights), [...RIGHTS])
    assert.equal(grant.notAfter, Infinity)
    assert.equal(grant.owner, 'admin')
    assert.equal(tokenCluster(admin), cluster)
  })

  it('refuses a token of another cluster, a bad signature, a chain cut short, and garbage', () => {
    const other = Ed25519PrivateKey.generate()
    throwsCode(() => verifyToken(issueToken(other, {}), cluster), 'UNAUTHORIZED')
    const child = attenuateToken(admin, { rights: ['invoke'] })
    // drop the narrowing block: the parent's blocks are validly signed, but the proof is the child's
    throwsCode(() => verifyToken(tamper(child, t => { t.blocks.pop() }), cluster), 'UNAUTHORIZED')
    // flip a bit of the first block
    throwsCode(() => verifyToken(tamper(admin, t => { t.blocks[0].block[20] ^= 1 }), cluster), 'UNAUTHORIZED')
    for (const garbage of ['', 'praas_', 'praas_!!!', 'hello', 'praas_' + 'A'.repeat(20_000)]) throwsCode(() => verifyToken(garbage, cluster), 'UNAUTHORIZED')
  })

  it('refuses an expired token and a revoked one, and a token minted from a revoked one', () => {
    const now = Date.now()
    const short = attenuateToken(admin, { ttlMs: 1000 }, now)
    assert.ok(verifyToken(short, cluster, { now: now + 500 }))
    throwsCode(() => verifyToken(short, cluster, { now: now + 1001 }), 'UNAUTHORIZED')
    const parent = attenuateToken(admin, { rights: ['invoke', 'list'] })
    const child = attenuateToken(parent, { rights: ['invoke'] })
    const revoked = new Set([tokenId(parent)])
    throwsCode(() => verifyToken(child, cluster, { isRevoked: id => revoked.has(id) }), 'UNAUTHORIZED')
    assert.ok(verifyToken(admin, cluster, { isRevoked: id => revoked.has(id) }))
  })

  it('refuses to mint more than the parent holds, naming what is missing', () => {
    const invoker = attenuateToken(admin, { rights: ['invoke'], apps: ['counter'], ttlMs: 60_000 })
    assert.throws(() => attenuateToken(invoker, { rights: ['invoke', 'delete'] }), /lacks the right delete/)
    assert.throws(() => attenuateToken(invoker, { apps: ['chat'] }), /does not reach app chat/)
    assert.throws(() => attenuateToken(invoker, { ttlMs: 120_000 }), /outlive/)
    assert.throws(() => attenuateToken(invoker, { role: 'node' }), /cannot mint a node token/)
    const join = attenuateToken(admin, { role: 'node', ttlMs: 60_000 })
    assert.equal(verifyToken(join, cluster).role, 'node')
    assert.equal(verifyToken(join, cluster).rights, 0)
  })

  it('checks requests against a grant and names the missing right', () => {
    const grant = verifyToken(attenuateToken(admin, { rights: ['invoke', 'list'], apps: ['counter'] }), cluster)
    authorize(grant, 'invoke', { app: 'counter', pid: 'x' })
    assert.throws(() => authorize(grant, 'delete', { app: 'counter' }), /lacks the delete right/)
    assert.throws(() => authorize(grant, 'invoke', { app: 'chat' }), /does not reach app chat/)
    assert.throws(() => authorize(undefined, 'invoke'), /presented no token/)
    assert.throws(() => authorize({ ...grant, notAfter: 1 }, 'invoke'), /expired/)
  })

  it('never grants a right, an app, a pid or a later end that the parent lacked (random chains)', () => {
    const now = Date.now()
    fc.assert(fc.property(fc.array(caveatsArb, { minLength: 1, maxLength: 6 }), (chain) => {
      let token = admin
      let parent: Grant = verifyToken(admin, cluster, { now })
      for (const caveats of chain) {
        let child: string
        try {
          child = attenuateToken(token, caveats, now)
        } catch (err) {
          // refused at minting: it asked for more than the parent holds
          assert.equal((err as { code?: string }).code, 'UNAUTHORIZED')
          continue
        }
        const grant = verifyToken(child, cluster, { now })
        assert.equal(grant.rights & ~parent.rights, 0, 'no right the parent lacked')
        assert.ok(within(grant.apps, parent.apps), 'no app outside the parent scope')
        assert.ok(within(grant.pids, parent.pids), 'no pid outside the parent scope')
        assert.ok(grant.notAfter <= parent.notAfter, 'no later end')
        assert.ok(grant.role === parent.role || (grant.role === 'node' && (parent.rights & rightBit('admin')) !== 0))
        assert.deepEqual(grant.ids.slice(0, parent.ids.length), parent.ids)
        assert.deepEqual(inspectToken(child), grant)
        token = child
        parent = grant
      }
    }), { numRuns: 200 })
  })

  it('parses durations', () => {
    assert.equal(parseDuration('90s'), 90_000)
    assert.equal(parseDuration('15m'), 900_000)
    assert.equal(parseDuration('2d'), 172_800_000)
    assert.equal(parseDuration('250'), 250)
    throwsCode(() => parseDuration('soon'), 'BAD_REQUEST')
  })

  it('lists every right once', () => {
    const all: Right[] = [...RIGHTS]
    assert.equal(new Set(all.map(rightBit)).size, all.length)
  })
})
