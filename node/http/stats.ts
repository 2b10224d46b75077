import { peerIdFromString } from '@libp2p/peer-id'
import { pbStream } from '@libp2p/utils'
import { NodeStats } from '../../protocol/pb/stats.js'
import type { AbortOptions, Libp2p, Stream } from '@libp2p/interface'

/** A node's figures for the web view, asked of each member by the node that serves the view. */
export const STATS_PROTOCOL = '/praas/stats/1.0.0'
/** A NodeStats message is a few dozen bytes; anything near this is not one. */
const MAX_STATS_BYTES = 4096
const MAX_URL_LENGTH = 512

/** A decoded NodeStats, checked before the view shows it. */
function checked (stats: NodeStats): NodeStats {
  const count = (n: number): number => Number.isFinite(n) && n >= 0 ? n : 0
  return {
    active: count(stats.active),
    swapped: count(stats.swapped),
    callsTotal: count(stats.callsTotal),
    callsPerSecond: count(stats.callsPerSecond),
    mailboxBytes: count(stats.mailboxBytes),
    http: stats.http.length <= MAX_URL_LENGTH && /^https?:\/\//.test(stats.http) ? stats.http : ''
  }
}

/**
 * Serves this node's figures on STATS_PROTOCOL to the members of its cluster (`isMember`); a
 * stream from anyone else is reset.
 */
export async function serveStats (host: Libp2p, isMember: (peerId: string) => boolean, stats: () => NodeStats): Promise<void> {
  await host.handle(STATS_PROTOCOL, async (stream: Stream, connection) => {
    if (!isMember(connection.remotePeer.toString())) {
      stream.abort(new Error('the stats protocol is for nodes of this cluster'))
      return
    }
    try {
      await pbStream(stream, { maxDataLength: MAX_STATS_BYTES }).write(stats(), NodeStats, { signal: AbortSignal.timeout(5_000) })
      await stream.close({ signal: AbortSignal.timeout(5_000) })
    } catch (err) {
      stream.abort(err as Error)
    }
  }, { maxInboundStreams: 8, maxOutboundStreams: 8 })
}

/** Asks `peerId` for its figures; the signal bounds the whole exchange. */
export async function fetchStats (host: Libp2p, peerId: string, options: Required<AbortOptions>): Promise<NodeStats> {
  const stream = await host.dialProtocol(peerIdFromString(peerId), STATS_PROTOCOL, options)
  try {
    const stats = await pbStream(stream, { maxDataLength: MAX_STATS_BYTES }).read(NodeStats, options)
    await stream.close(options).catch(() => {})
    return checked(stats)
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}
