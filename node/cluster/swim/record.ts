import { PraasError } from '../../../protocol/errors.js'
import { SwimNodeRecord } from '../../../protocol/pb/swim.js'
import { MAX_ID_LENGTH } from './constants.js'

export { SwimNodeRecord }

/** Addresses one record may carry, and the length of each (as the heartbeat had them). */
export const MAX_RECORD_ADDRS = 16
export const MAX_ADDR_BYTES = 256

/** The typed record a praas node sets about itself (the SWIM core carries it as opaque bytes). */
export function encodeNodeRecord (record: Partial<SwimNodeRecord>): Uint8Array<ArrayBuffer> {
  return SwimNodeRecord.encode(record)
}

/** Decodes and checks a node record; throws PraasError BAD_REQUEST. */
export function decodeNodeRecord (data: Uint8Array): SwimNodeRecord {
  let record: SwimNodeRecord
  try {
    record = SwimNodeRecord.decode(data, { limits: { addrs: MAX_RECORD_ADDRS } })
  } catch (err) {
    throw new PraasError('BAD_REQUEST', `undecodable node record: ${(err as Error).message}`)
  }
  if (record.addrs.some(a => a.byteLength > MAX_ADDR_BYTES)) throw new PraasError('BAD_REQUEST', `address longer than ${MAX_ADDR_BYTES} bytes`)
  if (record.leader.length > MAX_ID_LENGTH) throw new PraasError('BAD_REQUEST', 'leader id too long')
  if (!Number.isSafeInteger(record.term) || !Number.isSafeInteger(record.rosterVersion)) throw new PraasError('BAD_REQUEST', 'term or roster version is not a safe integer')
  return record
}
