import * as varint from 'uint8-varint'
import { ReplicaRecord } from '../../protocol/pb/storage.js'

/** Values of at least this size are pieces of their own, not copied into the packed parts. */
const PIECE_MIN_BYTES = 16 * 1024

/** Protobuf tags (field number << 3 | wire type 2) of ReplicaRecord.ops and StateOp's fields. */
const OPS_TAG = (8 << 3) | 2
const KEY_TAG = (1 << 3) | 2
const VALUE_TAG = (2 << 3) | 2

const encoder = new TextEncoder()

/** Tag, varint length, and the field's own bytes: the head of one StateOp field of a record. */
function opHead (key: Uint8Array, value: Uint8Array | undefined): Uint8Array {
  const keyField = 1 + varint.encodingLength(key.byteLength) + key.byteLength
  const valueHead = value == null ? 0 : 1 + varint.encodingLength(value.byteLength)
  const body = keyField + valueHead + (value?.byteLength ?? 0)
  const head = new Uint8Array(1 + varint.encodingLength(body) + keyField + valueHead)
  let at = 0
  head[at++] = OPS_TAG
  varint.encodeUint8Array(body, head, at)
  at += varint.encodingLength(body)
  head[at++] = KEY_TAG
  varint.encodeUint8Array(key.byteLength, head, at)
  at += varint.encodingLength(key.byteLength)
  head.set(key, at)
  at += key.byteLength
  if (value != null) {
    head[at++] = VALUE_TAG
    varint.encodeUint8Array(value.byteLength, head, at)
  }
  return head
}

/**
 * A replica log record as the buffers that make its protobuf bytes in order, without copying
 * its big values: the record's other fields first (encoded by protons), then each op as a field
 * of its own (a repeated field may follow the others; a decoder keeps the order of its items).
 * `ReplicaRecord.encode` copies a 64 MiB install into one new buffer, which cost as much CPU as
 * writing it to the log, on the node that had just received that copy.
 */
export function recordPieces (record: ReplicaRecord): Uint8Array[] {
  const pieces: Uint8Array[] = [ReplicaRecord.encode({ ...record, ops: [] })]
  let small: Uint8Array[] = []
  const flush = (): void => {
    if (small.length > 0) pieces.push(small.length === 1 ? small[0] : Buffer.concat(small))
    small = []
  }
  for (const op of record.ops) {
    small.push(opHead(encoder.encode(op.key), op.value))
    if (op.value == null || op.value.byteLength === 0) continue
    if (op.value.byteLength < PIECE_MIN_BYTES) {
      small.push(op.value)
    } else {
      flush()
      pieces.push(op.value)
    }
  }
  flush()
  return pieces
}
