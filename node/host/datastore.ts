import { rm } from 'node:fs/promises'
import { MemoryDatastore, MountDatastore } from 'datastore-core'
import { FsDatastore } from 'datastore-fs'
import { Key } from 'interface-datastore'
import { DHT_DATASTORE_PREFIX } from '../../protocol/dht.js'
import type { Datastore } from 'interface-datastore'

type Put = MemoryDatastore['put']

/**
 * libp2p's in-memory datastore (the peer store), keeping each value in a buffer of its own. The
 * values handed to it are often small views into a larger buffer (an 8 KiB pool slab of an
 * encoder, a network read): kept as they are, one stored 300-byte DHT record kept a whole 8 KiB
 * slab alive, which was most of the memory a small idle process cost its node (a heap snapshot
 * of 3,000 processes: 996 slabs of 8 KiB held by stored records and cached locations).
 */
export class CompactDatastore extends MemoryDatastore {
  override put (...[key, val, options]: Parameters<Put>): ReturnType<Put> {
    return super.put(key, val.byteLength === val.buffer.byteLength ? val : val.slice(), options)
  }
}

/** Where kad-dht keeps the records it stores (`<prefix>/record/<base32 key>`, protocol/dht.ts). */
export const DHT_RECORDS = new Key(`${DHT_DATASTORE_PREFIX}/record`)

/**
 * The node's datastore: the DHT's records in files under `recordsDir` (one per record), the rest
 * (the peer store) in memory. Every pid has a record, stored on the nodes closest to its key:
 * in memory they made each of 100,000 swapped processes cost RSS on every node that held its
 * record; on disk they cost files and page cache. The records are the DHT's soft state for this
 * run (their owners put them again), so the folder starts empty: a record from an earlier run is
 * never served as current.
 */
export async function nodeDatastore (recordsDir?: string): Promise<Datastore> {
  const memory = new CompactDatastore()
  if (recordsDir == null) return memory
  await rm(recordsDir, { recursive: true, force: true })
  const records = new FsDatastore(recordsDir)
  await records.open()
  return new MountDatastore([{ prefix: DHT_RECORDS, datastore: records }, { prefix: new Key('/'), datastore: memory }])
}
