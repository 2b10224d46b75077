import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { multiaddr } from '@multiformats/multiaddr'
import { Client } from '../../sdk/index.js'
import { ALLOC_PROTOCOL, ELECT_PROTOCOL, JOIN_PROTOCOL, ROSTER_PROTOCOL } from '../../node/cluster/constants.js'
import { HEARTBEAT_TOPIC } from '../../node/cluster/index.js'
import { DHT_PROTOCOL } from '../../protocol/dht.js'
import {
  CHANNEL_PROTOCOL, CTL_PROTOCOL, CtlRequest, INVOKE_PROTOCOL, STATE_CHUNKS_PROTOCOL, STATE_PROTOCOL, decodeCtlResponse, encodeCtlRequest, errorFromWire
} from '../../protocol/index.js'
import { Heartbeat, VoteRequest, VoteResponse, JoinRequest, RosterAnswer } from '../../protocol/pb/cluster.js'
import { StateRequest } from '../../protocol/pb/state.js'
import { attenuateToken, tokenId } from '../../protocol/token.js'
import { rpc } from '../../node/cluster/rpc.js'
import { eventually, startCluster, startNode, stopCluster } from '../helpers/cluster.js'
import { hostilePeer, outcome, rawChannel, rssOf } from '../helpers/hostile.js'
import { BIN, EXAMPLES } from '../helpers/paths.js'
import type { TestNode } from '../helpers/cluster.js'

const run = promisify(execFile)
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

/** Every praas protocol a raw peer might claim to serve, to pass for a node. */
const ALL_PROTOCOLS = [CTL_PROTOCOL, INVOKE_PROTOCOL, CHANNEL_PROTOCOL, STATE_PROTOCOL, STATE_CHUNKS_PROTOCOL, ELECT_PROTOCOL, ALLOC_PROTOCOL, ROSTER_PROTOCOL, DHT_PROTOCOL]

