import { peerIdFromString } from '@libp2p/peer-id'
import { readFile } from 'node:fs/promises'
import { TypedEventEmitter } from 'main-event'
import { VoteRequest, VoteResponse } from '../../protocol/pb/cluster.js'
import {
  ELECT_PROTOCOL, ELECTION_JITTER_MS, ELECTION_RANK_STEP_MS, ELECTION_TIMEOUT_MS, LEADER_HEARTBEAT_INTERVAL_MS, STARTUP_GRACE_MS, VOTE_TIMEOUT_MS
} from './constants.js'
import { newer } from './roster.js'
import { rpc, serveRpc } from './rpc.js'
import { writeFileDurably } from '../trust/cluster-files.js'
import type { ClusterComponents } from './components.js'
import type { Member, Membership } from './membership.js'
import type { Roster } from './roster.js'
import type { AbortOptions, Logger, Startable } from '@libp2p/interface'

export interface LeaderElectionComponents extends ClusterComponents {
  membership: Membership
  roster: Roster
}

export interface LeaderElectionInit {
  /** A follower that has not heard its leader this long stands for election (plus rank and jitter). Default 1 s. */
  electionTimeoutMs?: number
  /** How long a new node listens before it may stand or vote. Default 2 s. */
  startupGraceMs?: number
  /** How often the leader publishes its heartbeat. Default 250 ms. */
  leaderHeartbeatIntervalMs?: number
  /** Where the term and the vote cast in it are kept across restarts (a vote must never be cast twice in one term). */
  stateFile?: string
}

export interface LeaderChange {
  /** The leader's peer id; undefined while there is none. */
  leader?: string
  term: number
}

export interface LeaderElectionEvents {
  'leader:change': CustomEvent<LeaderChange>
}

type Role = 'follower' | 'candidate' | 'leader'

const TICK_MS = 50

/**
 * Leader election with terms, Raft's vote without Raft's log: a node votes at most once per
 * term, so two candidates cannot both win one term unless their views of the membership are
 * disjoint (a partition; see docs/cluster.md). Chosen over a bully rule (lowest live peer id
 * leads) because the bully rule lets two nodes with different views both lead the same term,
 * at startup most of all, and the epochs of the allocator rely on a term having one leader.
 *
 * - The leader announces itself in its heartbeats (every 250 ms); a follower that has not heard
 *   it for the election timeout (1 s) plus its rank (live nodes ordered by peer id, 150 ms a
 *   step) plus jitter stands: term + 1, votes for itself, asks every live member over
 *   /praas/elect/1.0.0, and leads once a majority of the live membership (itself included)
 *   granted. A node that leaves says so in its last heartbeat, and the election starts at once.
 * - A voter refuses while it still hears a live leader (so one node that missed heartbeats
 *   cannot depose a healthy leader), and during its first seconds (it has not heard the
 *   cluster yet, and may have voted in this term before a restart).
 * - A leader that sees another leader of the same term yields to the lower peer id; any node
 *   that sees a leader of a higher term follows it.
 */
export class LeaderElection extends TypedEventEmitter<LeaderElectionEvents> implements Startable {
  private readonly log: Logger
  private readonly self: string
  private readonly timeoutMs: number
  private readonly graceMs: number
  private readonly leaderIntervalMs: number
  private role: Role = 'follower'
  private currentTerm = 0
  private votedFor?: string
  private currentLeader?: string
  /** When this node last heard its leader, granted a vote, or stood. */
  private lastContact = 0
  private startedAt = 0
  private jitter = 0
  private ticker?: ReturnType<typeof setInterval>
  private controller?: AbortController

  constructor (private readonly components: LeaderElectionComponents, init: LeaderElectionInit = {}) {
    super()
    this.log = components.logger.forComponent('praas:election')
    this.self = components.peerId.toString()
    this.timeoutMs = init.electionTimeoutMs ?? ELECTION_TIMEOUT_MS
    this.graceMs = init.startupGraceMs ?? STARTUP_GRACE_MS
    this.leaderIntervalMs = init.leaderHeartbeatIntervalMs ?? LEADER_HEARTBEAT_INTERVAL_MS
    this.stateFile = init.stateFile
    components.membership.setElectionState(() => ({ term: this.currentTerm, leader: this.currentLeader ?? '' }))
    components.roster.bindLeader(() => ({ leader: this.currentLeader, term: this.currentTerm, isLeader: this.role === 'leader' }))
  }

