import { readFile } from 'node:fs/promises'
import { TypedEventEmitter } from 'main-event'
import {
  ELECTION_JITTER_MS, ELECTION_RANK_STEP_MS, ELECTION_TIMEOUT_MS, LEADER_LOST_MS, PERIODIC_SLACK_MS, STARTUP_GRACE_MS, VOTE_TIMEOUT_MS
} from './constants.js'
import { newer } from './roster.js'
import { systemClock, systemRandom } from './swim/clock.js'
import { writeFileDurably } from '../trust/cluster-files.js'
import type { Member, Membership } from './membership.js'
import type { LeaderView } from './roster.js'
import type { Clock, Random, Timer } from './swim/types.js'
import type { VoteTransport } from './votes.js'
import type { ClusterConfig, VoteRequest, VoteResponse } from '../../protocol/pb/cluster.js'
import type { AbortOptions, ComponentLogger, Logger, Startable } from '@libp2p/interface'

/** What the election needs of the cluster config (node/cluster/roster.ts). */
export interface ElectionRoster {
  readonly config: Pick<ClusterConfig, 'term' | 'version'> | undefined
  isMember(peerId: string): boolean
  /** The member ids, this node included if it is one. */
  members(): string[]
  /** The election says who leads. */
  bindLeader(view: () => LeaderView): void
  /** A new leader commits the config it holds under its own term. */
  commitTerm(): Promise<void>
}

/**
 * What the election is given instead of reaching for libp2p, the clock or Math.random, so that
 * the same code runs in a node (services.ts) and on the simulator (bench/sim/).
 */
export interface LeaderElectionComponents {
  peerId: { toString(): string }
  logger: ComponentLogger
  membership: Pick<Membership, 'members' | 'get' | 'status' | 'setLeadership' | 'addEventListener' | 'removeEventListener'>
  roster: ElectionRoster
  votes: VoteTransport
  /** Default: the process's monotonic clock. */
  clock?: Clock
  random?: Random
}

export interface LeaderElectionInit {
  /** A follower with no leader stands after this long (plus rank and jitter). Default 1 s. */
  electionTimeoutMs?: number
  /** A follower whose leader SWIM no longer holds alive stands after this long (plus rank and jitter). Default 500 ms. */
  leaderLostMs?: number
  /** How long a new node listens before it may stand or vote. Default 2 s. */
  startupGraceMs?: number
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

/** While it waits to stand, a node looks this often; a follower of a reachable leader does not look at all. */
const TICK_MS = 50
/** How often a leader checks that it still holds a majority alive (or up to PERIODIC_SLACK_MS later, with another timer). */
const QUORUM_CHECK_MS = 500

/**
 * Leader election with terms, Raft's vote without Raft's log: a node votes at most once per
 * term, and a candidate leads once a majority of the cluster's *members* granted, so two leaders
 * of one term cannot exist and a minority elects nobody. Chosen over a bully rule (lowest live
 * peer id leads) because the bully rule lets two nodes with different views both lead the same
 * term, and the epochs of the allocator rely on a term having one leader.
 *
 * The leader's liveness costs nothing of its own: the leader says "I lead term T" once, in its
 * SWIM record (membership.ts), and SWIM's probes say whether it is reachable, as for any member
 * (about 3 probes a second in the whole cluster, whatever its size). A follower whose leader SWIM
 * no longer holds alive (suspect or dead) stands after 500 ms plus its rank (reachable members
 * ordered by peer id, 150 ms a step) plus jitter: term + 1, a vote for itself, and a request to
 * every member over the vote transport; a leader that leaves cleanly says so, and the election
 * starts at once.
 * - A voter refuses while SWIM holds its leader alive (one node that lost sight of a healthy leader
 *   cannot depose it), and during its first seconds (it has not heard the cluster yet).
 * - Pre-vote: a node stands only if a majority would vote for it, so a cut-off node never raises its term.
 * - A leader that sees another leader of the same term yields to the lower peer id; any node
 *   that sees a leader of a higher term follows it. A leader that no longer holds a majority of
 *   the members alive steps down (check-quorum).
 */
export class LeaderElection extends TypedEventEmitter<LeaderElectionEvents> implements Startable {
  private readonly log: Logger
  private readonly self: string
  private readonly clock: Clock
  private readonly random: Random
  private readonly timeoutMs: number
  private readonly lostMs: number
  private readonly graceMs: number
  private role: Role = 'follower'
  private currentTerm = 0
  private votedFor?: string
  private currentLeader?: string
  /** When this node last held its leader reachable, granted a vote, or stood. */
  private lastContact = 0
  /** The wait since lastContact is LEADER_LOST_MS (a leader was lost) rather than the election timeout. */
  private lost = false
  private startedAt = 0
  private jitter = 0
  private ticker?: Timer
  /** No timer runs: this node follows a leader SWIM holds alive, and only membership events wake it. */
  private idle = false
  private controller?: AbortController
  private quorumSince = 0

