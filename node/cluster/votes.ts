import { peerIdFromString } from '@libp2p/peer-id'
import { VoteRequest, VoteResponse } from '../../protocol/pb/cluster.js'
import { ELECT_PROTOCOL, VOTE_TIMEOUT_MS } from './constants.js'
import { rpc, serveRpc } from './rpc.js'
import type { ClusterComponents } from './components.js'
import type { AbortOptions } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * How the election asks for votes and answers them, so that the same election code runs over
 * libp2p (Libp2pVotes) and on the simulator's clock and network (bench/sim/votes.ts).
 */
export interface VoteTransport {
  /** Answers vote requests with `handler`; `candidate` is the authenticated sender, never a field. */
  serve(handler: (candidate: string, request: VoteRequest) => Promise<Partial<VoteResponse>>): Promise<void>
  unserve(): Promise<void>
  /** Asks one member; rejects on a timeout (`timeoutMs`), an abort or an unreachable member. */
  ask(voter: string, request: Partial<VoteRequest>, options: AbortOptions & { timeoutMs: number }): Promise<VoteResponse>
}

export interface Libp2pVotesComponents extends Pick<ClusterComponents, 'registrar' | 'connectionManager'> {
  /** Where a member listens (its SWIM record, else what it said when it joined). */
  addrsOf(peerId: string): Multiaddr[]
}

/** /praas/elect/1.0.0: one VoteRequest and one VoteResponse per stream. */
export class Libp2pVotes implements VoteTransport {
  constructor (private readonly components: Libp2pVotesComponents) {}

  async serve (handler: (candidate: string, request: VoteRequest) => Promise<Partial<VoteResponse>>): Promise<void> {
    await this.components.registrar.handle(ELECT_PROTOCOL, (stream, connection) => {
      // the candidate is whoever the connection authenticated, never a field of the request
      const candidate = connection.remotePeer.toString()
      void serveRpc(stream, { request: VoteRequest, response: VoteResponse }, async (request) => await handler(candidate, request), { signal: AbortSignal.timeout(VOTE_TIMEOUT_MS) })
    }, { maxInboundStreams: 64 })
  }

  async unserve (): Promise<void> {
    await this.components.registrar.unhandle(ELECT_PROTOCOL).catch(() => {})
  }

  async ask (voter: string, request: Partial<VoteRequest>, options: AbortOptions & { timeoutMs: number }): Promise<VoteResponse> {
    const signal = AbortSignal.any([AbortSignal.timeout(options.timeoutMs), ...(options.signal != null ? [options.signal] : [])])
    const peer = peerIdFromString(voter)
    const addrs = this.components.addrsOf(voter)
    const target = this.components.connectionManager.getConnections(peer).length > 0 || addrs.length === 0 ? peer : addrs
    const stream = await this.components.connectionManager.openStream(target, ELECT_PROTOCOL, { signal })
    return await rpc(stream, request, { request: VoteRequest, response: VoteResponse }, { signal })
  }
}
