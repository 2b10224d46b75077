import assert from 'node:assert/strict'
import { open, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import fc from 'fast-check'
import { writeAll } from '../../node/storage/files.js'
import { withDir } from './arbitraries.js'

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff)

async function writeAndRead (dir: string, buffers: Uint8Array[], position: number): Promise<{ written: number, file: Buffer }> {
  const path = join(dir, 'f')
  const fh = await open(path, 'w')
  try {
    return { written: await writeAll(fh, buffers, position), file: await fh.sync().then(async () => await readFile(path)) }
  } finally {
    await fh.close()
  }
}

describe('storage/files writeAll', function () {
  it('writes buffers bigger than one writev call (8 MiB), across and inside call boundaries, in order', async function () {
    await withDir(async (dir) => {
      const buffers = [bytes(5 << 20, 1), new Uint8Array(0), bytes(12 << 20, 2), bytes(1, 3), bytes((3 << 20) + 5, 4)]
      const { written, file } = await writeAndRead(dir, buffers, 7)
      const expected = Buffer.concat(buffers)
      assert.equal(written, expected.byteLength)
      assert.equal(file.byteLength, 7 + expected.byteLength)
      assert.ok(file.subarray(7).equals(expected))
    })
  })

  it('writes any small buffers at any position, byte for byte', async function () {
    await fc.assert(fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }), fc.nat(1000), async (buffers, position) => {
      await withDir(async (dir) => {
        const { written, file } = await writeAndRead(dir, buffers, position)
        const expected = Buffer.concat(buffers)
        assert.equal(written, expected.byteLength)
        assert.ok(file.subarray(position).equals(expected))
      })
    }), { numRuns: 30 })
  })
})