  constructor (private readonly components: LeaderElectionComponents, init: LeaderElectionInit = {}) {
    super()
    this.log = components.logger.forComponent('praas:election')
    this.self = components.peerId.toString()
    this.clock = components.clock ?? systemClock
    this.random = components.random ?? systemRandom
    this.timeoutMs = init.electionTimeoutMs ?? ELECTION_TIMEOUT_MS
    this.lostMs = init.leaderLostMs ?? LEADER_LOST_MS
    this.graceMs = init.startupGraceMs ?? STARTUP_GRACE_MS
    this.stateFile = init.stateFile
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
    this.startedAt = this.clock.now()
    this.jitter = this.random() * ELECTION_JITTER_MS
    // when the grace ends without a leader, stand after rank and jitter only (lowest id first)
    this.lastContact = this.startedAt + this.graceMs - this.timeoutMs
    // a cluster of one member has nobody to hear from: it leads at once
    if (this.isMember() && this.voters().length === 0) this.startedAt -= this.graceMs
    await this.components.votes.serve(async (candidate, request) => await this.onVoteRequest(request, candidate))
    this.components.membership.addEventListener('update', this.onUpdate)
    this.components.membership.addEventListener('member:join', this.onUpdate)
    this.components.membership.addEventListener('member:leave', this.onLeave)
    // claims heard before this started (a leader's record arrives with SWIM's first state)
    for (const member of this.components.membership.members()) this.observe(member)
    this.wake()
  }

