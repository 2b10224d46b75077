// The real election (node/cluster/election.ts) and membership (membership.ts) on the simulator:
// each simulated node runs SWIM, Membership over SWIM's records, and LeaderElection with its
// votes carried by the simulated network (SimVotes), all on the simulated clock. The scenario
// measures how long the cluster takes to agree on a first leader, and on a new one after the
// leader dies, for N = 16 ... 1000.
import { defaultLogger } from '@libp2p/logger'
import { TypedEventEmitter } from 'main-event'
import { setMaxListeners } from 'node:events'
import { LeaderElection } from '../../node/cluster/election.js'
import { Membership } from '../../node/cluster/membership.js'
import { decodeNodeRecord, encodeNodeRecord } from '../../node/cluster/swim/index.js'
import { VoteRequest, VoteResponse } from '../../protocol/pb/cluster.js'
import { SimCluster } from './cluster.js'
import { seededRandom } from './random.js'
import type { SimNode } from './cluster.js'
import type { NodeRecordFields } from '../../node/cluster/swim/service.js'
import type { SwimNodeRecord } from '../../node/cluster/swim/record.js'
import type { Clock, Datagrams } from '../../node/cluster/swim/types.js'
import type { ClusterConfig } from '../../protocol/pb/cluster.js'
import type { VoteTransport } from '../../node/cluster/votes.js'
import type { AbortOptions } from '@libp2p/interface'

const ELECT_PROTOCOL = '/praas/elect/1.0.0'
const REQUEST = 0
const RESPONSE = 1

/** Vote requests and answers as datagrams of the simulated network: a kind byte, a request id, the protobuf. */
class SimVotes implements VoteTransport {
  private next = 0
  private readonly waiting = new Map<number, (response: VoteResponse) => void>()
  private handler?: (candidate: string, request: VoteRequest) => Promise<Partial<VoteResponse>>

  constructor (private readonly datagrams: Datagrams, private readonly clock: Clock) {
    datagrams.listen((from, data) => { this.receive(from, data) })
  }

  async serve (handler: (candidate: string, request: VoteRequest) => Promise<Partial<VoteResponse>>): Promise<void> {
    this.handler = handler
  }

  async unserve (): Promise<void> {
    this.handler = undefined
  }

  async ask (voter: string, request: Partial<VoteRequest>, options: AbortOptions & { timeoutMs: number }): Promise<VoteResponse> {
    const id = this.next++
    this.datagrams.send(voter, frame(REQUEST, id, VoteRequest.encode({ term: 0, candidate: '', pre: false, rosterTerm: 0, rosterVersion: 0, ...request })))
    return await new Promise((resolve, reject) => {
      const timer = this.clock.setTimer(options.timeoutMs, () => { settle(); reject(new Error('vote request timed out')) })
      const onAbort = (): void => { settle(); reject(new Error('vote request aborted')) }
      const settle = (): void => {
        timer.cancel()
        this.waiting.delete(id)
        options.signal?.removeEventListener('abort', onAbort)
      }
      // one election's signal goes with every vote request it sends (N - 1 at a time)
      if (options.signal != null) setMaxListeners(Infinity, options.signal)
      options.signal?.addEventListener('abort', onAbort)
      this.waiting.set(id, (response) => { settle(); resolve(response) })
    })
  }

  private receive (from: string, data: Uint8Array): void {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
    const id = view.getUint32(1)
    const body = data.subarray(5)
    if (data[0] === RESPONSE) {
      this.waiting.get(id)?.(VoteResponse.decode(body))
      return
    }
    const handler = this.handler
    if (handler == null) return
    void handler(from, VoteRequest.decode(body)).then(answer => {
      this.datagrams.send(from, frame(RESPONSE, id, VoteResponse.encode({ term: 0, granted: false, ...answer } as VoteResponse)))
    }, () => {})
  }
}

function frame (kind: number, id: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + body.byteLength)
  out[0] = kind
  new DataView(out.buffer).setUint32(1, id)
  out.set(body, 5)
  return out
}

/** The cluster config as the membership and the election see it: a fixed member set. */
class SimRoster extends TypedEventEmitter<{ change: CustomEvent<ClusterConfig> }> {
  readonly config = { term: 1, version: 1 }
  constructor (private readonly cluster: SimCluster) { super() }
  get memberIds (): ReadonlySet<string> { return this.cluster.roster }
  isMember (id: string): boolean { return this.cluster.roster.has(id) }
  members (): string[] { return [...this.cluster.roster] }
  async pullFrom (): Promise<void> {}
  bindLeader (): void {}
  async commitTerm (): Promise<void> {}
}

