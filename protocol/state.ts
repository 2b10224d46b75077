import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface WriteOp {
  key: string
  value?: Uint8Array<ArrayBuffer>
}

export namespace WriteOp {
  let _codec: Codec<WriteOp>

  export const codec = (): Codec<WriteOp> => {
    if (_codec == null) {
      _codec = message<WriteOp>((obj, w, opts = {}) => {
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

  export interface WriteOpKeyFieldEvent {
    field: '$.key'
    value: string
  }

  export interface WriteOpValueFieldEvent {
    field: '$.value'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<WriteOp>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, WriteOp.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WriteOp>): WriteOp {
    return decodeMessage(buf, WriteOp.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WriteOp>): Generator<WriteOpKeyFieldEvent | WriteOpValueFieldEvent> {
    return streamMessage(buf, WriteOp.codec(), opts)
  }
}

export interface WriteBatch {
  pid: string
  app: string
  appHash: string
  term: number
  counter: number
  seq: number
  ops: WriteOp[]
  active: boolean
  inMemory: boolean
}

export namespace WriteBatch {
  let _codec: Codec<WriteBatch>

  export const codec = (): Codec<WriteBatch> => {
    if (_codec == null) {
      _codec = message<WriteBatch>((obj, w, opts = {}) => {
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
          w.uint32(obj.term)
        }

        if ((obj.counter != null && obj.counter !== 0)) {
          w.uint32(40)
          w.uint32(obj.counter)
        }

        if ((obj.seq != null && obj.seq !== 0)) {
          w.uint32(49)
          w.double(obj.seq)
        }

        if (obj.ops != null && obj.ops.length > 0) {
          for (const value of obj.ops) {
            w.uint32(58)
            WriteOp.codec().encode(value, w)
          }
        }

        if ((obj.active != null && obj.active !== false)) {
          w.uint32(64)
          w.bool(obj.active)
        }

        if ((obj.inMemory != null && obj.inMemory !== false)) {
          w.uint32(72)
          w.bool(obj.inMemory)
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
          ops: [],
          active: false,
          inMemory: false
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
              obj.term = reader.uint32()
              break
            }
            case 5: {
              obj.counter = reader.uint32()
              break
            }
            case 6: {
              obj.seq = reader.double()
              break
            }
            case 7: {
              if (opts.limits?.ops != null && obj.ops.length === opts.limits.ops) {
                throw new MaxLengthError('Decode error - repeated field "ops" had too many elements')
              }

              obj.ops.push(WriteOp.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.ops$
              }))
              break
            }
            case 8: {
              obj.active = reader.bool()
              break
            }
            case 9: {
              obj.inMemory = reader.bool()
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
          ops: 0
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
                value: reader.uint32()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.counter`,
                value: reader.uint32()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.seq`,
                value: reader.double()
              }
              break
            }
            case 7: {
              if (opts.limits?.ops != null && obj.ops === opts.limits.ops) {
                throw new MaxLengthError('Streaming decode error - repeated field "ops" had too many elements')
              }

              for (const evt of WriteOp.codec().stream(reader, reader.uint32(), `${prefix}.ops[]`, {
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
            case 8: {
              yield {
                field: `${prefix}.active`,
                value: reader.bool()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.inMemory`,
                value: reader.bool()
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

  export interface WriteBatchPidFieldEvent {
    field: '$.pid'
    value: string
  }

  export interface WriteBatchAppFieldEvent {
    field: '$.app'
    value: string
  }

  export interface WriteBatchAppHashFieldEvent {
    field: '$.appHash'
    value: string
  }

  export interface WriteBatchTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface WriteBatchCounterFieldEvent {
    field: '$.counter'
    value: number
  }

  export interface WriteBatchSeqFieldEvent {
    field: '$.seq'
    value: number
  }

  export interface WriteBatchOpsKeyFieldEvent {
    field: '$.ops[].key'
    value: string
    index: number
  }

  export interface WriteBatchOpsValueFieldEvent {
    field: '$.ops[].value'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface WriteBatchActiveFieldEvent {
    field: '$.active'
    value: boolean
  }

  export interface WriteBatchInMemoryFieldEvent {
    field: '$.inMemory'
    value: boolean
  }

  export function encode (obj: Partial<WriteBatch>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, WriteBatch.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WriteBatch>): WriteBatch {
    return decodeMessage(buf, WriteBatch.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WriteBatch>): Generator<WriteBatchPidFieldEvent | WriteBatchAppFieldEvent | WriteBatchAppHashFieldEvent | WriteBatchTermFieldEvent | WriteBatchCounterFieldEvent | WriteBatchSeqFieldEvent | WriteBatchOpsKeyFieldEvent | WriteBatchOpsValueFieldEvent | WriteBatchActiveFieldEvent | WriteBatchInMemoryFieldEvent> {
    return streamMessage(buf, WriteBatch.codec(), opts)
  }
}

export interface ReplicateRequest {
  batches: WriteBatch[]
}

export namespace ReplicateRequest {
  let _codec: Codec<ReplicateRequest>

  export const codec = (): Codec<ReplicateRequest> => {
    if (_codec == null) {
      _codec = message<ReplicateRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.batches != null && obj.batches.length > 0) {
          for (const value of obj.batches) {
            w.uint32(10)
            WriteBatch.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          batches: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.batches != null && obj.batches.length === opts.limits.batches) {
                throw new MaxLengthError('Decode error - repeated field "batches" had too many elements')
              }

              obj.batches.push(WriteBatch.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.batches$
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
          batches: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.batches != null && obj.batches === opts.limits.batches) {
                throw new MaxLengthError('Streaming decode error - repeated field "batches" had too many elements')
              }

              for (const evt of WriteBatch.codec().stream(reader, reader.uint32(), `${prefix}.batches[]`, {
                limits: opts.limits?.batches$
              })) {
                yield {
                  ...evt,
                  index: obj.batches
                }
              }

              obj.batches++

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

  export interface ReplicateRequestBatchesPidFieldEvent {
    field: '$.batches[].pid'
    value: string
    index: number
  }

  export interface ReplicateRequestBatchesAppFieldEvent {
    field: '$.batches[].app'
    value: string
    index: number
  }

  export interface ReplicateRequestBatchesAppHashFieldEvent {
    field: '$.batches[].appHash'
    value: string
    index: number
  }

  export interface ReplicateRequestBatchesTermFieldEvent {
    field: '$.batches[].term'
    value: number
    index: number
  }

  export interface ReplicateRequestBatchesCounterFieldEvent {
    field: '$.batches[].counter'
    value: number
    index: number
  }

  export interface ReplicateRequestBatchesSeqFieldEvent {
    field: '$.batches[].seq'
    value: number
    index: number
  }

  export interface ReplicateRequestBatchesOpsKeyFieldEvent {
    field: '$.batches[].ops[].key'
    value: string
    index: number
  }

  export interface ReplicateRequestBatchesOpsValueFieldEvent {
    field: '$.batches[].ops[].value'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface ReplicateRequestBatchesActiveFieldEvent {
    field: '$.batches[].active'
    value: boolean
    index: number
  }

  export interface ReplicateRequestBatchesInMemoryFieldEvent {
    field: '$.batches[].inMemory'
    value: boolean
    index: number
  }

  export function encode (obj: Partial<ReplicateRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ReplicateRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ReplicateRequest>): ReplicateRequest {
    return decodeMessage(buf, ReplicateRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ReplicateRequest>): Generator<ReplicateRequestBatchesPidFieldEvent | ReplicateRequestBatchesAppFieldEvent | ReplicateRequestBatchesAppHashFieldEvent | ReplicateRequestBatchesTermFieldEvent | ReplicateRequestBatchesCounterFieldEvent | ReplicateRequestBatchesSeqFieldEvent | ReplicateRequestBatchesOpsKeyFieldEvent | ReplicateRequestBatchesOpsValueFieldEvent | ReplicateRequestBatchesActiveFieldEvent | ReplicateRequestBatchesInMemoryFieldEvent> {
    return streamMessage(buf, ReplicateRequest.codec(), opts)
  }
}

export interface ReplicateResponse {
  results: number[]
}

export namespace ReplicateResponse {
  let _codec: Codec<ReplicateResponse>

  export const codec = (): Codec<ReplicateResponse> => {
    if (_codec == null) {
      _codec = message<ReplicateResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.results != null && obj.results.length > 0) {
          for (const value of obj.results) {
            w.uint32(8)
            w.uint32(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          results: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.results != null && obj.results.length === opts.limits.results) {
                throw new MaxLengthError('Decode error - repeated field "results" had too many elements')
              }

              obj.results.push(reader.uint32())
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
          results: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.results != null && obj.results === opts.limits.results) {
                throw new MaxLengthError('Streaming decode error - repeated field "results" had too many elements')
              }

              yield {
                field: `${prefix}.results[]`,
                index: obj.results,
                value: reader.uint32()
              }

              obj.results++

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

  export interface ReplicateResponseResultsFieldEvent {
    field: '$.results[]'
    index: number
    value: number
  }

  export function encode (obj: Partial<ReplicateResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ReplicateResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ReplicateResponse>): ReplicateResponse {
    return decodeMessage(buf, ReplicateResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ReplicateResponse>): Generator<ReplicateResponseResultsFieldEvent> {
    return streamMessage(buf, ReplicateResponse.codec(), opts)
  }
}

export interface StateRequest {
  manifest: Uint8Array<ArrayBuffer>
  source: string
  term: number
  counter: number
  holders: string[]
  fromTerm: number
  fromCounter: number
  seq: number
  chunks: Uint8Array<ArrayBuffer>[]
  fromReplica: boolean
}

export namespace StateRequest {
  let _codec: Codec<StateRequest>

  export const codec = (): Codec<StateRequest> => {
    if (_codec == null) {
      _codec = message<StateRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.manifest != null && obj.manifest.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.manifest)
        }

        if ((obj.source != null && obj.source !== '')) {
          w.uint32(18)
          w.string(obj.source)
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(24)
          w.uint32(obj.term)
        }

        if ((obj.counter != null && obj.counter !== 0)) {
          w.uint32(32)
          w.uint32(obj.counter)
        }

        if (obj.holders != null && obj.holders.length > 0) {
          for (const value of obj.holders) {
            w.uint32(42)
            w.string(value)
          }
        }

        if ((obj.fromTerm != null && obj.fromTerm !== 0)) {
          w.uint32(48)
          w.uint32(obj.fromTerm)
        }

        if ((obj.fromCounter != null && obj.fromCounter !== 0)) {
          w.uint32(56)
          w.uint32(obj.fromCounter)
        }

        if ((obj.seq != null && obj.seq !== 0)) {
          w.uint32(65)
          w.double(obj.seq)
        }

        if (obj.chunks != null && obj.chunks.length > 0) {
          for (const value of obj.chunks) {
            w.uint32(74)
            w.bytes(value)
          }
        }

        if ((obj.fromReplica != null && obj.fromReplica !== false)) {
          w.uint32(80)
          w.bool(obj.fromReplica)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          manifest: uint8ArrayAlloc(0),
          source: '',
          term: 0,
          counter: 0,
          holders: [],
          fromTerm: 0,
          fromCounter: 0,
          seq: 0,
          chunks: [],
          fromReplica: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.manifest = reader.bytes()
              break
            }
            case 2: {
              obj.source = reader.string()
              break
            }
            case 3: {
              obj.term = reader.uint32()
              break
            }
            case 4: {
              obj.counter = reader.uint32()
              break
            }
            case 5: {
              if (opts.limits?.holders != null && obj.holders.length === opts.limits.holders) {
                throw new MaxLengthError('Decode error - repeated field "holders" had too many elements')
              }

              obj.holders.push(reader.string())
              break
            }
            case 6: {
              obj.fromTerm = reader.uint32()
              break
            }
            case 7: {
              obj.fromCounter = reader.uint32()
              break
            }
            case 8: {
              obj.seq = reader.double()
              break
            }
            case 9: {
              if (opts.limits?.chunks != null && obj.chunks.length === opts.limits.chunks) {
                throw new MaxLengthError('Decode error - repeated field "chunks" had too many elements')
              }

              obj.chunks.push(reader.bytes())
              break
            }
            case 10: {
              obj.fromReplica = reader.bool()
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
          holders: 0,
          chunks: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.manifest`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.source`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.term`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.counter`,
                value: reader.uint32()
              }
              break
            }
            case 5: {
              if (opts.limits?.holders != null && obj.holders === opts.limits.holders) {
                throw new MaxLengthError('Streaming decode error - repeated field "holders" had too many elements')
              }

              yield {
                field: `${prefix}.holders[]`,
                index: obj.holders,
                value: reader.string()
              }

              obj.holders++

              break
            }
            case 6: {
              yield {
                field: `${prefix}.fromTerm`,
                value: reader.uint32()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.fromCounter`,
                value: reader.uint32()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.seq`,
                value: reader.double()
              }
              break
            }
            case 9: {
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
            case 10: {
              yield {
                field: `${prefix}.fromReplica`,
                value: reader.bool()
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

  export interface StateRequestManifestFieldEvent {
    field: '$.manifest'
    value: Uint8Array<ArrayBuffer>
  }

  export interface StateRequestSourceFieldEvent {
    field: '$.source'
    value: string
  }

  export interface StateRequestTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface StateRequestCounterFieldEvent {
    field: '$.counter'
    value: number
  }

  export interface StateRequestHoldersFieldEvent {
    field: '$.holders[]'
    index: number
    value: string
  }

  export interface StateRequestFromTermFieldEvent {
    field: '$.fromTerm'
    value: number
  }

  export interface StateRequestFromCounterFieldEvent {
    field: '$.fromCounter'
    value: number
  }

  export interface StateRequestSeqFieldEvent {
    field: '$.seq'
    value: number
  }

  export interface StateRequestChunksFieldEvent {
    field: '$.chunks[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface StateRequestFromReplicaFieldEvent {
    field: '$.fromReplica'
    value: boolean
  }

  export function encode (obj: Partial<StateRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, StateRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<StateRequest>): StateRequest {
    return decodeMessage(buf, StateRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<StateRequest>): Generator<StateRequestManifestFieldEvent | StateRequestSourceFieldEvent | StateRequestTermFieldEvent | StateRequestCounterFieldEvent | StateRequestHoldersFieldEvent | StateRequestFromTermFieldEvent | StateRequestFromCounterFieldEvent | StateRequestSeqFieldEvent | StateRequestChunksFieldEvent | StateRequestFromReplicaFieldEvent> {
    return streamMessage(buf, StateRequest.codec(), opts)
  }
}