describe('trust: a cluster that obeys only its members and the clients it authorized', function () {
  this.timeout(120_000)
  let nodes: TestNode[]
  let admin: Client
  let pid: string

  /** What an honest admin sees of the cluster, to compare before and after an attack. */
  async function snapshot (): Promise<{ count: string, processes: string, leader: string | null, term: number, nodes: number }> {
    const status = await admin.status()
    const list = await admin.list()
    return {
      count: text(await admin.invoke(pid, 'get')),
      processes: JSON.stringify(list.map(p => [p.pid, p.app, p.status]).sort()),
      leader: status.leader,
      term: status.term,
      nodes: status.nodes.length
    }
  }

  before(async function () {
    nodes = await startCluster(3)
    admin = await Client.connect({ bootstrap: [nodes[0].addrs[0]], token: nodes[0].token })
    await admin.deploy('counter', await readFile(join(EXAMPLES, 'counter', 'index.js')))
    pid = await admin.create('counter', { node: nodes[1].peerId })
    for (let i = 0; i < 5; i++) await admin.invoke(pid, 'incr')
  })

  after(async function () {
    await admin?.close()
    if (nodes != null) await stopCluster(nodes)
  })

  it('answers a stranger UNAUTHORIZED for every operation through the SDK, naming the right, and changes nothing', async function () {
    const before = await snapshot()
    const stranger = await Client.connect({ bootstrap: [nodes[2].addrs[0]] })
    try {
      const attempts: Array<[string, Promise<unknown>]> = [
        ['deploy', stranger.deploy('counter', 'export async function incr () { return "EVIL" }')],
        ['create', stranger.create('counter')],
        ['invoke', stranger.invoke(pid, 'incr')],
        ['send', stranger.send(pid, 'k', 'x')],
        ['recv', stranger.recv(pid, 'k', { timeoutMs: 100 })],
        ['list', stranger.list()],
        ['status', stranger.status()],
        ['swap', stranger.swap(pid)],
        ['migrate', stranger.migrate(pid, nodes[0].peerId)],
        ['delete', stranger.delete(pid)],
        ['admin', stranger.revoke(tokenId(nodes[0].token))],
        ['admin', stranger.removeNode(nodes[2].peerId)]
      ]
      for (const [right, attempt] of attempts) {
        const err = await attempt.then(() => undefined, (e: Error & { code?: string }) => e)
        assert.equal(err?.code, 'UNAUTHORIZED', `${right}: ${String(err)}`)
        assert.match(err.message, new RegExp(right), `the error names the ${right} right`)
      }
    } finally {
      await stranger.close()
    }
    // the count, the list and the app's code (`get` still answers: the stranger's module has none) are as before
    assert.deepEqual(await snapshot(), before)
  })

  it('answers a stranger UNAUTHORIZED through the CLI, with one error line', async function () {
    const cwd = await mkdtemp(join(tmpdir(), 'praas-stranger-'))
    const env = { ...process.env, PRAAS_BOOTSTRAP: nodes[1].addrs[0], PRAAS_TOKEN: '' }
    for (const args of [['status'], ['ps'], ['invoke', pid, 'incr'], ['delete', pid], ['create', 'counter'], ['deploy', 'counter', join(EXAMPLES, 'counter', 'index.js')], ['token', 'revoke', tokenId(nodes[0].token)]]) {
      const outcome = await run(process.execPath, [BIN, ...args], { cwd, env, timeout: 30_000 }).then(() => ({ code: 0, stderr: '' }), (err: { code: number, stderr: string }) => err)
      assert.notEqual(outcome.code, 0, args.join(' '))
      assert.match(outcome.stderr, /^error UNAUTHORIZED: .+\n$/, args.join(' '))
    }
  })

  it('ignores a raw peer that serves every praas protocol and speaks the node protocols, and keeps serving clients', async function () {
    const before = await snapshot()
    const { peer, received } = await hostilePeer(ALL_PROTOCOLS)
    const serving = (async () => {
      // a legitimate client keeps being served while the attack runs
      for (let i = 0; i < 20; i++) await admin.invoke(pid, 'get')
    })()
    try {
      for (const node of nodes) await peer.dial(multiaddr(node.addrs[0]))
      const target = nodes[1].addrs[0]
      // node-only protocols: refused before anything is read
      for (const protocol of [STATE_PROTOCOL, ALLOC_PROTOCOL, ROSTER_PROTOCOL]) {
        const channel = await rawChannel(peer, target, protocol).catch(() => undefined)
        if (channel == null) continue
        const payload = StateRequest.encode({ term: 2 ** 40, counter: 1 })
        assert.notEqual(await outcome(channel.call({ pid, fn: protocol === STATE_PROTOCOL ? 'fetch' : 'push', payload, timeoutMs: 0 }, { timeoutMs: 5_000 })), 'OK', protocol)
        assert.notEqual(await outcome(channel.call({ pid, fn: 'fence', payload, timeoutMs: 0 }, { timeoutMs: 5_000 })), 'OK', protocol)
      }
      // a vote for itself with a huge term, as a candidate naming another node
      const vote = await peer.dialProtocol(multiaddr(target), ELECT_PROTOCOL).then(
        async (stream) => await rpc(stream, { term: 2 ** 40, candidate: nodes[0].peerId, rosterTerm: 2 ** 40, rosterVersion: 2 ** 40 }, { request: VoteRequest, response: VoteResponse }, { signal: AbortSignal.timeout(3_000) }))
        .catch((err: Error) => err)
      assert.ok(vote instanceof Error || !vote.granted, 'no vote for a stranger')
      // joining without a token
      const joinAnswer = await peer.dialProtocol(multiaddr(target), JOIN_PROTOCOL).then(
        async (stream) => await rpc(stream, { token: 'praas_nope', addrs: [] }, { request: JoinRequest, response: RosterAnswer }, { signal: AbortSignal.timeout(3_000) }))
      assert.equal(joinAnswer.error, 'UNAUTHORIZED')
      // node-only control requests, and creation flags, even with every client right
      const ctl = await rawChannel(peer, target, CTL_PROTOCOL)
      const authed = await rawChannel(peer, nodes[2].addrs[0], CTL_PROTOCOL, nodes[0].token)
      for (const channel of [ctl, authed]) {
        for (const request of [
          { op: CtlRequest.Op.CREATE, app: 'counter', pid, local: true, term: 2 ** 40, counter: 1 },
          { op: CtlRequest.Op.CREATE, app: 'counter', pid, local: true, restore: true, holder: nodes[0].peerId, term: 2 ** 40 },
          { op: CtlRequest.Op.FETCH_APP, app: 'counter' },
          { op: CtlRequest.Op.APPS },
          // a deploy that claims a place after every later deploy
          { op: CtlRequest.Op.DEPLOY, app: 'counter', source: new TextEncoder().encode('export async function incr () { return "EVIL" }'), serial: 2 ** 52 },
          { op: CtlRequest.Op.PEERS },
          { op: CtlRequest.Op.LOCATE, pid, local: true },
          { op: CtlRequest.Op.DELETE, pid, local: true },
          { op: CtlRequest.Op.DEPLOY, app: 'counter', source: new TextEncoder().encode('export async function incr () { return "EVIL" }'), local: true }
        ]) {
          const code = await outcome(channel.call({ pid: '', fn: 'ctl', payload: encodeCtlRequest(request), timeoutMs: 0 }, { timeoutMs: 10_000 }).then(bytes => {
            const response = decodeCtlResponse(bytes)
            if (response.error != null) throw errorFromWire(response.error)
          }))
          assert.equal(code, 'UNAUTHORIZED', `${CtlRequest.Op[request.op]} ${JSON.stringify({ ...request, source: undefined })}`)
        }
      }
      // forged heartbeats naming itself leader of a huge term
      peer.services.pubsub.subscribe(HEARTBEAT_TOPIC)
      for (let i = 0; i < 10; i++) {
        for (const term of [1_000_000, 2 ** 32, 2 ** 52]) {
          const beat = Heartbeat.encode({ peerId: peer.peerId.toString(), addrs: [], load: 0, eventLoopDelayUs: 0, memory: 0, term, leader: peer.peerId.toString(), leaving: false, rosterTerm: 2 ** 40, rosterVersion: 2 ** 40 })
          await peer.services.pubsub.publish(HEARTBEAT_TOPIC, beat).catch(() => {})
        }
        await new Promise(resolve => setTimeout(resolve, 200))
      }
      // a new deploy by the owner reaches the nodes, never the peer that serves the control protocol
      await admin.deploy('counter2', await readFile(join(EXAMPLES, 'counter', 'index.js')))
      await serving
    } finally {
      await peer.stop()
    }
    assert.equal(received.get(CTL_PROTOCOL), undefined, 'no node sent the stranger a control request (a deploy, a list fan-out)')
    for (const protocol of [STATE_PROTOCOL, ALLOC_PROTOCOL, ROSTER_PROTOCOL, ELECT_PROTOCOL, DHT_PROTOCOL]) assert.equal(received.get(protocol), undefined, `no node spoke ${protocol} to it`)
    const after = await snapshot()
    assert.deepEqual({ ...after, processes: undefined }, { ...before, processes: undefined }, 'same leader, term, count and nodes')
    assert.ok((await admin.list()).some(p => p.pid === pid))
  })

  it('gives scoped tokens exactly their rights, and refuses expired and revoked ones on every node', async function () {
    const other = await admin.create('counter2')
    const invoker = attenuateToken(nodes[0].token, { rights: ['invoke', 'list'], apps: ['counter'], ttlMs: 60_000 })
    const c = await Client.connect({ bootstrap: [nodes[2].addrs[0]], token: invoker })
    try {
      assert.equal(text(await c.invoke(pid, 'get')), (await snapshot()).count)
      assert.equal(await outcome(c.invoke(other, 'get')), 'UNAUTHORIZED', 'another app')
      assert.equal(await outcome(c.create('counter')), 'UNAUTHORIZED')
      assert.equal(await outcome(c.delete(pid)), 'UNAUTHORIZED')
      const listed = await c.list()
      assert.ok(listed.length > 0 && listed.every(p => p.app === 'counter'), 'it lists only its app')
    } finally {
      await c.close()
    }
    // a deployer of one app deploys that app only, and cannot grant capabilities
    const deployer = attenuateToken(nodes[0].token, { rights: ['deploy'], apps: ['mine'], ttlMs: 60_000 })
    const d = await Client.connect({ bootstrap: [nodes[0].addrs[0]], token: deployer })
    try {
      await d.deploy('mine', 'export async function hi () { return "hi" }')
      assert.equal(await outcome(d.deploy('counter', 'export async function incr () { return "EVIL" }')), 'UNAUTHORIZED')
    } finally {
      await d.close()
    }
    // an expired token
    const brief = attenuateToken(nodes[0].token, { rights: ['status'], ttlMs: 1_000 })
    await new Promise(resolve => setTimeout(resolve, 1_200))
    for (const node of nodes) assert.equal(await outcome(Client.connect({ bootstrap: [node.addrs[0]], token: brief })), 'UNAUTHORIZED')
    // a token revoked through one node is refused by every node within seconds, with what was minted from it
    const revoked = attenuateToken(nodes[0].token, { rights: ['status', 'invoke'], ttlMs: 600_000 })
    const child = attenuateToken(revoked, { rights: ['status'] })
    const live = await Client.connect({ bootstrap: [nodes[1].addrs[0]], token: revoked })
    await live.status()
    const started = Date.now()
    await admin.revoke(tokenId(revoked))
    for (const node of nodes) {
      await eventually(async () => await outcome(Client.connect({ bootstrap: [node.addrs[0]], token: child })) === 'UNAUTHORIZED', 5_000, `revocation on ${node.peerId}`)
    }
    console.log(`      revocation reached every node in ${Date.now() - started} ms`)
    assert.equal(await outcome(live.status()), 'UNAUTHORIZED', 'an open connection loses the revoked grant')
    await live.close()
  })

  it('keeps a revocation across a restart, and admits a node only with a node token', async function () {
    const revoked = attenuateToken(nodes[0].token, { rights: ['status'], ttlMs: 600_000 })
    await admin.revoke(revoked)
    await eventually(async () => await outcome(Client.connect({ bootstrap: [nodes[2].addrs[0]], token: revoked })) === 'UNAUTHORIZED', 5_000, 'revocation')
    assert.equal(await nodes[2].kill('SIGTERM'), 0)
    nodes[2] = await startNode({ dataDir: nodes[2].dataDir, bootstrap: [nodes[0].addrs[0]] })
    nodes[2].token = nodes[0].token
    assert.equal(await outcome(Client.connect({ bootstrap: [nodes[2].addrs[0]], token: revoked })), 'UNAUTHORIZED')
    // a client token does not make a node; a node token does
    const clientToken = attenuateToken(nodes[0].token, { role: 'client', rights: ['status'], ttlMs: 60_000 })
    await assert.rejects(startNode({ bootstrap: [nodes[0].addrs[0]], join: clientToken }), /UNAUTHORIZED/)
    const nodeToken = attenuateToken(nodes[0].token, { role: 'node', ttlMs: 60_000 })
    const joined = await startNode({ bootstrap: [nodes[0].addrs[0]], join: nodeToken })
    try {
      assert.equal(joined.cluster, nodes[0].cluster)
      await eventually(async () => (await admin.status()).nodes.some(n => n.peerId === joined.peerId), 10_000, 'the new member in the status')
      await admin.removeNode(joined.peerId)
      await eventually(async () => !(await admin.status()).nodes.some(n => n.peerId === joined.peerId), 10_000, 'the removed member gone')
    } finally {
      await stopCluster([joined])
    }
  })

  it('bounds what unfinished requests can make a node hold, and serves a legitimate client meanwhile', async function () {
    const target = nodes[0]
    const rssBefore = await rssOf(target.pid)
    const peers = [(await hostilePeer()).peer, (await hostilePeer()).peer]
    const { InvokeFrame } = await import('../../protocol/pb/messages.js')
    const { encodeFrame } = await import('../../protocol/frames.js')
    const chunk = new Uint8Array(256 * 1024 - 64)
    let refused = 0
    try {
      // a stranger and a client with a token each open 16 invoke streams and start 16 MiB requests they never finish
      for (const [k, token] of [undefined, target.token].entries()) {
        const peer = peers[k]
        // the token goes once on the connection, as a client presents it
        if (token != null) await rawChannel(peer, target.addrs[0], INVOKE_PROTOCOL, token)
        const streams = await Promise.all(Array.from({ length: 16 }, async () => {
          const channel = await rawChannel(peer, target.addrs[0], INVOKE_PROTOCOL)
          channel.stream.addEventListener('message', () => { refused++ })
          return channel.stream
        }))
        // 8 requests a stream, each 2 MiB of its declared 16 MiB: 256 MiB per peer if a node kept it all
        for (let id = 1; id <= 8; id++) {
          for (let part = 0; part < 8; part++) {
            for (const stream of streams) stream.send(encodeFrame({ id, kind: InvokeFrame.Kind.REQUEST, pid, fn: 'get', size: 16 * 1024 * 1024, chunk, more: true }))
            await new Promise(resolve => setTimeout(resolve, 5))
          }
          assert.ok(text(await admin.invoke(pid, 'get')).length > 0, 'a legitimate client is served during the flood')
        }
      }
      await new Promise(resolve => setTimeout(resolve, 1_000))
      const grown = (await rssOf(target.pid)) - rssBefore
      console.log(`      RSS grew ${(grown / 2 ** 20).toFixed(0)} MiB under 2 peers x 16 streams x 8 unfinished requests of 2 MiB (of 16 MiB declared); ${refused} refusals answered`)
      // the stranger holds nothing; the client at most its connection's budget (64 MiB) plus what the frames in flight take
      assert.ok(grown < 160 * 2 ** 20, `RSS grew ${grown} bytes`)
      assert.ok(refused > 0, 'over-budget requests are answered, not buffered')
    } finally {
      await Promise.all(peers.map(async p => { await p.stop() }))
    }
    assert.equal(text(await admin.invoke(pid, 'get')), (await snapshot()).count)
  })
})

