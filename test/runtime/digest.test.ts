import assert from 'node:assert/strict'
import { webcrypto } from 'node:crypto'
import fc from 'fast-check'
import { digestNow } from '../../node/runtime/web-host.js'
import { encode, harness, text } from './harness.js'
import type { Harness } from './harness.js'

const ALGORITHMS = ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512']

async function webDigest (algorithm: string, data: Uint8Array): Promise<number[]> {
  return [...new Uint8Array(await webcrypto.subtle.digest(algorithm, data))]
}

describe('runtime/crypto.subtle.digest', function () {
  it('computes a small digest at once, byte for byte what WebCrypto gives, under any spelling of its name', async function () {
    await fc.assert(fc.asyncProperty(
      fc.constantFrom(...ALGORITHMS), fc.uint8Array({ maxLength: 4096 }), fc.constantFrom('string', 'lower', 'object'),
      async (algorithm, data, spelling) => {
        const name = spelling === 'lower' ? algorithm.toLowerCase() : algorithm
        const now = digestNow('digest', [spelling === 'object' ? { name } : name, data])
        assert.ok(now instanceof Uint8Array)
        // a buffer of its own, not a view into a pool: the copy into the isolate carries only it
        assert.equal(now.byteOffset, 0)
        assert.equal(now.buffer.byteLength, now.byteLength)
        assert.deepEqual([...now], await webDigest(algorithm, data))
      }), { numRuns: 200 })
  })

  it('leaves everything else to WebCrypto itself: other methods, unknown names, big inputs, odd arguments', function () {
    const data = new Uint8Array(16)
    assert.equal(digestNow('encrypt', ['SHA-256', data]), undefined)
    assert.equal(digestNow('digest', ['MD5', data]), undefined)
    assert.equal(digestNow('digest', [{ name: 42 }, data]), undefined)
    assert.equal(digestNow('digest', ['SHA-256', 'not bytes']), undefined)
    assert.equal(digestNow('digest', ['SHA-256']), undefined)
    assert.equal(digestNow('digest', ['SHA-256', new Uint8Array(2 * 1024 * 1024)]), undefined)
  })

  describe('in the sandbox', function () {
    let h: Harness
    before(async function () { h = await harness() })
    after(async function () { await h.stop() })

    it('gives the same digests on the direct path (small) and on WebCrypto\'s (over 1 MiB), and its errors', async function () {
      await h.apps.deploy('digests', encode(String.raw`
        const hex = (b) => [...new Uint8Array(b)].map(x => x.toString(16).padStart(2, '0')).join('')
        export async function digests (input) {
          const small = new TextEncoder().encode('abc')
          const big = new Uint8Array(3 * 1024 * 1024).fill(7)
          let error = ''
          try { await crypto.subtle.digest('MD5', small) } catch (e) { error = e.name + ': ' + e.code }
          return JSON.stringify({
            small: hex(await crypto.subtle.digest('SHA-256', small)),
            object: hex(await crypto.subtle.digest({ name: 'sha-512' }, small.buffer)),
            big: hex(await crypto.subtle.digest('SHA-256', big)),
            error
          })
        }
      `))
      const { pid } = h.runtime.create('digests')
      const out = JSON.parse(text(await h.runtime.invoke(pid, 'digests', new Uint8Array(0))))
      const hex = (b: number[]): string => b.map(x => x.toString(16).padStart(2, '0')).join('')
      const abc = new TextEncoder().encode('abc')
      assert.equal(out.small, hex(await webDigest('SHA-256', abc)))
      assert.equal(out.object, hex(await webDigest('SHA-512', abc)))
      assert.equal(out.big, hex(await webDigest('SHA-256', new Uint8Array(3 * 1024 * 1024).fill(7))))
      assert.equal(out.error, 'PraasError: BAD_REQUEST')
    })
  })
})