  private readonly stateFile?: string
  /** What `stateFile` holds, so that it is written only when it changes. */
  private saved = { term: 0, votedFor: '' }

  private async loadState (): Promise<void> {
    if (this.stateFile == null) return
    try {
      const stored = JSON.parse(await readFile(this.stateFile, 'utf8')) as { term?: unknown, votedFor?: unknown }
      if (typeof stored.term === 'number' && Number.isSafeInteger(stored.term) && stored.term >= 0) this.currentTerm = stored.term
      if (typeof stored.votedFor === 'string' && stored.votedFor !== '') this.votedFor = stored.votedFor
      this.saved = { term: this.currentTerm, votedFor: this.votedFor ?? '' }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.error('could not read %s: %s', this.stateFile, (err as Error).message)
    }
  }

  /** Stores the term and vote before a vote or a candidacy leaves this node (Raft's persistent state). */
  private async saveState (): Promise<void> {
    const state = { term: this.currentTerm, votedFor: this.votedFor ?? '' }
    if (this.stateFile == null || (state.term === this.saved.term && state.votedFor === this.saved.votedFor)) return
    await writeFileDurably(this.stateFile, JSON.stringify(state) + '\n')
    this.saved = state
  }

  /** Members other than this node, to ask for votes. */
  private voters (): string[] {
    return this.components.roster.members().filter(id => id !== this.self)
  }

  /** Votes that win: a majority of the members (this node counts if it is one). */
  private needed (): number {
    return Math.floor(this.components.roster.members().length / 2) + 1
  }

  private isMember (): boolean {
    return this.components.roster.isMember(this.self)
  }

  readonly [Symbol.toStringTag] = 'praas:election'

  isStarted (): boolean {
    return this.controller != null
  }

  async start (): Promise<void> {
    await this.loadState()
    this.controller = new AbortController()
    this.startedAt = Date.now()
    this.jitter = Math.random() * ELECTION_JITTER_MS
    // when the grace ends without a leader, stand after rank and jitter only (lowest id first)
    this.lastContact = this.startedAt + this.graceMs - this.timeoutMs
    // a cluster of one member has nobody to hear from: it leads at once
    if (this.isMember() && this.voters().length === 0) this.startedAt -= this.graceMs
    await this.components.registrar.handle(ELECT_PROTOCOL, (stream, connection) => {
      // the candidate is whoever the connection authenticated, never a field of the request
      const candidate = connection.remotePeer.toString()
      void serveRpc(stream, { request: VoteRequest, response: VoteResponse }, async (request) => await this.onVoteRequest(request, candidate), { signal: AbortSignal.timeout(VOTE_TIMEOUT_MS) })
    }, { maxInboundStreams: 64 })
    this.components.membership.addEventListener('heartbeat', this.onHeartbeat)
    this.components.membership.addEventListener('member:leave', this.onLeave)
    this.ticker = setInterval(() => { this.tick() }, TICK_MS)
  }

  async stop (): Promise<void> {
    clearInterval(this.ticker)
    this.controller?.abort()
    this.controller = undefined
    this.components.membership.removeEventListener('heartbeat', this.onHeartbeat)
    this.components.membership.removeEventListener('member:leave', this.onLeave)
    await this.components.registrar.unhandle(ELECT_PROTOCOL).catch(() => {})
    this.role = 'follower'
    this.currentLeader = undefined
  }

  /** The current term. */
  get term (): number {
    return this.currentTerm
  }

  /** The leader this node follows (itself when it leads), if it is heard. */
  get leader (): string | undefined {
    return this.currentLeader
  }

  isLeader (): boolean {
    return this.role === 'leader'
  }