describe('trust: quotas per client and app names', function () {
  this.timeout(60_000)
  let node: TestNode

  before(async function () {
    node = await startNode({ args: ['--max-apps-per-client', '2', '--max-processes-per-client', '3', '--replicas', '1'] })
  })

  after(async function () {
    if (node != null) await stopCluster([node])
  })

  it('holds one client to its quotas of apps and hosted processes, and keeps another client from its app names', async function () {
    const app = 'export async function hi () { return "hi" }'
    const rights = { rights: ['deploy', 'create', 'invoke'] as Array<'deploy' | 'create' | 'invoke'>, ttlMs: 60_000 }
    const aliceToken = attenuateToken(node.token, rights)
    const alice = await Client.connect({ bootstrap: [node.addrs[0]], token: aliceToken })
    const bob = await Client.connect({ bootstrap: [node.addrs[0]], token: attenuateToken(node.token, rights) })
    try {
      await alice.deploy('a1', app)
      await alice.deploy('a2', app)
      await alice.deploy('a1', app + '\n') // a new version of its own app counts once
      assert.equal(await outcome(alice.deploy('a3', app)), 'TOO_LARGE', 'a third app name')
      assert.equal(await outcome(bob.deploy('a1', 'export async function hi () { return "EVIL" }')), 'UNAUTHORIZED', 'another client\'s app name')
      for (let i = 0; i < 3; i++) await alice.create('a1')
      assert.equal(await outcome(alice.create('a1')), 'TOO_LARGE', 'a fourth process on this node')
      // another client's quota is its own
      await bob.deploy('b1', app)
      const pid = await bob.create('b1')
      assert.equal(text(await bob.invoke(pid, 'hi')), 'hi')
      // a token minted from alice's counts as alice
      const minted = await Client.connect({ bootstrap: [node.addrs[0]], token: attenuateToken(aliceToken, { rights: ['create'] }) })
      try {
        assert.equal(await outcome(minted.create('a1')), 'TOO_LARGE', 'alice\'s quota, through a token minted from hers')
      } finally {
        await minted.close()
      }
      // names that are not names
      for (const bad of ['..', '.hidden', '-x', 'a/b']) assert.equal(await outcome(alice.deploy(bad, app)), 'BAD_REQUEST', bad)
    } finally {
      await alice.close()
      await bob.close()
    }
  })
})