/** What SwimService gives the membership in a node: decoded records, and fields of this node's own. */
class SimSwimView {
  private readonly records = new Map<string, SwimNodeRecord>()
  private fields: NodeRecordFields = {}
  constructor (readonly node: SimNode) {
    node.swim.addEventListener('member:record', (evt) => { this.records.set(evt.detail.id, decodeNodeRecord(evt.detail.record)) })
  }

  get swim (): SimNode['swim'] { return this.node.swim }
  record (id: string): SwimNodeRecord | undefined { return this.records.get(id) }
  setRecord (fields: NodeRecordFields, options: { urgent?: boolean } = {}): void {
    this.fields = { ...this.fields, ...fields }
    // no addresses: each node's membership would hold two Multiaddr objects per member (2 million
    // at N = 1,000, past the heap), and the election reads none (the SWIM scenario measures the traffic of full records)
    if (this.node.swim.isStarted()) this.node.swim.setRecord(encodeNodeRecord({ ...this.fields, addrs: [] }), { urgent: options.urgent === true })
  }
}

interface Stack {
  node: SimNode
  membership: Membership
  election: LeaderElection
}

/** Lets the promises of the election (vote requests, their answers) settle between simulated steps. */
const settle = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

/** Runs simulated time in 1 ms steps, the promises settled after each, until `done()` or `maxMs`; the time it took. */
async function runUntil (cluster: SimCluster, done: () => boolean, maxMs: number): Promise<number | undefined> {
  const start = cluster.now
  while (cluster.now - start < maxMs) {
    if (done()) return cluster.now - start
    cluster.run(1)
    await settle()
  }
  return done() ? cluster.now - start : undefined
}

export interface ElectionFigures {
  /** From the first node's start until every node follows one leader. */
  firstMs: number | undefined
  /** Per SIGKILL of the leader: until every live node follows one new leader of a higher term. */
  failoverMs: Array<number | undefined>
}

/** N nodes with the whole cluster stack; the first election, then `kills` leaders killed one after another. */
export async function electionScenario (n: number, seed: number, kills: number): Promise<ElectionFigures> {
  const cluster = new SimCluster({ size: n, seed })
  const logger = defaultLogger()
  const roster = new SimRoster(cluster)
  const stacks: Stack[] = cluster.nodes.map(node => {
    const swim = new SimSwimView(node)
    const membership = new Membership({ peerId: { toString: () => node.id }, logger, addressManager: { getAddresses: () => [] }, roster, swim, clock: node.clock }, {
      sample: () => ({ eventLoopDelayMs: 1, memory: 80 << 20 })
    })
    const election = new LeaderElection({
      peerId: { toString: () => node.id },
      logger,
      membership,
      roster,
      votes: new SimVotes(cluster.network.transport(node.id, ELECT_PROTOCOL), node.clock),
      clock: node.clock,
      random: seededRandom(seed * 31 + node.index)
    })
    return { node, membership, election }
  })
  const random = seededRandom(seed ^ 0xe1ec)
  for (const stack of stacks) {
    cluster.scheduler.at(random() * 1_000, () => {
      stack.node.swim.start()
      stack.membership.start()
      stack.membership.afterStart()
      void stack.election.start()
    })
  }
  const agreed = (term: number): boolean => {
    const live = stacks.filter(s => s.node.up)
    const leader = live[0].election.leader
    return leader != null && live.every(s => s.election.leader === leader && s.election.term > term) &&
      live.some(s => s.node.id === leader && s.election.isLeader())
  }
  const firstMs = await runUntil(cluster, () => agreed(0), 60_000)
  const failoverMs: Array<number | undefined> = []
  for (let i = 0; i < kills; i++) {
    await runUntil(cluster, () => false, 5_000)
    const leader = stacks.find(s => s.node.up && s.election.isLeader())
    if (leader == null) break
    const term = leader.election.term
    cluster.kill(leader.node)
    failoverMs.push(await runUntil(cluster, () => agreed(term), 60_000))
  }
  for (const s of stacks) {
    s.membership.stop()
    await s.election.stop()
    s.node.swim.stop()
  }
  return { firstMs, failoverMs }
}
