import { MemoryDatastore } from 'datastore-core/memory'

type Put = MemoryDatastore['put']

/**
 * libp2p's in-memory datastore (the DHT's records, the peer store), keeping each value in a
 * buffer of its own. The values handed to it are often small views into a larger buffer (an
 * 8 KiB pool slab of an encoder, a network read): kept as they are, one stored 300-byte DHT
 * record kept a whole 8 KiB slab alive, which was most of the memory a small idle process cost
 * its node (a heap snapshot of 3,000 processes: 996 slabs of 8 KiB held by stored records and
 * cached locations).
 */
export class CompactDatastore extends MemoryDatastore {
  override put (...[key, val, options]: Parameters<Put>): ReturnType<Put> {
    return super.put(key, val.byteLength === val.buffer.byteLength ? val : val.slice(), options)
  }
}
