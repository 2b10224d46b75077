import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export enum ErrorCode {
  NONE = 'NONE',
  NOT_FOUND = 'NOT_FOUND',
  FUNCTION_ERROR = 'FUNCTION_ERROR',
  TIMEOUT = 'TIMEOUT',
  TOO_LARGE = 'TOO_LARGE',
  UNAUTHORIZED = 'UNAUTHORIZED',
  BAD_REQUEST = 'BAD_REQUEST',
  UNAVAILABLE = 'UNAVAILABLE',
  MOVED = 'MOVED'
}

enum __ErrorCodeValues {
  NONE = 0,
  NOT_FOUND = 1,
  FUNCTION_ERROR = 2,
  TIMEOUT = 3,
  TOO_LARGE = 4,
  UNAUTHORIZED = 5,
  BAD_REQUEST = 6,
  UNAVAILABLE = 7,
  MOVED = 8
}

export namespace ErrorCode {
  export const codec = (): Codec<ErrorCode> => {
    return enumeration<ErrorCode>(__ErrorCodeValues)
  }
}

export interface ErrorInfo {
  code: ErrorCode
  message: string
}

export namespace ErrorInfo {
  let _codec: Codec<ErrorInfo>

  export const codec = (): Codec<ErrorInfo> => {
    if (_codec == null) {
      _codec = message<ErrorInfo>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.code != null && __ErrorCodeValues[obj.code] !== 0) {
          w.uint32(8)
          ErrorCode.codec().encode(obj.code, w)
        }

        if ((obj.message != null && obj.message !== '')) {
          w.uint32(18)
          w.string(obj.message)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          code: ErrorCode.NONE,
          message: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.code = ErrorCode.codec().decode(reader)
              break
            }
            case 2: {
              obj.message = reader.string()
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
                field: `${prefix}.code`,
                value: ErrorCode.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.message`,
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

  export interface ErrorInfoCodeFieldEvent {
    field: '$.code'
    value: ErrorCode
  }

  export interface ErrorInfoMessageFieldEvent {
    field: '$.message'
    value: string
  }

  export function encode (obj: Partial<ErrorInfo>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ErrorInfo.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ErrorInfo>): ErrorInfo {
    return decodeMessage(buf, ErrorInfo.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ErrorInfo>): Generator<ErrorInfoCodeFieldEvent | ErrorInfoMessageFieldEvent> {
    return streamMessage(buf, ErrorInfo.codec(), opts)
  }
}

export interface InvokeFrame {
  id: number
  kind: InvokeFrame.Kind
  pid: string
  fn: string
  timeoutMs: number
  size: number
  chunk: Uint8Array<ArrayBuffer>
  more: boolean
  error?: ErrorInfo
  key: string
  from: string
}

export namespace InvokeFrame {
  export enum Kind {
    REQUEST = 'REQUEST',
    RESPONSE = 'RESPONSE',
    CANCEL = 'CANCEL'
  }

  enum __KindValues {
    REQUEST = 0,
    RESPONSE = 1,
    CANCEL = 2
  }

  export namespace Kind {
    export const codec = (): Codec<Kind> => {
      return enumeration<Kind>(__KindValues)
    }
  }

  let _codec: Codec<InvokeFrame>

  export const codec = (): Codec<InvokeFrame> => {
    if (_codec == null) {
      _codec = message<InvokeFrame>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.id != null && obj.id !== 0)) {
          w.uint32(8)
          w.uint32(obj.id)
        }

        if (obj.kind != null && __KindValues[obj.kind] !== 0) {
          w.uint32(16)
          InvokeFrame.Kind.codec().encode(obj.kind, w)
        }

        if ((obj.pid != null && obj.pid !== '')) {
          w.uint32(26)
          w.string(obj.pid)
        }

        if ((obj.fn != null && obj.fn !== '')) {
          w.uint32(34)
          w.string(obj.fn)
        }

        if ((obj.timeoutMs != null && obj.timeoutMs !== 0)) {
          w.uint32(40)
          w.uint32(obj.timeoutMs)
        }

        if ((obj.size != null && obj.size !== 0)) {
          w.uint32(48)
          w.uint32(obj.size)
        }

        if ((obj.chunk != null && obj.chunk.byteLength > 0)) {
          w.uint32(58)
          w.bytes(obj.chunk)
        }

        if ((obj.more != null && obj.more !== false)) {
          w.uint32(64)
          w.bool(obj.more)
        }

        if (obj.error != null) {
          w.uint32(74)
          ErrorInfo.codec().encode(obj.error, w)
        }

        if ((obj.key != null && obj.key !== '')) {
          w.uint32(82)
          w.string(obj.key)
        }

        if ((obj.from != null && obj.from !== '')) {
          w.uint32(90)
          w.string(obj.from)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          id: 0,
          kind: Kind.REQUEST,
          pid: '',
          fn: '',
          timeoutMs: 0,
          size: 0,
          chunk: uint8ArrayAlloc(0),
          more: false,
          key: '',
          from: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.id = reader.uint32()
              break
            }
            case 2: {
              obj.kind = InvokeFrame.Kind.codec().decode(reader)
              break
            }
            case 3: {
              obj.pid = reader.string()
              break
            }
            case 4: {
              obj.fn = reader.string()
              break
            }
            case 5: {
              obj.timeoutMs = reader.uint32()
              break
            }
            case 6: {
              obj.size = reader.uint32()
              break
            }
            case 7: {
              obj.chunk = reader.bytes()
              break
            }
            case 8: {
              obj.more = reader.bool()
              break
            }
            case 9: {
              obj.error = ErrorInfo.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.error
              })
              break
            }
            case 10: {
              obj.key = reader.string()
              break
            }
            case 11: {
              obj.from = reader.string()
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
                field: `${prefix}.id`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.kind`,
                value: InvokeFrame.Kind.codec().decode(reader)
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.pid`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.fn`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.timeoutMs`,
                value: reader.uint32()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.size`,
                value: reader.uint32()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.chunk`,
                value: reader.bytes()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.more`,
                value: reader.bool()
              }
              break
            }
            case 9: {
              yield * ErrorInfo.codec().stream(reader, reader.uint32(), `${prefix}.error`, {
                limits: opts.limits?.error
              })

              break
            }
            case 10: {
              yield {
                field: `${prefix}.key`,
                value: reader.string()
              }
              break
            }
            case 11: {
              yield {
                field: `${prefix}.from`,
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

  export interface InvokeFrameIdFieldEvent {
    field: '$.id'
    value: number
  }

  export interface InvokeFrameKindFieldEvent {
    field: '$.kind'
    value: InvokeFrame.Kind
  }

  export interface InvokeFramePidFieldEvent {
    field: '$.pid'
    value: string
  }

  export interface InvokeFrameFnFieldEvent {
    field: '$.fn'
    value: string
  }

  export interface InvokeFrameTimeoutMsFieldEvent {
    field: '$.timeoutMs'
    value: number
  }

  export interface InvokeFrameSizeFieldEvent {
    field: '$.size'
    value: number
  }

  export interface InvokeFrameChunkFieldEvent {
    field: '$.chunk'
    value: Uint8Array<ArrayBuffer>
  }

  export interface InvokeFrameMoreFieldEvent {
    field: '$.more'
    value: boolean
  }

  export interface InvokeFrameErrorCodeFieldEvent {
    field: '$.error.code'
    value: ErrorCode
  }

  export interface InvokeFrameErrorMessageFieldEvent {
    field: '$.error.message'
    value: string
  }

  export interface InvokeFrameKeyFieldEvent {
    field: '$.key'
    value: string
  }

  export interface InvokeFrameFromFieldEvent {
    field: '$.from'
    value: string
  }

  export function encode (obj: Partial<InvokeFrame>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, InvokeFrame.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<InvokeFrame>): InvokeFrame {
    return decodeMessage(buf, InvokeFrame.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<InvokeFrame>): Generator<InvokeFrameIdFieldEvent | InvokeFrameKindFieldEvent | InvokeFramePidFieldEvent | InvokeFrameFnFieldEvent | InvokeFrameTimeoutMsFieldEvent | InvokeFrameSizeFieldEvent | InvokeFrameChunkFieldEvent | InvokeFrameMoreFieldEvent | InvokeFrameErrorCodeFieldEvent | InvokeFrameErrorMessageFieldEvent | InvokeFrameKeyFieldEvent | InvokeFrameFromFieldEvent> {
    return streamMessage(buf, InvokeFrame.codec(), opts)
  }
}

export enum ProcessStatus {
  ACTIVE = 'ACTIVE',
  SWAPPED = 'SWAPPED'
}

enum __ProcessStatusValues {
  ACTIVE = 0,
  SWAPPED = 1
}

export namespace ProcessStatus {
  export const codec = (): Codec<ProcessStatus> => {
    return enumeration<ProcessStatus>(__ProcessStatusValues)
  }
}

export interface ProcessInfo {
  pid: string
  app: string
  status: ProcessStatus
  node: string
  addrs: string[]
}

export namespace ProcessInfo {
  let _codec: Codec<ProcessInfo>

  export const codec = (): Codec<ProcessInfo> => {
    if (_codec == null) {
      _codec = message<ProcessInfo>((obj, w, opts = {}) => {
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

        if (obj.status != null && __ProcessStatusValues[obj.status] !== 0) {
          w.uint32(24)
          ProcessStatus.codec().encode(obj.status, w)
        }

        if ((obj.node != null && obj.node !== '')) {
          w.uint32(34)
          w.string(obj.node)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(42)
            w.string(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          pid: '',
          app: '',
          status: ProcessStatus.ACTIVE,
          node: '',
          addrs: []
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
              obj.status = ProcessStatus.codec().decode(reader)
              break
            }
            case 4: {
              obj.node = reader.string()
              break
            }
            case 5: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.string())
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
                field: `${prefix}.app`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.status`,
                value: ProcessStatus.codec().decode(reader)
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.node`,
                value: reader.string()
              }
              break
            }
            case 5: {
              if (opts.limits?.addrs != null && obj.addrs === opts.limits.addrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "addrs" had too many elements')
              }

              yield {
                field: `${prefix}.addrs[]`,
                index: obj.addrs,
                value: reader.string()
              }

              obj.addrs++

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

  export interface ProcessInfoPidFieldEvent {
    field: '$.pid'
    value: string
  }

  export interface ProcessInfoAppFieldEvent {
    field: '$.app'
    value: string
  }

  export interface ProcessInfoStatusFieldEvent {
    field: '$.status'
    value: ProcessStatus
  }

  export interface ProcessInfoNodeFieldEvent {
    field: '$.node'
    value: string
  }

  export interface ProcessInfoAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: string
  }

  export function encode (obj: Partial<ProcessInfo>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ProcessInfo.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ProcessInfo>): ProcessInfo {
    return decodeMessage(buf, ProcessInfo.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ProcessInfo>): Generator<ProcessInfoPidFieldEvent | ProcessInfoAppFieldEvent | ProcessInfoStatusFieldEvent | ProcessInfoNodeFieldEvent | ProcessInfoAddrsFieldEvent> {
    return streamMessage(buf, ProcessInfo.codec(), opts)
  }
}

export interface CtlRequest {
  op: CtlRequest.Op
  app: string
  source: Uint8Array<ArrayBuffer>
  pid: string
  node: string
  local: boolean
  hash: string
  term: number
  counter: number
  suspect: string
  restore: boolean
  holder: string
  holders: string[]
}

export namespace CtlRequest {
  export enum Op {
    PING = 'PING',
    DEPLOY = 'DEPLOY',
    CREATE = 'CREATE',
    LIST = 'LIST',
    LOCATE = 'LOCATE',
    DELETE = 'DELETE',
    FETCH_APP = 'FETCH_APP',
    PEERS = 'PEERS',
    STATUS = 'STATUS',
    SWAP = 'SWAP',
    MIGRATE = 'MIGRATE'
  }

  enum __OpValues {
    PING = 0,
    DEPLOY = 1,
    CREATE = 2,
    LIST = 3,
    LOCATE = 4,
    DELETE = 5,
    FETCH_APP = 6,
    PEERS = 7,
    STATUS = 8,
    SWAP = 9,
    MIGRATE = 10
  }

  export namespace Op {
    export const codec = (): Codec<Op> => {
      return enumeration<Op>(__OpValues)
    }
  }

  let _codec: Codec<CtlRequest>

  export const codec = (): Codec<CtlRequest> => {
    if (_codec == null) {
      _codec = message<CtlRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.op != null && __OpValues[obj.op] !== 0) {
          w.uint32(8)
          CtlRequest.Op.codec().encode(obj.op, w)
        }

        if ((obj.app != null && obj.app !== '')) {
          w.uint32(18)
          w.string(obj.app)
        }

        if ((obj.source != null && obj.source.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.source)
        }

        if ((obj.pid != null && obj.pid !== '')) {
          w.uint32(34)
          w.string(obj.pid)
        }

        if ((obj.node != null && obj.node !== '')) {
          w.uint32(42)
          w.string(obj.node)
        }

        if ((obj.local != null && obj.local !== false)) {
          w.uint32(48)
          w.bool(obj.local)
        }

        if ((obj.hash != null && obj.hash !== '')) {
          w.uint32(58)
          w.string(obj.hash)
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(64)
          w.uint32(obj.term)
        }

        if ((obj.counter != null && obj.counter !== 0)) {
          w.uint32(72)
          w.uint32(obj.counter)
        }

        if ((obj.suspect != null && obj.suspect !== '')) {
          w.uint32(82)
          w.string(obj.suspect)
        }

        if ((obj.restore != null && obj.restore !== false)) {
          w.uint32(88)
          w.bool(obj.restore)
        }

        if ((obj.holder != null && obj.holder !== '')) {
          w.uint32(98)
          w.string(obj.holder)
        }

        if (obj.holders != null && obj.holders.length > 0) {
          for (const value of obj.holders) {
            w.uint32(106)
            w.string(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          op: Op.PING,
          app: '',
          source: uint8ArrayAlloc(0),
          pid: '',
          node: '',
          local: false,
          hash: '',
          term: 0,
          counter: 0,
          suspect: '',
          restore: false,
          holder: '',
          holders: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.op = CtlRequest.Op.codec().decode(reader)
              break
            }
            case 2: {
              obj.app = reader.string()
              break
            }
            case 3: {
              obj.source = reader.bytes()
              break
            }
            case 4: {
              obj.pid = reader.string()
              break
            }
            case 5: {
              obj.node = reader.string()
              break
            }
            case 6: {
              obj.local = reader.bool()
              break
            }
            case 7: {
              obj.hash = reader.string()
              break
            }
            case 8: {
              obj.term = reader.uint32()
              break
            }
            case 9: {
              obj.counter = reader.uint32()
              break
            }
            case 10: {
              obj.suspect = reader.string()
              break
            }
            case 11: {
              obj.restore = reader.bool()
              break
            }
            case 12: {
              obj.holder = reader.string()
              break
            }
            case 13: {
              if (opts.limits?.holders != null && obj.holders.length === opts.limits.holders) {
                throw new MaxLengthError('Decode error - repeated field "holders" had too many elements')
              }

              obj.holders.push(reader.string())
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
          holders: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.op`,
                value: CtlRequest.Op.codec().decode(reader)
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
                field: `${prefix}.source`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.pid`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.node`,
                value: reader.string()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.local`,
                value: reader.bool()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.hash`,
                value: reader.string()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.term`,
                value: reader.uint32()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.counter`,
                value: reader.uint32()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.suspect`,
                value: reader.string()
              }
              break
            }
            case 11: {
              yield {
                field: `${prefix}.restore`,
                value: reader.bool()
              }
              break
            }
            case 12: {
              yield {
                field: `${prefix}.holder`,
                value: reader.string()
              }
              break
            }
            case 13: {
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

  export interface CtlRequestOpFieldEvent {
    field: '$.op'
    value: CtlRequest.Op
  }

  export interface CtlRequestAppFieldEvent {
    field: '$.app'
    value: string
  }

  export interface CtlRequestSourceFieldEvent {
    field: '$.source'
    value: Uint8Array<ArrayBuffer>
  }

  export interface CtlRequestPidFieldEvent {
    field: '$.pid'
    value: string
  }

  export interface CtlRequestNodeFieldEvent {
    field: '$.node'
    value: string
  }

  export interface CtlRequestLocalFieldEvent {
    field: '$.local'
    value: boolean
  }

  export interface CtlRequestHashFieldEvent {
    field: '$.hash'
    value: string
  }

  export interface CtlRequestTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface CtlRequestCounterFieldEvent {
    field: '$.counter'
    value: number
  }

  export interface CtlRequestSuspectFieldEvent {
    field: '$.suspect'
    value: string
  }

  export interface CtlRequestRestoreFieldEvent {
    field: '$.restore'
    value: boolean
  }

  export interface CtlRequestHolderFieldEvent {
    field: '$.holder'
    value: string
  }

  export interface CtlRequestHoldersFieldEvent {
    field: '$.holders[]'
    index: number
    value: string
  }

  export function encode (obj: Partial<CtlRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, CtlRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CtlRequest>): CtlRequest {
    return decodeMessage(buf, CtlRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CtlRequest>): Generator<CtlRequestOpFieldEvent | CtlRequestAppFieldEvent | CtlRequestSourceFieldEvent | CtlRequestPidFieldEvent | CtlRequestNodeFieldEvent | CtlRequestLocalFieldEvent | CtlRequestHashFieldEvent | CtlRequestTermFieldEvent | CtlRequestCounterFieldEvent | CtlRequestSuspectFieldEvent | CtlRequestRestoreFieldEvent | CtlRequestHolderFieldEvent | CtlRequestHoldersFieldEvent> {
    return streamMessage(buf, CtlRequest.codec(), opts)
  }
}

export interface PeerInfo {
  id: string
  addrs: string[]
  load: number
}

export namespace PeerInfo {
  let _codec: Codec<PeerInfo>

  export const codec = (): Codec<PeerInfo> => {
    if (_codec == null) {
      _codec = message<PeerInfo>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.id != null && obj.id !== '')) {
          w.uint32(10)
          w.string(obj.id)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(18)
            w.string(value)
          }
        }

        if ((obj.load != null && obj.load !== 0)) {
          w.uint32(24)
          w.uint32(obj.load)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          id: '',
          addrs: [],
          load: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.id = reader.string()
              break
            }
            case 2: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.string())
              break
            }
            case 3: {
              obj.load = reader.uint32()
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
                field: `${prefix}.id`,
                value: reader.string()
              }
              break
            }
            case 2: {
              if (opts.limits?.addrs != null && obj.addrs === opts.limits.addrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "addrs" had too many elements')
              }

              yield {
                field: `${prefix}.addrs[]`,
                index: obj.addrs,
                value: reader.string()
              }

              obj.addrs++

              break
            }
            case 3: {
              yield {
                field: `${prefix}.load`,
                value: reader.uint32()
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

  export interface PeerInfoIdFieldEvent {
    field: '$.id'
    value: string
  }

  export interface PeerInfoAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: string
  }

  export interface PeerInfoLoadFieldEvent {
    field: '$.load'
    value: number
  }

  export function encode (obj: Partial<PeerInfo>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, PeerInfo.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PeerInfo>): PeerInfo {
    return decodeMessage(buf, PeerInfo.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PeerInfo>): Generator<PeerInfoIdFieldEvent | PeerInfoAddrsFieldEvent | PeerInfoLoadFieldEvent> {
    return streamMessage(buf, PeerInfo.codec(), opts)
  }
}

export interface CtlResponse {
  error?: ErrorInfo
  processes: ProcessInfo[]
  source: Uint8Array<ArrayBuffer>
  hash: string
  peers: PeerInfo[]
  leader: string
  term: number
}

export namespace CtlResponse {
  let _codec: Codec<CtlResponse>

  export const codec = (): Codec<CtlResponse> => {
    if (_codec == null) {
      _codec = message<CtlResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.error != null) {
          w.uint32(10)
          ErrorInfo.codec().encode(obj.error, w)
        }

        if (obj.processes != null && obj.processes.length > 0) {
          for (const value of obj.processes) {
            w.uint32(18)
            ProcessInfo.codec().encode(value, w)
          }
        }

        if ((obj.source != null && obj.source.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.source)
        }

        if ((obj.hash != null && obj.hash !== '')) {
          w.uint32(34)
          w.string(obj.hash)
        }

        if (obj.peers != null && obj.peers.length > 0) {
          for (const value of obj.peers) {
            w.uint32(42)
            PeerInfo.codec().encode(value, w)
          }
        }

        if ((obj.leader != null && obj.leader !== '')) {
          w.uint32(50)
          w.string(obj.leader)
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(56)
          w.uint32(obj.term)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          processes: [],
          source: uint8ArrayAlloc(0),
          hash: '',
          peers: [],
          leader: '',
          term: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.error = ErrorInfo.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.error
              })
              break
            }
            case 2: {
              if (opts.limits?.processes != null && obj.processes.length === opts.limits.processes) {
                throw new MaxLengthError('Decode error - repeated field "processes" had too many elements')
              }

              obj.processes.push(ProcessInfo.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.processes$
              }))
              break
            }
            case 3: {
              obj.source = reader.bytes()
              break
            }
            case 4: {
              obj.hash = reader.string()
              break
            }
            case 5: {
              if (opts.limits?.peers != null && obj.peers.length === opts.limits.peers) {
                throw new MaxLengthError('Decode error - repeated field "peers" had too many elements')
              }

              obj.peers.push(PeerInfo.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.peers$
              }))
              break
            }
            case 6: {
              obj.leader = reader.string()
              break
            }
            case 7: {
              obj.term = reader.uint32()
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
          processes: 0,
          peers: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * ErrorInfo.codec().stream(reader, reader.uint32(), `${prefix}.error`, {
                limits: opts.limits?.error
              })

              break
            }
            case 2: {
              if (opts.limits?.processes != null && obj.processes === opts.limits.processes) {
                throw new MaxLengthError('Streaming decode error - repeated field "processes" had too many elements')
              }

              for (const evt of ProcessInfo.codec().stream(reader, reader.uint32(), `${prefix}.processes[]`, {
                limits: opts.limits?.processes$
              })) {
                yield {
                  ...evt,
                  index: obj.processes
                }
              }

              obj.processes++

              break
            }
            case 3: {
              yield {
                field: `${prefix}.source`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.hash`,
                value: reader.string()
              }
              break
            }
            case 5: {
              if (opts.limits?.peers != null && obj.peers === opts.limits.peers) {
                throw new MaxLengthError('Streaming decode error - repeated field "peers" had too many elements')
              }

              for (const evt of PeerInfo.codec().stream(reader, reader.uint32(), `${prefix}.peers[]`, {
                limits: opts.limits?.peers$
              })) {
                yield {
                  ...evt,
                  index: obj.peers
                }
              }

              obj.peers++

              break
            }
            case 6: {
              yield {
                field: `${prefix}.leader`,
                value: reader.string()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.term`,
                value: reader.uint32()
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

  export interface CtlResponseErrorCodeFieldEvent {
    field: '$.error.code'
    value: ErrorCode
  }

  export interface CtlResponseErrorMessageFieldEvent {
    field: '$.error.message'
    value: string
  }

  export interface CtlResponseProcessesPidFieldEvent {
    field: '$.processes[].pid'
    value: string
    index: number
  }

  export interface CtlResponseProcessesAppFieldEvent {
    field: '$.processes[].app'
    value: string
    index: number
  }

  export interface CtlResponseProcessesStatusFieldEvent {
    field: '$.processes[].status'
    value: ProcessStatus
    index: number
  }

  export interface CtlResponseProcessesNodeFieldEvent {
    field: '$.processes[].node'
    value: string
    index: number
  }

  export interface CtlResponseProcessesAddrsFieldEvent {
    field: '$.processes[].addrs[]'
    index: number
    value: string
  }

  export interface CtlResponseSourceFieldEvent {
    field: '$.source'
    value: Uint8Array<ArrayBuffer>
  }

  export interface CtlResponseHashFieldEvent {
    field: '$.hash'
    value: string
  }

  export interface CtlResponsePeersIdFieldEvent {
    field: '$.peers[].id'
    value: string
    index: number
  }

  export interface CtlResponsePeersAddrsFieldEvent {
    field: '$.peers[].addrs[]'
    index: number
    value: string
  }

  export interface CtlResponsePeersLoadFieldEvent {
    field: '$.peers[].load'
    value: number
    index: number
  }

  export interface CtlResponseLeaderFieldEvent {
    field: '$.leader'
    value: string
  }

  export interface CtlResponseTermFieldEvent {
    field: '$.term'
    value: number
  }

  export function encode (obj: Partial<CtlResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, CtlResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CtlResponse>): CtlResponse {
    return decodeMessage(buf, CtlResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CtlResponse>): Generator<CtlResponseErrorCodeFieldEvent | CtlResponseErrorMessageFieldEvent | CtlResponseProcessesPidFieldEvent | CtlResponseProcessesAppFieldEvent | CtlResponseProcessesStatusFieldEvent | CtlResponseProcessesNodeFieldEvent | CtlResponseProcessesAddrsFieldEvent | CtlResponseSourceFieldEvent | CtlResponseHashFieldEvent | CtlResponsePeersIdFieldEvent | CtlResponsePeersAddrsFieldEvent | CtlResponsePeersLoadFieldEvent | CtlResponseLeaderFieldEvent | CtlResponseTermFieldEvent> {
    return streamMessage(buf, CtlResponse.codec(), opts)
  }
}
