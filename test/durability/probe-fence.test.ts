import assert from 'node:assert/strict'
import { Lifecycle } from '../../node/durability/lifecycle.js'
import { RESULT_GAP, RESULT_OK, RESULT_STALE } from '../../node/durability/replicator.js'
import { StateService } from '../../node/durability/state-service.js'
import { ImageStore, ReplicaStore, encodeManifest, imageToChunks } from '../../node/storage/index.js'
import { ReplicateRequest, ReplicateResponse, StateRequest } from '../../protocol/index.js'
import { rejectsCode } from '../protocol/helpers.js'
import { withDir } from '../storage/arbitraries.js'
import type { LifecycleInit } from '../../node/durability/lifecycle.js'
import type { ActivationEpoch, ProcessImage } from '../../node/storage/index.js'
import type { Logger } from '@libp2p/interface'

const PID = 'p'
const OLD: ActivationEpoch = { term: 1, counter: 1 }
const NEW: ActivationEpoch = { term: 2, counter: 1 }

const log = Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false }) as unknown as Logger

function image (epoch: ActivationEpoch, seq: number, count: number): ProcessImage {
  return { pid: PID, app: 'counter', appHash: '', epoch, seq, state: new Map([['n', new TextEncoder().encode(String(count))]]), messages: [] }
}

/**
 * The replica side of one node, as node.ts wires it: the state service over a real replica store
 * and image store, its probes answered by a real Lifecycle. No process runs on this node.
 */
async function replicaNode (dir: string, pushed: number[] = []): Promise<{ service: StateService, replicas: ReplicaStore }> {
  const replicas = new ReplicaStore(`${dir}/replicas`)
  await replicas.open()
  const images = new ImageStore(`${dir}/images`)
  await images.open()
  const runtime = { get: () => undefined }
  const lifecycle = new Lifecycle({ runtime, images, replicas, apps: { get: () => undefined }, log } as unknown as LifecycleInit)
  const service = new StateService({
    runtime: runtime as never,
    images,
    replicas,
    activate: async () => {},
    newestCopy: async (pid) => await lifecycle.newestCopy(pid),
    copyHere: async (pid, fence) => await lifecycle.copyHere(pid, fence),
    fence: async (pid, epoch) => { await lifecycle.fence(pid, epoch) },
    stepDown: () => {},
    pushResult: (_client, p) => { pushed.push(p.call) },
    log
  })
  return { service, replicas }
}

/** What a host of activation `epoch` sends a replica it chose: a full copy (install), carried in the call. */
function install (img: ProcessImage): Uint8Array {
  const { manifest, chunks } = imageToChunks(img)
  return StateRequest.encode({ manifest: encodeManifest(manifest) as Uint8Array<ArrayBuffer>, chunks: chunks as Array<Uint8Array<ArrayBuffer>> })
}

/** A replication call of one batch (its writes `n` = count) carrying the result of a client's call, for the replica to push. */
function batch (epoch: ActivationEpoch, seq: number, count: number): Uint8Array {
  return ReplicateRequest.encode({
    batches: [{ pid: PID, app: 'counter', appHash: '', term: epoch.term, counter: epoch.counter, seq, ops: [{ key: 'n', value: new TextEncoder().encode(String(count)) }], active: false, inMemory: false, puts: [], takes: [] }],
    forwards: [{ batch: 0, client: 'client', call: 7, result: new TextEncoder().encode(String(count)), copies: 1 }]
  })
}

describe('durability: a restore\'s probe fences every node that answers', function () {
  it('a node that held no copy when a newer activation probed it takes no copy or batch of an older activation afterwards', async function () {
    await withDir(async (dir) => {
      const pushed: number[] = []
      const { service, replicas } = await replicaNode(dir, pushed)
      // The restore of activation NEW asks this node which copy it holds: none.
      await rejectsCode(service.handle({ pid: PID, fn: 'probe', payload: StateRequest.encode({ term: NEW.term, counter: NEW.counter }), timeoutMs: 0 }), 'NOT_FOUND')
      // Later (bytes held up by a cut link), the host of the older activation, which chose this
      // node as its replica while its lease still held, sends its full copy and then a batch whose
      // result this node would push to the client as acknowledged: NEW never sees that write.
      const installed = await service.handle({ pid: PID, fn: 'install', payload: install(image(OLD, 10, 10)), timeoutMs: 0 })
      assert.equal(installed[0], RESULT_STALE, 'the older activation\'s full copy is refused')
      const { answer, apply } = service.replicateLater(batch(OLD, 11, 11), 'old-host')
      apply()
      assert.notEqual(ReplicateResponse.decode(answer).results[0], RESULT_OK, 'the older activation\'s batch is not taken')
      assert.deepEqual(pushed, [], 'no result of the older activation is pushed')
      assert.equal(replicas.version(PID), undefined)
      service.stop()
      await replicas.close()
    })
  })

  it('still takes the copies and batches of the probing activation and newer ones', async function () {
    await withDir(async (dir) => {
      const { service, replicas } = await replicaNode(dir)
      await rejectsCode(service.handle({ pid: PID, fn: 'probe', payload: StateRequest.encode({ term: NEW.term, counter: NEW.counter }), timeoutMs: 0 }), 'NOT_FOUND')
      const first = ReplicateResponse.decode(service.replicateLater(batch(NEW, 11, 11)).answer).results[0]
      assert.equal(first, RESULT_GAP, 'a batch of NEW before its copy: a gap, as on any node')
      assert.equal((await service.handle({ pid: PID, fn: 'install', payload: install(image(NEW, 10, 10)), timeoutMs: 0 }))[0], RESULT_OK)
      const { answer, apply } = service.replicateLater(batch(NEW, 11, 11))
      apply()
      assert.equal(ReplicateResponse.decode(answer).results[0], RESULT_OK)
      assert.deepEqual(replicas.version(PID), { pid: PID, app: 'counter', appHash: '', epoch: NEW, seq: 11 })
      service.stop()
      await replicas.close()
    })
  })
})
