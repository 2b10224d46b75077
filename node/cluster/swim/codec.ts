import { PraasError } from '../../../protocol/errors.js'
import { SwimMessage, SwimStatus } from '../../../protocol/pb/swim.js'
import { MAX_ID_LENGTH, MAX_MESSAGE_BYTES, MAX_RECORD_BYTES, MAX_UPDATES } from './constants.js'
import type { SwimUpdate } from '../../../protocol/pb/swim.js'
import type { MemberStatus } from './types.js'

export { SwimMessage, SwimStatus }
export type { SwimUpdate }

export const Kind = SwimMessage.Kind

const STATUS_FROM_WIRE: Record<SwimStatus, MemberStatus> = {
  [SwimStatus.ALIVE]: 'alive',
  [SwimStatus.SUSPECT]: 'suspect',
  [SwimStatus.DEAD]: 'dead'
}

const STATUS_TO_WIRE: Record<MemberStatus, SwimStatus> = {
  alive: SwimStatus.ALIVE,
  suspect: SwimStatus.SUSPECT,
  dead: SwimStatus.DEAD
}

export function statusFromWire (status: SwimStatus): MemberStatus {
  return STATUS_FROM_WIRE[status]
}

export function statusToWire (status: MemberStatus): SwimStatus {
  return STATUS_TO_WIRE[status]
}

export interface DecodeLimits {
  /** Largest record accepted in an update. Default MAX_RECORD_BYTES. */
  maxRecordBytes?: number
}

/**
 * Decodes a SwimMessage and checks every field before anything trusts it: sizes, counts,
 * id lengths, integers that fit a double exactly, a target on every probe message, and no
 * record bytes without a version. Throws PraasError BAD_REQUEST (TOO_LARGE for the size).
 */
export function decodeSwimMessage (data: Uint8Array, limits: DecodeLimits = {}): SwimMessage {
  if (data.byteLength > MAX_MESSAGE_BYTES) throw new PraasError('TOO_LARGE', `swim message of ${data.byteLength} bytes exceeds ${MAX_MESSAGE_BYTES}`)
  let message: SwimMessage
  try {
    message = SwimMessage.decode(data, { limits: { updates: MAX_UPDATES } })
  } catch (err) {
    throw new PraasError('BAD_REQUEST', `undecodable swim message: ${(err as Error).message}`)
  }
  const maxRecord = limits.maxRecordBytes ?? MAX_RECORD_BYTES
  checkId(message.target, 'target', message.kind !== Kind.GOSSIP && message.kind !== Kind.PUSH)
  for (const update of message.updates) {
    checkId(update.member, 'member', true)
    checkId(update.from, 'from', false)
    checkInteger(update.incarnation, 'incarnation')
    checkInteger(update.recordVersion, 'recordVersion')
    if (update.record.byteLength > maxRecord) throw new PraasError('BAD_REQUEST', `record of ${update.record.byteLength} bytes exceeds ${maxRecord}`)
    if (update.recordVersion === 0 && update.record.byteLength > 0) throw new PraasError('BAD_REQUEST', 'record without a version')
  }
  return message
}

function checkId (id: string, field: string, required: boolean): void {
  if (id.length > MAX_ID_LENGTH) throw new PraasError('BAD_REQUEST', `${field} longer than ${MAX_ID_LENGTH} characters`)
  if (required && id.length === 0) throw new PraasError('BAD_REQUEST', `${field} missing`)
}

function checkInteger (value: number, field: string): void {
  // uint64 decoded as a JS number: past 2^53 it is no longer the integer that was sent
  if (!Number.isSafeInteger(value)) throw new PraasError('BAD_REQUEST', `${field} is not a safe integer`)
}
