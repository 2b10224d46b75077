import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface LocationRecord {
  pid: string
  node: Uint8Array<ArrayBuffer>
  addrs: Uint8Array<ArrayBuffer>[]
  term: number
  counter: number
  seq: number
  status: LocationRecord.Status
  app: string
}

export namespace LocationRecord {
  export enum Status {
    ACTIVE = 'ACTIVE',
    SWAPPED = 'SWAPPED',
    DELETED = 'DELETED'
  }

  enum __StatusValues {
    ACTIVE = 0,
    SWAPPED = 1,
    DELETED = 2
  }

  export namespace Status {
    export const codec = (): Codec<Status> => {
      return enumeration<Status>(__StatusValues)
    }
  }

  let _codec: Codec<LocationRecord>

  export const codec = (): Codec<LocationRecord> => {
    if (_codec == null) {
      _codec = message<LocationRecord>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.pid != null && obj.pid !== '')) {
          w.uint32(10)
          w.string(obj.pid)
        }

        if ((obj.node != null && obj.node.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.node)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(26)
            w.bytes(value)
          }
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(32)
          w.uint64Number(obj.term)
        }

        if ((obj.counter != null && obj.counter !== 0)) {
          w.uint32(40)
          w.uint64Number(obj.counter)
        }

        if ((obj.seq != null && obj.seq !== 0)) {
          w.uint32(48)
          w.uint64Number(obj.seq)
        }

        if (obj.status != null && __StatusValues[obj.status] !== 0) {
          w.uint32(56)
          LocationRecord.Status.codec().encode(obj.status, w)
        }

        if ((obj.app != null && obj.app !== '')) {
          w.uint32(66)
          w.string(obj.app)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          pid: '',
          node: uint8ArrayAlloc(0),
          addrs: [],
          term: 0,
          counter: 0,
          seq: 0,
          status: Status.ACTIVE,
          app: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.pid = reader.string()
              break
            }
            case 2: {
              obj.node = reader.bytes()
              break
            }
            case 3: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.bytes())
              break
            }
            case 4: {
              obj.term = reader.uint64Number()
              break
            }
            case 5: {
              obj.counter = reader.uint64Number()
              break
            }
            case 6: {
              obj.seq = reader.uint64Number()
              break
            }
            case 7: {
              obj.status = LocationRecord.Status.codec().decode(reader)
              break
            }
            case 8: {
              obj.app = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          addrs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.pid`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.node`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              if (opts.limits?.addrs != null && obj.addrs === opts.limits.addrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "addrs" had too many elements')
              }

              yield {
                field: `${prefix}.addrs[]`,
                index: obj.addrs,
                value: reader.bytes()
              }

              obj.addrs++

              break
            }
            case 4: {
              yield {
                field: `${prefix}.term`,
                value: reader.uint64Number()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.counter`,
                value: reader.uint64Number()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.seq`,
                value: reader.uint64Number()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.status`,
                value: LocationRecord.Status.codec().decode(reader)
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.app`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface LocationRecordPidFieldEvent {
    field: '$.pid'
    value: string
  }

  export interface LocationRecordNodeFieldEvent {
    field: '$.node'
    value: Uint8Array<ArrayBuffer>
  }

  export interface LocationRecordAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface LocationRecordTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface LocationRecordCounterFieldEvent {
    field: '$.counter'
    value: number
  }

  export interface LocationRecordSeqFieldEvent {
    field: '$.seq'
    value: number
  }

  export interface LocationRecordStatusFieldEvent {
    field: '$.status'
    value: LocationRecord.Status
  }

  export interface LocationRecordAppFieldEvent {
    field: '$.app'
    value: string
  }

  export function encode (obj: Partial<LocationRecord>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, LocationRecord.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LocationRecord>): LocationRecord {
    return decodeMessage(buf, LocationRecord.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LocationRecord>): Generator<LocationRecordPidFieldEvent | LocationRecordNodeFieldEvent | LocationRecordAddrsFieldEvent | LocationRecordTermFieldEvent | LocationRecordCounterFieldEvent | LocationRecordSeqFieldEvent | LocationRecordStatusFieldEvent | LocationRecordAppFieldEvent> {
    return streamMessage(buf, LocationRecord.codec(), opts)
  }
}

export interface SignedLocation {
  record: Uint8Array<ArrayBuffer>
  signature: Uint8Array<ArrayBuffer>
}

export namespace SignedLocation {
  let _codec: Codec<SignedLocation>

  export const codec = (): Codec<SignedLocation> => {
    if (_codec == null) {
      _codec = message<SignedLocation>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.record != null && obj.record.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.record)
        }

        if ((obj.signature != null && obj.signature.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.signature)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          record: uint8ArrayAlloc(0),
          signature: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.record = reader.bytes()
              break
            }
            case 2: {
              obj.signature = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.record`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.signature`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SignedLocationRecordFieldEvent {
    field: '$.record'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedLocationSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SignedLocation>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SignedLocation.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedLocation>): SignedLocation {
    return decodeMessage(buf, SignedLocation.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedLocation>): Generator<SignedLocationRecordFieldEvent | SignedLocationSignatureFieldEvent> {
    return streamMessage(buf, SignedLocation.codec(), opts)
  }
}