  /** Resolves with the leader's peer id once there is one. */
  async waitForLeader (options: AbortOptions = {}): Promise<string> {
    while (this.currentLeader == null) {
      options.signal?.throwIfAborted()
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer)
          this.removeEventListener('leader:change', done)
          options.signal?.removeEventListener('abort', done)
          resolve()
        }
        const timer = setTimeout(done, TICK_MS)
        this.addEventListener('leader:change', done)
        options.signal?.addEventListener('abort', done)
      })
    }
    return this.currentLeader
  }

  private setLeader (leader: string | undefined, term: number): void {
    const changed = leader !== this.currentLeader || term !== this.currentTerm
    this.currentTerm = term
    this.currentLeader = leader
    if (changed) {
      this.log('term %d, leader %s', term, leader ?? '(none)')
      this.safeDispatchEvent('leader:change', { detail: { leader, term } })
    }
  }

  /** Adopts a higher term as a follower (no vote cast in it yet). */
  private adoptTerm (term: number, leader: string | undefined): void {
    if (term > this.currentTerm) this.votedFor = undefined
    if (this.role === 'leader') this.components.membership.setInterval(undefined)
    this.role = 'follower'
    this.setLeader(leader, Math.max(term, this.currentTerm))
  }

  private readonly onHeartbeat = (evt: CustomEvent<Member>): void => {
    const member = evt.detail
    const claimsLead = member.leader === member.peerId
    if (claimsLead && member.term > this.currentTerm) {
      this.adoptTerm(member.term, member.peerId)
      this.lastContact = Date.now()
    } else if (claimsLead && member.term === this.currentTerm) {
      if (this.role === 'leader') {
        // two leaders in one term cannot come out of one vote; after a partition heals, the lower id keeps it
        if (member.peerId < this.self) this.adoptTerm(member.term, member.peerId)
        else return
      } else if (this.currentLeader !== member.peerId) {
        this.adoptTerm(member.term, member.peerId)
      }
      this.lastContact = Date.now()
    } else if (this.role === 'leader' && member.term > this.currentTerm && member.leader !== '' && member.leader !== this.self) {
      // the rest of the cluster follows a newer leader: this one was deposed
      this.adoptTerm(member.term, member.leader)
    }
  }

  private readonly onLeave = (evt: CustomEvent<Member>): void => {
    if (evt.detail.peerId !== this.currentLeader || this.role === 'leader') return
    this.setLeader(undefined, this.currentTerm)
    // stand now, but still one after another by rank
    this.lastContact = Date.now() - this.timeoutMs
  }

  /** Whether this node still hears a leader other than `candidate` (then it refuses votes). */
  private leaderAlive (): boolean {
    if (this.role === 'leader') return true
    return this.currentLeader != null && Date.now() - this.lastContact < this.timeoutMs / 2
  }

  private async onVoteRequest (request: VoteRequest, candidate: string): Promise<Partial<VoteResponse>> {
    const deny = { term: this.currentTerm, granted: false }
    if (Date.now() - this.startedAt < this.graceMs) return deny
    const config = this.components.roster.config
    if (config == null || !this.components.roster.isMember(candidate)) return deny
    if (!Number.isSafeInteger(request.term) || request.term < this.currentTerm || candidate === this.self) return deny
    // a candidate whose cluster config is older than this voter's could lead without the newest members
    if (newer(config, { term: request.rosterTerm, version: request.rosterVersion })) return deny
    if (this.leaderAlive() && candidate !== this.currentLeader) return deny
    // a pre-vote only says whether the real vote could be granted; it changes nothing here
    if (request.pre) return { term: this.currentTerm, granted: request.term > this.currentTerm || this.votedFor == null || this.votedFor === candidate }
    if (request.term > this.currentTerm) this.adoptTerm(request.term, undefined)
    if (this.votedFor != null && this.votedFor !== candidate) return { term: this.currentTerm, granted: false }
    this.votedFor = candidate
    this.lastContact = Date.now()
    await this.saveState()
    this.log('voted for %s in term %d', candidate, this.currentTerm)
    return { term: this.currentTerm, granted: true }
  }

  /** How long this node waits without a leader before standing: the lowest live peer id first. */
  private patienceMs (): number {
    const ids = this.components.membership.members().map(m => m.peerId).filter(id => id !== this.currentLeader)
    const rank = ids.filter(id => id < this.self).length
    return this.timeoutMs + rank * ELECTION_RANK_STEP_MS + this.jitter
  }

  private tick (): void {
    if (this.controller == null) return
    if (this.role === 'leader') {
      this.checkQuorum()
      return
    }
    if (!this.isMember()) return
    const now = Date.now()
    if (now - this.startedAt < this.graceMs) return
    if (this.role === 'candidate') return
    if (now - this.lastContact < this.patienceMs()) return
    void this.stand().catch((err: Error) => { this.log('election failed: %s', err.message) })
  }

  /**
   * Asks the live members whether they would vote for this node in the next term (Raft's
   * pre-vote), without anyone changing a term: a node that cannot win (the others still hear a
   * leader it missed) does not raise its term, so it cannot be left behind a climbing term of its
   * own while the leader's heartbeats, of a lower term, are ignored.
   */
  private async preVote (): Promise<boolean> {
    const term = this.currentTerm + 1
    const needed = this.needed()
    let granted = 1
    await Promise.allSettled(this.voters().map(async (voter) => {
      const response = await this.ask(voter, term, true)
      if (response.granted) granted++
    }))
    return granted >= needed
  }

  /** Asks one member for its (pre-)vote, at the addresses its heartbeats or its join named. */
  private async ask (voter: string, term: number, pre: boolean): Promise<VoteResponse> {
    const signal = AbortSignal.any([AbortSignal.timeout(VOTE_TIMEOUT_MS), this.controller!.signal])
    const live = this.components.membership.get(voter)?.addrs ?? []
    const addrs = live.length > 0 ? live : this.components.roster.addrsOf(voter)
    const peer = peerIdFromString(voter)
    const target = this.components.connectionManager.getConnections(peer).length > 0 || addrs.length === 0 ? peer : addrs
    const stream = await this.components.connectionManager.openStream(target, ELECT_PROTOCOL, { signal })
    const config = this.components.roster.config
    return await rpc(stream, { term, pre, rosterTerm: config?.term ?? 0, rosterVersion: config?.version ?? 0 }, { request: VoteRequest, response: VoteResponse }, { signal })
  }

  /**
   * A leader that no longer hears a majority of the members steps down (Raft's check-quorum):
   * on the minority side of a partition it must stop placing processes and issuing epochs.
   */
  private checkQuorum (): void {
    const heard = 1 + this.components.membership.members().filter(m => this.components.roster.isMember(m.peerId)).length
    if (this.isMember() && heard >= this.needed()) {
      this.quorumSince = Date.now()
      return
    }
    if (Date.now() - this.quorumSince < this.timeoutMs * 2) return
    this.log('term %d: this leader hears %d members, fewer than the %d it needs: stepping down', this.currentTerm, heard, this.needed())
    this.adoptTerm(this.currentTerm, undefined)
    this.lastContact = Date.now()
  }

  private quorumSince = 0

  /** Stands for election in the next term, if a pre-vote says it can win. */
  private async stand (): Promise<void> {
    this.role = 'candidate'
    this.lastContact = Date.now()
    this.jitter = Math.random() * ELECTION_JITTER_MS
    if (!this.isMember()) {
      this.role = 'follower'
      return
    }
    if (!await this.preVote()) {
      this.log('pre-vote for term %d lost: staying a follower', this.currentTerm + 1)
      if (this.role === 'candidate') this.role = 'follower'
      this.lastContact = Date.now()
      return
    }
    if (this.role !== 'candidate') return
    const term = this.currentTerm + 1
    this.votedFor = this.self
    this.lastContact = Date.now()
    this.setLeader(undefined, term)
    await this.saveState()
    const voters = this.voters()
    const needed = this.needed()
    let votes = 1
    this.log('standing in term %d: %d voters, %d votes needed', term, voters.length, needed)
    const stillCandidate = (): boolean => this.role === 'candidate' && this.currentTerm === term
    const ask = async (voter: string): Promise<void> => {
      const response = await this.ask(voter, term, false)
      if (!Number.isSafeInteger(response.term)) return
      if (response.term > this.currentTerm) {
        this.adoptTerm(response.term, undefined)
        return
      }
      if (response.granted && stillCandidate() && ++votes >= needed) this.becomeLeader()
    }
    if (votes >= needed) {
      this.becomeLeader()
      return
    }
    await Promise.allSettled(voters.map(ask))
    if (stillCandidate()) {
      this.log('term %d: %d of %d votes, not elected', term, votes, needed)
      this.role = 'follower'
      this.lastContact = Date.now()
    }
  }

  private becomeLeader (): void {
    this.role = 'leader'
    this.quorumSince = Date.now()
    this.setLeader(this.self, this.currentTerm)
    this.components.membership.setInterval(this.leaderIntervalMs)
    void this.components.roster.commitTerm()
  }
}
