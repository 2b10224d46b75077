import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import {
  IMAGE_CHUNK_BYTES, checkChunk, decodeManifest, encodeManifest, imageFromChunks, imageToChunks, sha256
} from '../../node/storage/index.js'
import { chunksOf, hashPiecesBeside, hashPiecesOffThread, imagePieces } from '../../node/storage/image.js'
import * as varint from 'uint8-varint'
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
    messages: [{ id: 7, key: 'inbox', from: 'p2', data: bytes(10, 9) }]
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
    throwsCode(() => encodeManifest({ ...manifest, epoch: { term: 1, counter: 1, grant: new Uint8Array(513) } }), 'BAD_REQUEST')
  })

  it('round-trips 64 MiB of state through its chunks', function () {
    this.timeout(20_000)
    const img = big(Array.from({ length: 8 }, () => 8 * IMAGE_CHUNK_BYTES))
    const { manifest, chunks } = imageToChunks(img)
    const back = imageFromChunks(manifest, chunks)
    assert.equal(back.state.size, 8)
    for (const [key, value] of img.state) assertBytesEqual(back.state.get(key)!, value, key)
  })

  // Values of every size around the piece threshold (16 KiB) and across chunk boundaries (1 MiB).
  const sized = fc.record({
    sizes: fc.array(fc.oneof(fc.nat(100), fc.integer({ min: 16 * 1024 - 2, max: 16 * 1024 + 2 }), fc.integer({ min: 0, max: 3 * IMAGE_CHUNK_BYTES / 2 })), { maxLength: 6 }),
    mail: fc.array(fc.oneof(fc.nat(50), fc.integer({ min: 16 * 1024, max: 200_000 })), { maxLength: 3 })
  }).map(({ sizes, mail }): ProcessImage => ({
    pid: 'p',
    app: 'a',
    appHash: '',
    epoch: { term: 1, counter: 1 },
    seq: 1,
    state: new Map(sizes.map((n, i) => [`k${i}`, Buffer.alloc(n, i + 1)])),
    messages: mail.map((n, i) => ({ id: 3 * i + 1, key: `m${i}`, from: 'q', data: Buffer.alloc(n, 100 + i) }))
  }))

  it('makes the same bytes and chunk hashes from pieces as from one buffer, big values uncopied', async function () {
    this.timeout(60_000)
    await fc.assert(fc.asyncProperty(sized, async (img) => {
      const { manifest, chunks } = imageToChunks(img)
      const { head, pieces } = imagePieces(img)
      assert.equal(head.size, manifest.size)
      assertBytesEqual(Buffer.concat(pieces), Buffer.concat(chunks), 'the bytes')
      assert.deepEqual(await hashPiecesBeside(pieces, head.size), manifest.chunks)
      assert.deepEqual(await hashPiecesOffThread(pieces, head.size), manifest.chunks)
      assert.deepEqual(chunksOf({ head, pieces }).map(c => sha256(c)), manifest.chunks)
      // every value of 16 KiB or more is written from where it lives
      const big = [...img.state.values(), ...img.messages.map(m => m.data)].filter(v => v.byteLength >= 16 * 1024)
      for (const value of big) assert.ok(pieces.includes(value), `a value of ${value.byteLength} bytes was copied`)
      assert.deepStrictEqual(plain(imageFromChunks(manifest, chunksOf({ head, pieces }))), plain(img))
    }), { numRuns: 40 })
  })

  it('refuses to hash pieces that do not make the size they claim', async () => {
    const { head, pieces } = imagePieces(big([IMAGE_CHUNK_BYTES + 10]))
    await assert.rejects(hashPiecesBeside(pieces, head.size + IMAGE_CHUNK_BYTES), (err: any) => err.code === 'BAD_REQUEST')
    await assert.rejects(hashPiecesOffThread(pieces, head.size + IMAGE_CHUNK_BYTES), (err: any) => err.code === 'BAD_REQUEST')
    await assert.rejects(hashPiecesOffThread(pieces, head.size - 5), (err: any) => err.code === 'BAD_REQUEST')
  })

  it('reads an image written before messages were numbered (format 0): its messages are numbered in order', () => {
    const field = (b: Uint8Array): Uint8Array[] => [varint.encode(b.byteLength), b]
    const text = (t: string): Uint8Array => new TextEncoder().encode(t)
    const body = Buffer.concat([
      varint.encode(1), ...field(text('k')), ...field(bytes(3, 1)),
      varint.encode(2), ...field(text('m')), ...field(text('p2')), ...field(text('one')), ...field(text('m')), ...field(text('p3')), ...field(text('two'))
    ])
    const manifest = { pid: 'old', app: 'a', appHash: '', epoch: { term: 1, counter: 1 }, seq: 4, size: body.byteLength, chunks: [sha256(body)], format: 0 }
    const decoded = imageFromChunks(decodeManifest(encodeManifest(manifest)), [body])
    assert.deepEqual(decoded.messages.map(m => [m.id, m.from, new TextDecoder().decode(m.data)]), [[1, 'p2', 'one'], [2, 'p3', 'two']])
    // and an image of the current format carries the ids it was given
    const { manifest: current, chunks } = imageToChunks({ ...decoded, messages: decoded.messages.map((m, i) => ({ ...m, id: 10 + i })) })
    assert.equal(current.format, 1)
    assert.deepEqual(imageFromChunks(current, chunks).messages.map(m => m.id), [10, 11])
  })

  it('refuses an image whose messages repeat an id', () => {
    const { manifest, chunks } = imageToChunks({ ...big([]), messages: [{ id: 2, key: 'k', from: 'q', data: bytes(1, 1) }, { id: 2, key: 'k', from: 'q', data: bytes(1, 2) }] })
    throwsCode(() => imageFromChunks(manifest, chunks), 'BAD_REQUEST')
  })
})
