import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { LocationCache } from '../../node/directory/cache.js'
import type { Location } from '../../protocol/location.js'

function location (pid: string): Location {
  return { pid, node: 'n', addrs: [multiaddr('/ip4/127.0.0.1/tcp/4001')], epoch: { term: 1, counter: 1 }, seq: 1, status: 'swapped', app: 'a' } as unknown as Location
}

describe('directory/cache', () => {
  it('drops expired locations on sweep, not only when looked up, and keeps fresh ones', async () => {
    const cache = new LocationCache(100, 20)
    for (let i = 0; i < 10; i++) cache.set(location(`old-${i}`))
    await new Promise(resolve => setTimeout(resolve, 40))
    cache.set(location('fresh'))
    assert.equal(cache.sweep(3), 3, 'at most the batch asked for')
    assert.equal(cache.sweep(), 5, 'the rest of the expired ones')
    assert.equal(cache.size, 1)
    assert.equal(cache.get('fresh')?.pid, 'fresh')
  })

  it('stays within its bound, least recently used out first', () => {
    const cache = new LocationCache(3, 60_000)
    for (const pid of ['a', 'b', 'c']) cache.set(location(pid))
    cache.get('a')
    cache.set(location('d'))
    assert.equal(cache.size, 3)
    assert.equal(cache.get('b'), undefined)
    assert.equal(cache.get('a')?.pid, 'a')
  })
})
