/** `praas token create`: mints a token offline from the caller's token (or the cluster key). */
import { PraasError } from '../../protocol/errors.js'
import { attenuateToken, inspectToken, isRight, issueToken, parseDuration, rightsFromBits, tokenId } from '../../protocol/token.js'
import { readClusterKey } from '../trust/cluster-files.js'
import { tokenOf } from './client-commands.js'
import { listValues } from './options.js'
import type { Caveats, Right } from '../../protocol/token.js'

export async function create (opts: { role: string, rights?: string, app?: string[], pid?: string[], ttl: string, clusterKey?: string, token?: string }): Promise<void> {
  if (opts.role !== 'node' && opts.role !== 'client') throw new PraasError('BAD_REQUEST', '--role is node or client')
  const rights = opts.rights == null ? undefined : listValues(opts.rights)
  const unknown = rights?.filter(r => !isRight(r)) ?? []
  if (unknown.length > 0) throw new PraasError('BAD_REQUEST', `unknown right ${unknown.join(', ')}`)
  const apps = listValues(opts.app)
  const pids = listValues(opts.pid)
  const caveats: Caveats = { role: opts.role, rights: rights as Right[] | undefined, apps: apps.length > 0 ? apps : undefined, pids: pids.length > 0 ? pids : undefined, ttlMs: parseDuration(opts.ttl) }
  let minted: string
  if (opts.clusterKey != null) {
    minted = issueToken(await readClusterKey(opts.clusterKey), caveats)
  } else {
    const parent = await tokenOf(opts)
    if (parent == null) throw new PraasError('UNAUTHORIZED', 'no token to mint from: pass --token, set PRAAS_TOKEN, or run where ./.praas/admin.token is')
    minted = attenuateToken(parent, caveats)
  }
  const grant = inspectToken(minted)
  process.stdout.write(`${minted}\n`)
  const what = grant.role === 'client' ? ` ${rightsFromBits(grant.rights).join(',')}` : ''
  process.stderr.write(`token ${tokenId(minted)}: ${grant.role}${what}, expires ${Number.isFinite(grant.notAfter) ? new Date(grant.notAfter).toISOString() : 'never'}\n`)
}