  async stop (): Promise<void> {
    this.ticker?.cancel()
    this.ticker = undefined
    this.controller?.abort()
    this.controller = undefined
    this.components.membership.removeEventListener('update', this.onUpdate)
    this.components.membership.removeEventListener('member:join', this.onUpdate)
    this.components.membership.removeEventListener('member:leave', this.onLeave)
    await this.components.votes.unserve()
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
          timer.cancel()
          this.removeEventListener('leader:change', done)
          options.signal?.removeEventListener('abort', done)
          resolve()
        }
        const timer = this.clock.setTimer(TICK_MS, done)
        this.addEventListener('leader:change', done)
        options.signal?.addEventListener('abort', done)
      })
    }
    return this.currentLeader
  }

  /**
   * Arms the next tick, if one is needed: a leader checks its quorum now and then, a node without
   * a reachable leader looks often, and a follower of a leader SWIM holds alive waits for a
   * membership event (an idle node wakes for nothing of the election's).
   */
  private wake (): void {
    if (this.controller == null || this.ticker != null) return
    let delay: number | undefined = TICK_MS
    if (this.role === 'leader') {
      delay = QUORUM_CHECK_MS
    } else if (this.role === 'follower' && this.currentLeader != null && this.isMember() &&
      this.clock.now() - this.startedAt >= this.graceMs && this.components.membership.status(this.currentLeader) === 'alive') {
      delay = undefined
    }
    this.idle = delay == null
    if (delay == null) return
    this.ticker = this.clock.setTimer(delay, () => {
      this.ticker = undefined
      if (this.controller == null) return
      this.tick()
      this.wake()
    }, this.role === 'leader' ? PERIODIC_SLACK_MS : 0)
  }

  /** A membership event: an idle follower last knew its leader alive just now. */
  private stir (): void {
    if (this.idle) {
      this.idle = false
      this.lastContact = this.clock.now()
    }
  }

  private setLeader (leader: string | undefined, term: number): void {
    const changed = leader !== this.currentLeader || term !== this.currentTerm
    this.currentTerm = term
    this.currentLeader = leader
    if (changed) {
      this.log('term %d, leader %s', term, leader ?? '(none)')
      this.safeDispatchEvent('leader:change', { detail: { leader, term } })
    }
    this.stir()
    this.wake()
  }

  /** Adopts a higher term as a follower (no vote cast in it yet). */
  private adoptTerm (term: number, leader: string | undefined): void {
    if (term > this.currentTerm) this.votedFor = undefined
    if (this.role === 'leader') this.components.membership.setLeadership(0)
    this.role = 'follower'
    if (leader != null) this.lost = false
    this.setLeader(leader, Math.max(term, this.currentTerm))
  }

  private readonly onUpdate = (evt: CustomEvent<Member>): void => {
    this.stir()
    this.observe(evt.detail)
    this.wake()
  }

  /** What a member's record says about leadership: a claim to lead a term, or no claim. */
  private observe (member: Member): void {
    const claimsLead = member.leader === member.peerId && member.term > 0
    if (!claimsLead) {
      if (member.peerId === this.currentLeader && this.role !== 'leader') {
        // the leader stepped down: stand soon, in rank order
        this.loseLeader()
      }
      return
    }
    if (member.term > this.currentTerm) {
      this.adoptTerm(member.term, member.status === 'alive' ? member.peerId : undefined)
      this.lastContact = this.clock.now()
    } else if (member.term === this.currentTerm) {
      if (this.role === 'leader') {
        // two leaders in one term cannot come out of one vote; after a partition heals, the lower id keeps it
        if (member.peerId < this.self) this.adoptTerm(member.term, member.peerId)
        else return
      } else if (this.currentLeader !== member.peerId && member.status === 'alive') {
        this.adoptTerm(member.term, member.peerId)
      }
      this.lastContact = this.clock.now()
    }
  }

  private readonly onLeave = (evt: CustomEvent<Member & { left: boolean }>): void => {
    this.stir()
    if (evt.detail.peerId === this.currentLeader && this.role !== 'leader') this.loseLeader()
    this.wake()
  }

  /** The leader left, died or stepped down: stand now, but still one after another by rank. */
  private loseLeader (): void {
    this.setLeader(undefined, this.currentTerm)
    this.lost = true
    this.lastContact = Math.min(this.lastContact, this.clock.now() - this.lostMs)
  }

  /** Whether SWIM holds this node's leader alive (then it refuses votes to anyone else). */
  private leaderAlive (): boolean {
    if (this.role === 'leader') return true
    return this.currentLeader != null && this.components.membership.status(this.currentLeader) === 'alive'
  }

  private async onVoteRequest (request: VoteRequest, candidate: string): Promise<Partial<VoteResponse>> {
    try {
      return await this.answerVote(request, candidate)
    } finally {
      this.wake()
    }
  }

  private async answerVote (request: VoteRequest, candidate: string): Promise<Partial<VoteResponse>> {
    const deny = { term: this.currentTerm, granted: false }
    if (this.clock.now() - this.startedAt < this.graceMs) return deny
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
    this.lastContact = this.clock.now()
    await this.saveState()
    this.log('voted for %s in term %d', candidate, this.currentTerm)
    return { term: this.currentTerm, granted: true }
  }

  /** How long this node waits without a leader before standing: the lowest reachable peer id first. */
  private patienceMs (): number {
    const ids = this.components.membership.members().map(m => m.peerId).filter(id => id !== this.currentLeader)
    const rank = ids.filter(id => id < this.self).length
    return (this.lost ? this.lostMs : this.timeoutMs) + rank * ELECTION_RANK_STEP_MS + this.jitter
  }

  private tick (): void {
    if (this.role === 'leader') {
      this.checkQuorum()
      return
    }
    if (!this.isMember()) return
    const now = this.clock.now()
    if (now - this.startedAt < this.graceMs) return
    if (this.role === 'candidate') return
    if (this.currentLeader != null) {
      if (this.components.membership.status(this.currentLeader) === 'alive') {
        this.lastContact = now
        return
      }
      // suspect or dead: counted from when it was last held alive
      this.lost = true
    }
    if (now - this.lastContact < this.patienceMs()) return
    void this.stand().catch((err: Error) => { this.log('election failed: %s', err.message) })
  }

  /**
   * Asks the members whether they would vote for this node in the next term (Raft's pre-vote),
   * without anyone changing a term: a node that cannot win (the others still hold a leader alive)
   * does not raise its term, so it cannot be left behind a climbing term of its own.
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

  /** Asks one member for its (pre-)vote. */
  private async ask (voter: string, term: number, pre: boolean): Promise<VoteResponse> {
    const config = this.components.roster.config
    return await this.components.votes.ask(voter, { term, pre, rosterTerm: config?.term ?? 0, rosterVersion: config?.version ?? 0 }, { signal: this.controller?.signal, timeoutMs: VOTE_TIMEOUT_MS })
  }

  /**
   * A leader that no longer holds a majority of the members alive steps down (Raft's
   * check-quorum): on the minority side of a partition it must stop placing processes and
   * issuing epochs (its lease runs out too: lease.ts).
   */
  private checkQuorum (): void {
    const { membership } = this.components
    const heard = 1 + this.voters().filter(id => membership.status(id) === 'alive').length
    const now = this.clock.now()
    if (this.isMember() && heard >= this.needed()) {
      this.quorumSince = now
      return
    }
    if (now - this.quorumSince < this.timeoutMs * 2) return
    this.log('term %d: this leader holds %d members alive, fewer than the %d it needs: stepping down', this.currentTerm, heard, this.needed())
    this.adoptTerm(this.currentTerm, undefined)
    this.lastContact = now
  }

  /** Stands for election in the next term, if a pre-vote says it can win. */
  private async stand (): Promise<void> {
    this.role = 'candidate'
    this.lastContact = this.clock.now()
    this.jitter = this.random() * ELECTION_JITTER_MS
    if (!this.isMember()) {
      this.role = 'follower'
      return
    }
    if (!await this.preVote()) {
      this.log('pre-vote for term %d lost: staying a follower', this.currentTerm + 1)
      if (this.role === 'candidate') this.role = 'follower'
      this.lastContact = this.clock.now()
      this.lost = false
      return
    }
    if (this.role !== 'candidate') return
    const term = this.currentTerm + 1
    this.votedFor = this.self
    this.lastContact = this.clock.now()
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
      this.lastContact = this.clock.now()
      this.lost = false
    }
  }

  private becomeLeader (): void {
    this.role = 'leader'
    this.lost = false
    this.quorumSince = this.clock.now()
    this.setLeader(this.self, this.currentTerm)
    this.components.membership.setLeadership(this.currentTerm)
    void this.components.roster.commitTerm()
  }
}
