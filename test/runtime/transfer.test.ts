import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import type { Runtime } from '../../node/runtime/index.js'
import { fixture } from '../helpers/paths.js'
import { harness } from './harness.js'
import type { Harness } from './harness.js'

const KiB = 1024
const MiB = 1024 * KiB
const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))

describe('runtime: bytes between the node and its sandboxes', function () {
  this.timeout(30_000)

  describe('through an isolate', () => {
    let h: Harness
    let runtime: Runtime

    beforeEach(async () => {
      h = await harness({ functionTimeoutMs: 20_000, mailboxBytes: 64 * MiB })
      runtime = h.runtime
      await h.apps.deploy('transfer', await readFile(fixture('transfer')))
    })

    afterEach(async () => {
      await h.stop()
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
