import { AUTH_PROTOCOL } from '../../protocol/ids.js'
import { serveTokenExchange } from '../../protocol/auth.js'
import { PraasError } from '../../protocol/errors.js'
import { authorize, verifyToken } from '../../protocol/token.js'
import type { Roster } from '../cluster/roster.js'
import type { Grant, Right, Target } from '../../protocol/token.js'
import type { Connection, Libp2p, Logger } from '@libp2p/interface'

/** How long a token presentation may take. */
const AUTH_TIMEOUT_MS = 5_000
/** Verified tokens kept, so that a client that reconnects (the CLI, once per command) is not verified again. */
const MAX_VERIFIED = 1024

/**
 * Who may do what on this node, per connection: a member of the cluster may do anything a node
 * does; any other peer may do what the token it presented on that connection grants (SPEC
 * "Trust"), and nothing if it presented none. The grant is kept with the connection and dropped
 * with it; a revocation or the end of a token reaches the grants already given.
 */
export class ConnectionGrants {
  private readonly byConnection = new Map<string, Grant>()
  private readonly verified = new Map<string, Grant>()

  constructor (private readonly roster: Roster, private readonly log: Logger) {
    roster.addEventListener('change', () => { this.dropRevoked() })
  }

  /** Serves /praas/auth/1.0.0 and forgets grants with their connections. */
  async start (host: Libp2p): Promise<void> {
    host.addEventListener('connection:close', (evt) => { this.byConnection.delete(evt.detail.id) })
    await host.handle(AUTH_PROTOCOL, (stream, connection) => {
      void serveTokenExchange(stream, (token) => {
        const grant = this.verify(token)
        this.byConnection.set(connection.id, grant)
        this.log('%p presented token %s (%s)', connection.remotePeer, grant.ids.at(-1), grant.role)
        return { cluster: this.roster.clusterId ?? '', rights: grant.rights, notAfter: grant.notAfter }
      }, { signal: AbortSignal.timeout(AUTH_TIMEOUT_MS) })
    }, { maxInboundStreams: 4 })
  }

  /** Verifies a token against this cluster (revocations included); UNAUTHORIZED says why not. */
  verify (token: string): Grant {
    const cached = this.verified.get(token)
    if (cached != null && !cached.ids.some(id => this.roster.isRevoked(id))) return cached
    const grant = verifyToken(token, this.roster.clusterId ?? '', { isRevoked: (id) => this.roster.isRevoked(id) })
    if (this.verified.size >= MAX_VERIFIED) this.verified.delete(this.verified.keys().next().value!)
    this.verified.set(token, grant)
    return grant
  }

  /** Whether the peer of a connection is a member of the cluster (a node). */
  isMember (connection: Connection): boolean {
    return this.roster.isMember(connection.remotePeer.toString())
  }

  /** The grant of a connection's token, if it presented one; UNAUTHORIZED if that token has been revoked since. */
  of (connection: Connection): Grant | undefined {
    const grant = this.byConnection.get(connection.id)
    const revoked = grant?.ids.find(id => this.roster.isRevoked(id))
    if (revoked != null) throw new PraasError('UNAUTHORIZED', `the token was revoked (${revoked})`)
    return grant
  }

  /** Throws UNAUTHORIZED unless the connection's peer is a member or its token allows `right` on `target`. */
  check (connection: Connection, right: Right, target?: Target): void {
    if (this.isMember(connection)) return
    authorize(this.of(connection), right, target)
  }

  private dropRevoked (): void {
    for (const [token, grant] of this.verified) {
      if (grant.ids.some(block => this.roster.isRevoked(block))) this.verified.delete(token)
    }
  }
}
