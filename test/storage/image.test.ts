import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import {
  IMAGE_CHUNK_BYTES, checkChunk, decodeManifest, encodeManifest, imageFromChunks, imageToChunks
} from '../../node/storage/index.js'
import { assertBytesEqual, bytes, throwsCode } from '../protocol/helpers.js'
import { image, plain } from './arbitraries.js'
import type { ProcessImage } from '../../node/storage/index.js'

function big (values: number[]): ProcessImage {
  return {
    pid: 'big',
    app: 'app',
    appHash: '',
    epoch: { term: 1, counter: 2 },
    seq: 3,
    state: new Map(values.map((n, i) => [`k${i}`, randomBytes(n)])),
    messages: [{ key: 'inbox', from: 'p2', data: bytes(10, 9) }]
  }
}

describe('storage/image', () => {
  it('rebuilds every image from its chunks exactly', () => {
    fc.assert(fc.property(image, (img) => {
      const { manifest, chunks } = imageToChunks(img)
      assert.deepStrictEqual(plain(imageFromChunks(manifest, chunks)), plain(img))
    }), { numRuns: 300 })
  })

  it('rebuilds an image from copies of its chunks, as a peer receives them', () => {
    fc.assert(fc.property(image, (img) => {
      const { manifest, chunks } = imageToChunks(img)
      const copies = chunks.map((c) => Uint8Array.from(c))
      assert.deepStrictEqual(plain(imageFromChunks(decodeManifest(encodeManifest(manifest)), copies)), plain(img))
    }), { numRuns: 100 })
  })

  it('cuts a large image into full chunks and a last shorter one', () => {
    const img = big([3 * IMAGE_CHUNK_BYTES, 100_000])
    const { manifest, chunks } = imageToChunks(img)
    assert.equal(chunks.length, 4)
    assert.deepEqual(chunks.slice(0, 3).map((c) => c.byteLength), [IMAGE_CHUNK_BYTES, IMAGE_CHUNK_BYTES, IMAGE_CHUNK_BYTES])
    assert.equal(manifest.size, chunks.reduce((n, c) => n + c.byteLength, 0))
    const back = imageFromChunks(manifest, chunks.map((c) => Uint8Array.from(c)))
    assertBytesEqual(back.state.get('k0')!, img.state.get('k0')!, 'k0')
    assertBytesEqual(back.state.get('k1')!, img.state.get('k1')!, 'k1')
  })

  it('round-trips every manifest through its encoding', () => {
    fc.assert(fc.property(image, (img) => {
      const { manifest } = imageToChunks(img)
      assert.deepStrictEqual(decodeManifest(encodeManifest(manifest)), manifest)
    }), { numRuns: 200 })
  })

  it('refuses a chunk with any byte flipped', () => {
    fc.assert(fc.property(image, fc.nat(), fc.integer({ min: 1, max: 255 }), (img, at, flip) => {
      const { manifest, chunks } = imageToChunks(img)
      const copies = chunks.map((c) => Uint8Array.from(c))
      const i = at % copies.length
      copies[i][at % copies[i].byteLength] ^= flip
      throwsCode(() => checkChunk(manifest.chunks[i], copies[i]), 'BAD_REQUEST')
      throwsCode(() => imageFromChunks(manifest, copies), 'BAD_REQUEST')
    }), { numRuns: 200 })
  })

  it('refuses a missing, extra or resized chunk', () => {
    const { manifest, chunks } = imageToChunks(big([IMAGE_CHUNK_BYTES + 10]))
    throwsCode(() => imageFromChunks(manifest, chunks.slice(1)), 'BAD_REQUEST')
    throwsCode(() => imageFromChunks(manifest, [...chunks, chunks[0]]), 'BAD_REQUEST')
    throwsCode(() => imageFromChunks(manifest, [chunks[0], chunks[1].subarray(1)]), 'BAD_REQUEST')
    throwsCode(() => imageFromChunks({ ...manifest, size: manifest.size - 1 }, chunks), 'BAD_REQUEST')
  })

  it('decodes arbitrary bytes to a valid manifest or BAD_REQUEST, nothing else', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
      try {
        decodeManifest(data)
      } catch (err) {
        assert.equal((err as { code?: string }).code, 'BAD_REQUEST')
      }
    }), { numRuns: 500 })
  })

  it('refuses manifests with bad hashes, sizes or pids', () => {
    const { manifest } = imageToChunks(big([10]))
    throwsCode(() => encodeManifest({ ...manifest, chunks: ['00'] }), 'BAD_REQUEST')
    throwsCode(() => encodeManifest({ ...manifest, pid: '' }), 'BAD_REQUEST')
    throwsCode(() => encodeManifest({ ...manifest, size: IMAGE_CHUNK_BYTES + 1 }), 'BAD_REQUEST')
    throwsCode(() => encodeManifest({ ...manifest, appHash: 'xyz' }), 'BAD_REQUEST')
    throwsCode(() => encodeManifest({ ...manifest, seq: -1 }), 'BAD_REQUEST')
  })

  it('serializes and hashes 64 MiB of state quickly', function () {
    this.timeout(10_000)
    const img = big(Array.from({ length: 8 }, () => 8 * IMAGE_CHUNK_BYTES))
    const started = performance.now()
    const { manifest, chunks } = imageToChunks(img)
    const back = imageFromChunks(manifest, chunks)
    const ms = performance.now() - started
    assert.equal(back.state.size, 8)
    // about 130 ms on a laptop-class core: one copy of each value and one sha256 pass each way
    assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`)
  })
})
