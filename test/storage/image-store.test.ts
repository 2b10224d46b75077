import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import fc from 'fast-check'
import { ImageStore, imageToChunks } from '../../node/storage/index.js'
import { assertBytesEqual, bytes, rejectsCode } from '../protocol/helpers.js'
import { image, plain, withDir } from './arbitraries.js'
import type { ProcessImage } from '../../node/storage/index.js'

function fileOf (dir: string, pid: string): string {
  return join(dir, createHash('sha256').update(pid).digest('hex'))
}

function small (pid: string, term: number, seq: number, value = 'v'): ProcessImage {
  return {
    pid,
    app: 'app',
    appHash: '',
    epoch: { term, counter: 0 },
    seq,
    state: new Map([['k', new TextEncoder().encode(value)]]),
    messages: []
  }
}

describe('storage/image-store', () => {
  it('loads every saved image exactly, also after reopening', async () => {
    await withDir(async (dir) => {
      await fc.assert(fc.asyncProperty(image, async (img) => {
        const store = new ImageStore(dir)
        await store.open()
        await store.delete(img.pid)
        const manifest = await store.save(img)
        assert.deepStrictEqual(plain(await store.load(img.pid)), plain(img))
        const reopened = new ImageStore(dir)
        await reopened.open()
        assert.deepStrictEqual(await reopened.manifest(img.pid), manifest)
        assert.deepStrictEqual(plain(await reopened.load(img.pid)), plain(img))
      }), { numRuns: 40 })
    })
  })

  it('keeps an 8 MiB value byte for byte', async function () {
    this.timeout(10_000)
    await withDir(async (dir) => {
      const value = bytes(8 * 1024 * 1024, 7)
      const store = new ImageStore(dir)
      await store.open()
      await store.save({ ...small('p', 1, 1), state: new Map([['big', value], ['empty', new Uint8Array(0)]]) })
      const loaded = await store.load('p')
      assertBytesEqual(loaded!.state.get('big')!, value, 'big value')
      assert.equal(loaded!.state.get('empty')!.byteLength, 0)
    })
  })

  it('writes the same file when it hashes the chunks while it writes them (saveImage), and refuses it damaged', async function () {
    this.timeout(20_000)
    await withDir(async (dir) => {
      const value = bytes(3 * 1024 * 1024 + 17, 5)
      const swapped = { ...small('p', 2, 3), state: new Map([['big', value], ['k', bytes(10, 1)]]), messages: [{ id: 1, key: 'm', from: 'q', data: bytes(3, 2) }] }
      const store = new ImageStore(dir)
      await store.open()
      const { manifest } = await store.saveImage(swapped)
      assert.deepStrictEqual(manifest, imageToChunks(swapped).manifest)
      assert.deepStrictEqual(plain(await store.load('p')), plain(swapped))
      const reopened = new ImageStore(dir)
      await reopened.open()
      assert.deepStrictEqual(await reopened.manifest('p'), manifest)
      const file = await readFile(fileOf(dir, 'p'))
      file[file.byteLength - 1000] ^= 1
      await writeFile(fileOf(dir, 'p'), file)
      await rejectsCode(reopened.load('p'), 'BAD_REQUEST')
    })
  })

  it('refuses to load a file with any byte flipped', async function () {
    this.timeout(20_000)
    await withDir(async (dir) => {
      const store = new ImageStore(dir)
      await store.open()
      await store.save({ ...small('p/ü', 1, 1), state: new Map([['a', bytes(2 * 1024 * 1024 + 5)]]) })
      const path = fileOf(dir, 'p/ü')
      const original = await readFile(path)
      await fc.assert(fc.asyncProperty(fc.nat(original.byteLength - 1), fc.integer({ min: 1, max: 255 }), async (at, flip) => {
        const damaged = Buffer.from(original)
        damaged[at] ^= flip
        await writeFile(path, damaged)
        await rejectsCode(store.load('p/ü'), 'BAD_REQUEST')
        await rejectsCode(store.readChunks('p/ü'), 'BAD_REQUEST')
      }), { numRuns: 60, examples: [[0, 1], [40, 1], [original.byteLength - 1, 1]] })
      await writeFile(path, original.subarray(0, original.byteLength - 1))
      await rejectsCode(store.load('p/ü'), 'BAD_REQUEST')
    })
  })

  it('keeps the newer image when an older one is saved after it', async () => {
    await withDir(async (dir) => {
      const store = new ImageStore(dir)
      await store.open()
      await store.save(small('p', 2, 1, 'new'))
      const kept = await store.save(small('p', 1, 9, 'old'))
      assert.equal(kept.epoch.term, 2)
      assert.equal(new TextDecoder().decode((await store.load('p'))!.state.get('k')), 'new')
      await store.save(small('p', 2, 2, 'newer'))
      assert.equal(new TextDecoder().decode((await store.load('p'))!.state.get('k')), 'newer')
    })
  })

  it('ends concurrent saves of one pid with the newest image intact', async () => {
    await withDir(async (dir) => {
      const store = new ImageStore(dir)
      await store.open()
      const seqs = [3, 1, 7, 5, 2, 6, 4]
      await Promise.all(seqs.map((seq) => store.save(small('p', 1, seq, `v${seq}`))))
      const loaded = await store.load('p')
      assert.equal(loaded!.seq, 7)
      assert.equal(new TextDecoder().decode(loaded!.state.get('k')), 'v7')
      assert.deepEqual(await readdir(dir), [createHash('sha256').update('p').digest('hex')])
    })
  })

  it('removes half-written files on open and lists what it holds', async () => {
    await withDir(async (dir) => {
      const store = new ImageStore(dir)
      await store.open()
      await store.save(small('a', 1, 1))
      await store.save(small('b', 1, 1))
      await writeFile(join(dir, 'deadbeef.tmp'), 'partial')
      const reopened = new ImageStore(dir)
      await reopened.open()
      const listed: string[] = []
      for await (const m of reopened.list()) listed.push(m.pid)
      assert.deepEqual(listed.sort(), ['a', 'b'])
      assert.equal(reopened.size, 2)
      await reopened.save(small('a', 1, 2))
      assert.equal(reopened.size, 2, 'a newer image of a pid replaces its file')
      assert.equal((await readdir(dir)).some((f) => f.endsWith('.tmp')), false)
      assert.equal(await reopened.delete('a'), true)
      assert.equal(await reopened.delete('a'), false)
      assert.equal(await reopened.load('a'), undefined)
      assert.equal(await reopened.manifest('a'), undefined)
      assert.equal(reopened.size, 1)
    })
  })

  it('stores chunks received from a peer only after checking each one', async () => {
    await withDir(async (dir) => {
      const source = new ImageStore(join(dir, 'source'))
      const target = new ImageStore(join(dir, 'target'))
      await source.open()
      await target.open()
      const img = { ...small('p', 1, 1), state: new Map([['a', bytes(1024 * 1024 + 3)]]) }
      await source.save(img)
      const { manifest, chunks } = (await source.readChunks('p'))!
      const bad = chunks.map((c) => Uint8Array.from(c))
      bad[1][0] ^= 1
      await rejectsCode(target.saveChunks(manifest, bad), 'BAD_REQUEST')
      assert.equal(await target.manifest('p'), undefined)
      await target.saveChunks(manifest, chunks)
      assert.deepStrictEqual(plain(await target.load('p')), plain(img))
      assert.equal((await stat(fileOf(join(dir, 'target'), 'p'))).size > manifest.size, true)
      assert.deepStrictEqual(imageToChunks(img).manifest, manifest)
    })
  })
})
