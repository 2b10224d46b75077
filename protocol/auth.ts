import { lpStream } from '@libp2p/utils'
import { errorFromWire, errorToWire, PraasError, toPraasError } from './errors.js'
import { AuthRequest, AuthResponse } from './pb/messages.js'
import { MAX_TOKEN_CHARS } from './token.js'
import type { AbortOptions, Stream } from '@libp2p/interface'

/**
 * The token exchange of /praas/auth/1.0.0: one request (the token), one response (what it grants,
 * or why not), one stream, once per connection. A node keeps the grant with the connection and
 * checks every request on it against that grant, without verifying signatures again.
 */

const LP = { maxDataLength: MAX_TOKEN_CHARS + 1024, maxBufferSize: MAX_TOKEN_CHARS + 1040 }

/** What a node said of a token. */
export interface AuthResult {
  cluster: string
  rights: number
  notAfter: number
}

/** Presents a token on a fresh stream of the connection; resolves with the grant, throws UNAUTHORIZED if refused. */
export async function presentToken (stream: Stream, token: string, options: AbortOptions): Promise<AuthResult> {
  const lp = lpStream(stream, LP)
  try {
    await lp.write(AuthRequest.encode({ token }), options)
    const response = AuthResponse.decode(await lp.read(options))
    await stream.close(options).catch(() => {})
    if (response.error != null) throw errorFromWire(response.error)
    return { cluster: response.cluster, rights: response.rights, notAfter: response.notAfter }
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw toPraasError(err)
  }
}

/** Answers one token presentation through `accept`, which verifies the token and keeps the grant. */
export async function serveTokenExchange (stream: Stream, accept: (token: string) => AuthResult, options: AbortOptions): Promise<void> {
  const lp = lpStream(stream, LP)
  try {
    const request = AuthRequest.decode(await lp.read(options))
    let response: Partial<AuthResponse>
    try {
      const result = accept(request.token)
      response = { cluster: result.cluster, rights: result.rights, notAfter: Number.isFinite(result.notAfter) ? result.notAfter : 0 }
    } catch (err) {
      response = { error: errorToWire(toPraasError(err, 'UNAUTHORIZED')) }
    }
    await lp.write(AuthResponse.encode(response), options)
    await stream.close(options)
  } catch (err) {
    stream.abort(err instanceof Error ? err : new PraasError('BAD_REQUEST', String(err)))
  }
}
