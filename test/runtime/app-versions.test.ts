import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import fc from 'fast-check'
import { AppRegistry, laterVersion, versionHash } from '../../node/runtime/index.js'

const source = (n: number): Uint8Array => new TextEncoder().encode(`export async function which () { return '${n}' }\n`)

/** A registry of its own in a fresh folder; its sandboxes are never called into. */
async function registry (dir: string): Promise<AppRegistry> {
  return new AppRegistry(dir, { host: { op: () => undefined, ended: () => {} }, log: logger('praas:test') })
}

/**
 * Versions of one app reach the nodes in any order (a deploy's fan-out, a sync after a node was
 * away): each node must end on the same version, the latest by (serial, hash), and keep it
 * across a restart.
 */
describe('app versions: every node ends on the latest, whatever order they arrive in', function () {
  this.timeout(120_000)

  it('keeps the latest of versions delivered in any order, duplicates included, and after a restart', async function () {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({ n: fc.integer({ min: 0, max: 5 }), serial: fc.integer({ min: 0, max: 4 }) }), { minLength: 1, maxLength: 5 }),
      async (deliveries) => {
        const dir = await mkdtemp(join(tmpdir(), 'praas-apps-'))
        let apps = await registry(dir)
        try {
          for (const { n, serial } of deliveries) await apps.deploy('app', source(n), {}, serial)
          const latest = deliveries.map(d => ({ serial: d.serial, hash: versionHash(source(d.n)) }))
            .reduce((a, b) => (laterVersion(b, a) ? b : a))
          const current = apps.get('app')!
          assert.deepEqual({ serial: current.serial, hash: current.hash }, latest)
          await apps.stop()
          apps = await registry(dir)
          await apps.loadStored()
          assert.deepEqual({ serial: apps.get('app')?.serial, hash: apps.get('app')?.hash }, latest)
        } finally {
          await apps.stop()
          await rm(dir, { recursive: true, force: true })
        }
      }), { numRuns: 50 })
  })

  it('places a new deploy after every version the node holds, the same source included', async function () {
    const dir = await mkdtemp(join(tmpdir(), 'praas-apps-'))
    const apps = await registry(dir)
    try {
      const far = Date.now() + 3_600_000
      await apps.deploy('app', source(1), {}, far)
      const second = await apps.deploy('app', source(2))
      assert.equal(second.serial, far + 1)
      assert.equal(second.hash, versionHash(source(2)))
      // deploying the first source again makes it current again
      const again = await apps.deploy('app', source(1))
      assert.deepEqual([again.hash, again.serial], [versionHash(source(1)), far + 2])
      // an older version arriving late changes nothing
      assert.equal((await apps.deploy('app', source(3), {}, far)).hash, versionHash(source(1)))
    } finally {
      await apps.stop()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
