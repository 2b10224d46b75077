import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { MAX_PID_LENGTH } from '../../protocol/index.js'
import { text } from '../protocol/arbitraries.js'
import { buf } from '../protocol/helpers.js'
import type { ActivationEpoch, ProcessImage } from '../../node/storage/index.js'

export const pid: fc.Arbitrary<string> = fc.oneof(
  text(MAX_PID_LENGTH).filter((s) => s.length > 0),
  fc.constantFrom('a', 'p/1', '../x', 'ß/日本/🙂', 'x'.repeat(MAX_PID_LENGTH))
)

export const epoch: fc.Arbitrary<ActivationEpoch> = fc.record({ term: fc.nat(3), counter: fc.nat(3) })

export const image: fc.Arbitrary<ProcessImage> = fc.record({
  pid,
  app: text(32),
  appHash: fc.oneof(fc.constant(''), fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => buf(b).toString('hex'))),
  // a swap image keeps the allocator's grant of its epoch; images sent to replicas need none
  epoch: fc.record({ term: fc.nat(), counter: fc.nat(), grant: fc.uint8Array({ minLength: 1, maxLength: 300 }) }, { requiredKeys: ['term', 'counter'] }),
  seq: fc.nat(),
  state: fc.array(fc.tuple(text(40), fc.uint8Array({ maxLength: 200 })), { maxLength: 12 }).map((entries) => new Map(entries)),
  messages: fc.uniqueArray(fc.record({ id: fc.maxSafeNat(), key: text(20), from: text(20), data: fc.uint8Array({ maxLength: 100 }) }), { maxLength: 5, selector: (m) => m.id })
})

/** An image as plain data, its bytes as Buffers, so deepStrictEqual compares contents. */
export function plain (image: ProcessImage | undefined): unknown {
  if (image == null) return image
  return {
    ...image,
    epoch: { term: image.epoch.term, counter: image.epoch.counter },
    state: [...image.state].map(([k, v]) => [k, buf(v)]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    messages: image.messages.map((m) => ({ id: m.id, key: m.key, from: m.from, data: buf(m.data) }))
  }
}

/** A fresh folder under the system temp dir, removed after `fn`. */
export async function withDir<T> (fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'praas-storage-'))
  try {
    return await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
