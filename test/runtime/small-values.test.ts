import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { fullCollector } from '../../node/host/idle-trim.js'
import { fixture } from '../helpers/paths.js'
import { encode, harness } from './harness.js'
import type { Harness } from './harness.js'

describe('runtime: small state values', function () {
  let h: Harness

  beforeEach(async function () {
    h = await harness()
    await h.apps.deploy('kit', await readFile(fixture('testkit')))
  })

  afterEach(async function () {
    await h.stop()
  })

  it('are kept on the V8 heap, with no buffer of their own in native memory, and read back whole', async function () {
    const gc = fullCollector()
    const { pid } = h.runtime.create('kit')
    // enough values that what other code allocates meanwhile (up to about 80 KB, in the whole
    // suite) stays well under what they would hold in native memory: 1.28 MB
    const count = 20_000
    const size = 64
    gc()
    const before = process.memoryUsage().arrayBuffers
    await h.runtime.invoke(pid, 'fill', encode({ count, size }))
    gc()
    const grown = process.memoryUsage().arrayBuffers - before
    // kept as the sandbox hands them in, each would hold a native buffer: count * size bytes
    assert.ok(grown < count * size / 2, `array buffer memory grew by ${grown} B for ${count} values of ${size} B`)
    for (const j of [0, 1, count - 1]) {
      const value = h.runtime.get(pid)!.state.get(`k${j}`)!
      assert.deepEqual([...value], Array.from({ length: size }, (_, i) => (i + j) & 0xff))
    }
    // and a read hands the sandbox a copy, leaving the kept value on the heap
    assert.deepEqual([...await h.runtime.invoke(pid, 'get', encode('k1'))], Array.from({ length: size }, (_, i) => (i + 1) & 0xff))
    gc()
    assert.ok(process.memoryUsage().arrayBuffers - before < count * size / 2)
  })
})
