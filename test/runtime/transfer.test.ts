import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { PraasError } from '../../protocol/index.js'
import { markFresh, takeFresh } from '../../protocol/fresh-bytes.js'
import { exactBytes, storedBytes } from '../../node/runtime/exact-bytes.js'
import { forTransfer } from '../../node/runtime/transfer.js'
import { AppRegistry, Runtime } from '../../node/runtime/index.js'
import { fixture } from '../helpers/paths.js'

const KiB = 1024
const MiB = 1024 * KiB
const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))

describe('runtime: bytes between the controller and its workers', function () {
  this.timeout(30_000)

  describe('exactBytes and forTransfer', () => {
    it('copies a view of a Node Buffer into a buffer of its own (Buffer#slice would not copy)', () => {
      const network = Buffer.alloc(64 * KiB, 7)
      const view = network.subarray(100, 164)
      const exact = exactBytes(view)
      assert.notEqual(exact.buffer, network.buffer)
      assert.deepStrictEqual([exact.byteOffset, exact.byteLength, exact.buffer.byteLength], [0, 64, 64])
      assert.equal(takeFresh(exact), undefined, 'a small copy is not marked: it is cloned anyway')
      const big = exactBytes(network.subarray(1))
      assert.deepStrictEqual([big.byteOffset, big.byteLength, big.buffer.byteLength], [0, 64 * KiB - 1, 64 * KiB - 1])
      assert.ok(takeFresh(big) != null, 'a big copy is fresh')
      const whole = new Uint8Array(64)
      assert.equal(exactBytes(whole), whole)
      assert.equal(takeFresh(whole), undefined, 'a buffer exactBytes did not make is not fresh')
    })

    it('keeps a stored copy whole when a read hands it on (storedBytes does not mark it fresh)', () => {
      // a replicated value arrives as a view into the decoded batch, is copied once, and is then
      // shared by the replica, a process restored from it, and every read
      const wire = Buffer.alloc(100 * KiB, 3)
      const stored = storedBytes(wire.subarray(10, 10 + 40 * KiB))
      assert.notEqual(stored.buffer, wire.buffer)
      const transfer: ArrayBuffer[] = []
      // what a state read does with a value before it crosses to the worker (function-worker.ts exactValue)
      forTransfer(exactBytes(stored), transfer)
      assert.equal(transfer.length, 0, 'a stored value was moved: it would be emptied for the state')
      assert.equal(stored.byteLength, 40 * KiB)
      const whole = new Uint8Array(40 * KiB)
      assert.equal(storedBytes(whole), whole)
    })

    it('moves fresh buffers, copies big ones that others hold, and leaves small ones to the clone', () => {
      const transfer: ArrayBuffer[] = []
      const fresh = markFresh(new Uint8Array(64 * KiB))
      assert.equal(forTransfer(fresh, transfer), fresh)
      assert.deepStrictEqual(transfer, [fresh.buffer])
      assert.equal(takeFresh(fresh), undefined, 'the mark is taken once')
      const held = new Uint8Array(2 * MiB)
      const copy = forTransfer(held, transfer)
      assert.notEqual(copy, held)
      assert.equal(transfer.at(-1), copy.buffer)
      const small = markFresh(new Uint8Array(100))
      assert.equal(forTransfer(small, transfer), small)
      const middling = new Uint8Array(64 * KiB)
      assert.equal(forTransfer(middling, transfer), middling)
      assert.equal(transfer.length, 2)
    })
  })

  describe('through a worker', () => {
    let dir: string
    let apps: AppRegistry
    let runtime: Runtime

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'praas-transfer-'))
      apps = new AppRegistry(join(dir, 'apps'), {
        maxWorkers: 2,
        resourceLimits: { maxOldGenerationSizeMb: 256 },
        log: logger('praas:test'),
        onOp: async (pid, request, cancel) => await runtime.onContextOp(pid, request, cancel)
      })
      runtime = new Runtime({
        apps,
        functionTimeoutMs: 20_000,
        maxProcesses: 10,
        mailboxBytes: 64 * MiB,
        remoteInvoke: async (pid) => { throw new PraasError('NOT_FOUND', `no process ${pid}`) },
        remoteSend: async (pid) => { throw new PraasError('NOT_FOUND', `no process ${pid}`) }
      })
      await apps.deploy('transfer', await readFile(fixture('transfer')))
    })

    afterEach(async () => {
      await apps.stop()
      await rm(dir, { recursive: true, force: true })
    })

    for (const size of [100, 64 * KiB, 2 * MiB]) {
      it(`keeps every buffer someone still holds whole, ${size} bytes`, async () => {
        const { pid } = runtime.create('transfer')
        const other = runtime.create('transfer').pid
        const args = encode({ size, seed: 5 })
        for (let i = 0; i < 2; i++) assert.equal((await runtime.invoke(pid, 'keptResult', args)).byteLength, size)
        assert.equal(new TextDecoder().decode(await runtime.invoke(pid, 'putKept', args)), 'ok')
        for (let i = 0; i < 2; i++) {
          for (const key of ['whole', 'view']) await runtime.invoke(pid, 'getValue', encode({ key, size, seed: 5 }))
        }
        assert.equal(runtime.get(pid)!.state.get('whole')!.byteLength, size, 'the state value stays whole')
        for (const to of [pid, other]) {
          await runtime.invoke(pid, 'sendKept', encode({ size, seed: 5, to }))
          await runtime.invoke(to, 'recvKept', encode({ size, seed: 5 }))
          await runtime.invoke(pid, 'invokeKept', encode({ size, seed: 5, to }))
        }
        // the caller's own payload is not moved either
        const payload = new Uint8Array(size).fill(9)
        const echoed = await runtime.invoke(pid, 'echo', payload)
        assert.deepStrictEqual([payload.byteLength, payload[size - 1], echoed.byteLength, echoed[size - 1]], [size, 9, size, 9])
        assert.equal((await runtime.invoke(pid, 'text', new TextEncoder().encode(String(size)))).byteLength, size)
      })
    }
  })
})
