import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface ImageManifest {
  pid: string
  app: string
  appHash: string
  term: number
  counter: number
  seq: number
  size: number
  chunks: Uint8Array<ArrayBuffer>[]
}

export namespace ImageManifest {
  let _codec: Codec<ImageManifest>

  export const codec = (): Codec<ImageManifest> => {
    if (_codec == null) {
      _codec = message<ImageManifest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.pid != null && obj.pid !== '')) {
          w.uint32(10)
          w.string(obj.pid)
        }

        if ((obj.app != null && obj.app !== '')) {
          w.uint32(18)
          w.string(obj.app)
        }

        if ((obj.appHash != null && obj.appHash !== '')) {
          w.uint32(26)
          w.string(obj.appHash)
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

        if ((obj.size != null && obj.size !== 0)) {
          w.uint32(56)
          w.uint64Number(obj.size)
        }

        if (obj.chunks != null && obj.chunks.length > 0) {
          for (const value of obj.chunks) {
            w.uint32(66)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          pid: '',
          app: '',
          appHash: '',
          term: 0,
          counter: 0,
          seq: 0,
          size: 0,
          chunks: []
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
              obj.app = reader.string()
              break
            }
            case 3: {
              obj.appHash = reader.string()
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
              obj.size = reader.uint64Number()
              break
            }
            case 8: {
              if (opts.limits?.chunks != null && obj.chunks.length === opts.limits.chunks) {
                throw new MaxLengthError('Decode error - repeated field "chunks" had too many elements')
              }

              obj.chunks.push(reader.bytes())
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
          chunks: 0
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
                field: `${prefix}.app`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.appHash`,
                value: reader.string()
              }
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
                field: `${prefix}.size`,
                value: reader.uint64Number()
              }
              break
            }
            case 8: {
              if (opts.limits?.chunks != null && obj.chunks === opts.limits.chunks) {
                throw new MaxLengthError('Streaming decode error - repeated field "chunks" had too many elements')
              }

              yield {
                field: `${prefix}.chunks[]`,
                index: obj.chunks,
                value: reader.bytes()
              }

              obj.chunks++

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

  export interface ImageManifestPidFieldEvent {
    field: '$.pid'
    value: string
  }

  export interface ImageManifestAppFieldEvent {
    field: '$.app'
    value: string
  }

  export interface ImageManifestAppHashFieldEvent {
    field: '$.appHash'
    value: string
  }

  export interface ImageManifestTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface ImageManifestCounterFieldEvent {
    field: '$.counter'
    value: number
  }

  export interface ImageManifestSeqFieldEvent {
    field: '$.seq'
    value: number
  }

  export interface ImageManifestSizeFieldEvent {
    field: '$.size'
    value: number
  }

  export interface ImageManifestChunksFieldEvent {
    field: '$.chunks[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<ImageManifest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ImageManifest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ImageManifest>): ImageManifest {
    return decodeMessage(buf, ImageManifest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ImageManifest>): Generator<ImageManifestPidFieldEvent | ImageManifestAppFieldEvent | ImageManifestAppHashFieldEvent | ImageManifestTermFieldEvent | ImageManifestCounterFieldEvent | ImageManifestSeqFieldEvent | ImageManifestSizeFieldEvent | ImageManifestChunksFieldEvent> {
    return streamMessage(buf, ImageManifest.codec(), opts)
  }
}

export interface StateOp {
  key: string
  value?: Uint8Array<ArrayBuffer>
}

export namespace StateOp {
  let _codec: Codec<StateOp>

  export const codec = (): Codec<StateOp> => {
    if (_codec == null) {
      _codec = message<StateOp>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.key != null && obj.key !== '')) {
          w.uint32(10)
          w.string(obj.key)
        }

        if (obj.value != null) {
          w.uint32(18)
          w.bytes(obj.value)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          key: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.key = reader.string()
              break
            }
            case 2: {
              obj.value = reader.bytes()
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
                field: `${prefix}.key`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.value`,
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

  export interface StateOpKeyFieldEvent {
    field: '$.key'
    value: string
  }

  export interface StateOpValueFieldEvent {
    field: '$.value'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<StateOp>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, StateOp.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<StateOp>): StateOp {
    return decodeMessage(buf, StateOp.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<StateOp>): Generator<StateOpKeyFieldEvent | StateOpValueFieldEvent> {
    return streamMessage(buf, StateOp.codec(), opts)
  }
}

export interface MailboxMessage {
  key: string
  from: string
  data: Uint8Array<ArrayBuffer>
}

export namespace MailboxMessage {
  let _codec: Codec<MailboxMessage>

  export const codec = (): Codec<MailboxMessage> => {
    if (_codec == null) {
      _codec = message<MailboxMessage>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.key != null && obj.key !== '')) {
          w.uint32(10)
          w.string(obj.key)
        }

        if ((obj.from != null && obj.from !== '')) {
          w.uint32(18)
          w.string(obj.from)
        }

        if ((obj.data != null && obj.data.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.data)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          key: '',
          from: '',
          data: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.key = reader.string()
              break
            }
            case 2: {
              obj.from = reader.string()
              break
            }
            case 3: {
              obj.data = reader.bytes()
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
                field: `${prefix}.key`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.from`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.data`,
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

  export interface MailboxMessageKeyFieldEvent {
    field: '$.key'
    value: string
  }

  export interface MailboxMessageFromFieldEvent {
    field: '$.from'
    value: string
  }

  export interface MailboxMessageDataFieldEvent {
    field: '$.data'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<MailboxMessage>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, MailboxMessage.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MailboxMessage>): MailboxMessage {
    return decodeMessage(buf, MailboxMessage.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MailboxMessage>): Generator<MailboxMessageKeyFieldEvent | MailboxMessageFromFieldEvent | MailboxMessageDataFieldEvent> {
    return streamMessage(buf, MailboxMessage.codec(), opts)
  }
}

export interface ReplicaRecord {
  kind: ReplicaRecord.Kind
  pid: string
  app: string
  appHash: string
  term: number
  counter: number
  seq: number
  ops: StateOp[]
  messages: MailboxMessage[]
}

export namespace ReplicaRecord {
  export enum Kind {
    APPLY = 'APPLY',
    INSTALL = 'INSTALL',
    FENCE = 'FENCE',
    DROP = 'DROP',
    REBASE = 'REBASE'
  }

  enum __KindValues {
    APPLY = 0,
    INSTALL = 1,
    FENCE = 2,
    DROP = 3,
    REBASE = 4
  }

  export namespace Kind {
    export const codec = (): Codec<Kind> => {
      return enumeration<Kind>(__KindValues)
    }
  }

  let _codec: Codec<ReplicaRecord>

  export const codec = (): Codec<ReplicaRecord> => {
    if (_codec == null) {
      _codec = message<ReplicaRecord>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.kind != null && __KindValues[obj.kind] !== 0) {
          w.uint32(8)
          ReplicaRecord.Kind.codec().encode(obj.kind, w)
        }

        if ((obj.pid != null && obj.pid !== '')) {
          w.uint32(18)
          w.string(obj.pid)
        }

        if ((obj.app != null && obj.app !== '')) {
          w.uint32(26)
          w.string(obj.app)
        }

        if ((obj.appHash != null && obj.appHash !== '')) {
          w.uint32(34)
          w.string(obj.appHash)
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(40)
          w.uint64Number(obj.term)
        }

        if ((obj.counter != null && obj.counter !== 0)) {
          w.uint32(48)
          w.uint64Number(obj.counter)
        }

        if ((obj.seq != null && obj.seq !== 0)) {
          w.uint32(56)
          w.uint64Number(obj.seq)
        }

        if (obj.ops != null && obj.ops.length > 0) {
          for (const value of obj.ops) {
            w.uint32(66)
            StateOp.codec().encode(value, w)
          }
        }

        if (obj.messages != null && obj.messages.length > 0) {
          for (const value of obj.messages) {
            w.uint32(74)
            MailboxMessage.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          kind: Kind.APPLY,
          pid: '',
          app: '',
          appHash: '',
          term: 0,
          counter: 0,
          seq: 0,
          ops: [],
          messages: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.kind = ReplicaRecord.Kind.codec().decode(reader)
              break
            }
            case 2: {
              obj.pid = reader.string()
              break
            }
            case 3: {
              obj.app = reader.string()
              break
            }
            case 4: {
              obj.appHash = reader.string()
              break
            }
            case 5: {
              obj.term = reader.uint64Number()
              break
            }
            case 6: {
              obj.counter = reader.uint64Number()
              break
            }
            case 7: {
              obj.seq = reader.uint64Number()
              break
            }
            case 8: {
              if (opts.limits?.ops != null && obj.ops.length === opts.limits.ops) {
                throw new MaxLengthError('Decode error - repeated field "ops" had too many elements')
              }

              obj.ops.push(StateOp.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.ops$
              }))
              break
            }
            case 9: {
              if (opts.limits?.messages != null && obj.messages.length === opts.limits.messages) {
                throw new MaxLengthError('Decode error - repeated field "messages" had too many elements')
              }

              obj.messages.push(MailboxMessage.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.messages$
              }))
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
          ops: 0,
          messages: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.kind`,
                value: ReplicaRecord.Kind.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.pid`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.app`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.appHash`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.term`,
                value: reader.uint64Number()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.counter`,
                value: reader.uint64Number()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.seq`,
                value: reader.uint64Number()
              }
              break
            }
            case 8: {
              if (opts.limits?.ops != null && obj.ops === opts.limits.ops) {
                throw new MaxLengthError('Streaming decode error - repeated field "ops" had too many elements')
              }

              for (const evt of StateOp.codec().stream(reader, reader.uint32(), `${prefix}.ops[]`, {
                limits: opts.limits?.ops$
              })) {
                yield {
                  ...evt,
                  index: obj.ops
                }
              }

              obj.ops++

              break
            }
            case 9: {
              if (opts.limits?.messages != null && obj.messages === opts.limits.messages) {
                throw new MaxLengthError('Streaming decode error - repeated field "messages" had too many elements')
              }

              for (const evt of MailboxMessage.codec().stream(reader, reader.uint32(), `${prefix}.messages[]`, {
                limits: opts.limits?.messages$
              })) {
                yield {
                  ...evt,
                  index: obj.messages
                }
              }

              obj.messages++

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

  export interface ReplicaRecordKindFieldEvent {
    field: '$.kind'
    value: ReplicaRecord.Kind
  }

  export interface ReplicaRecordPidFieldEvent {
    field: '$.pid'
    value: string
  }

  export interface ReplicaRecordAppFieldEvent {
    field: '$.app'
    value: string
  }

  export interface ReplicaRecordAppHashFieldEvent {
    field: '$.appHash'
    value: string
  }

  export interface ReplicaRecordTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface ReplicaRecordCounterFieldEvent {
    field: '$.counter'
    value: number
  }

  export interface ReplicaRecordSeqFieldEvent {
    field: '$.seq'
    value: number
  }

  export interface ReplicaRecordOpsKeyFieldEvent {
    field: '$.ops[].key'
    value: string
    index: number
  }

  export interface ReplicaRecordOpsValueFieldEvent {
    field: '$.ops[].value'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface ReplicaRecordMessagesKeyFieldEvent {
    field: '$.messages[].key'
    value: string
    index: number
  }

  export interface ReplicaRecordMessagesFromFieldEvent {
    field: '$.messages[].from'
    value: string
    index: number
  }

  export interface ReplicaRecordMessagesDataFieldEvent {
    field: '$.messages[].data'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export function encode (obj: Partial<ReplicaRecord>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ReplicaRecord.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ReplicaRecord>): ReplicaRecord {
    return decodeMessage(buf, ReplicaRecord.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ReplicaRecord>): Generator<ReplicaRecordKindFieldEvent | ReplicaRecordPidFieldEvent | ReplicaRecordAppFieldEvent | ReplicaRecordAppHashFieldEvent | ReplicaRecordTermFieldEvent | ReplicaRecordCounterFieldEvent | ReplicaRecordSeqFieldEvent | ReplicaRecordOpsKeyFieldEvent | ReplicaRecordOpsValueFieldEvent | ReplicaRecordMessagesKeyFieldEvent | ReplicaRecordMessagesFromFieldEvent | ReplicaRecordMessagesDataFieldEvent> {
    return streamMessage(buf, ReplicaRecord.codec(), opts)
  }
}
