import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface Heartbeat {
  peerId: string
  addrs: Uint8Array<ArrayBuffer>[]
  load: number
  eventLoopDelayUs: number
  memory: number
  term: number
  leader: string
  leaving: boolean
}

export namespace Heartbeat {
  let _codec: Codec<Heartbeat>

  export const codec = (): Codec<Heartbeat> => {
    if (_codec == null) {
      _codec = message<Heartbeat>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.peerId != null && obj.peerId !== '')) {
          w.uint32(10)
          w.string(obj.peerId)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(18)
            w.bytes(value)
          }
        }

        if ((obj.load != null && obj.load !== 0)) {
          w.uint32(24)
          w.uint32(obj.load)
        }

        if ((obj.eventLoopDelayUs != null && obj.eventLoopDelayUs !== 0)) {
          w.uint32(32)
          w.uint32(obj.eventLoopDelayUs)
        }

        if ((obj.memory != null && obj.memory !== 0)) {
          w.uint32(40)
          w.uint64Number(obj.memory)
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(48)
          w.uint64Number(obj.term)
        }

        if ((obj.leader != null && obj.leader !== '')) {
          w.uint32(58)
          w.string(obj.leader)
        }

        if ((obj.leaving != null && obj.leaving !== false)) {
          w.uint32(64)
          w.bool(obj.leaving)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          peerId: '',
          addrs: [],
          load: 0,
          eventLoopDelayUs: 0,
          memory: 0,
          term: 0,
          leader: '',
          leaving: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.peerId = reader.string()
              break
            }
            case 2: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.bytes())
              break
            }
            case 3: {
              obj.load = reader.uint32()
              break
            }
            case 4: {
              obj.eventLoopDelayUs = reader.uint32()
              break
            }
            case 5: {
              obj.memory = reader.uint64Number()
              break
            }
            case 6: {
              obj.term = reader.uint64Number()
              break
            }
            case 7: {
              obj.leader = reader.string()
              break
            }
            case 8: {
              obj.leaving = reader.bool()
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
                field: `${prefix}.peerId`,
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
                value: reader.bytes()
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
            case 4: {
              yield {
                field: `${prefix}.eventLoopDelayUs`,
                value: reader.uint32()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.memory`,
                value: reader.uint64Number()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.term`,
                value: reader.uint64Number()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.leader`,
                value: reader.string()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.leaving`,
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

  export interface HeartbeatPeerIdFieldEvent {
    field: '$.peerId'
    value: string
  }

  export interface HeartbeatAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface HeartbeatLoadFieldEvent {
    field: '$.load'
    value: number
  }

  export interface HeartbeatEventLoopDelayUsFieldEvent {
    field: '$.eventLoopDelayUs'
    value: number
  }

  export interface HeartbeatMemoryFieldEvent {
    field: '$.memory'
    value: number
  }

  export interface HeartbeatTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface HeartbeatLeaderFieldEvent {
    field: '$.leader'
    value: string
  }

  export interface HeartbeatLeavingFieldEvent {
    field: '$.leaving'
    value: boolean
  }

  export function encode (obj: Partial<Heartbeat>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Heartbeat.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Heartbeat>): Heartbeat {
    return decodeMessage(buf, Heartbeat.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Heartbeat>): Generator<HeartbeatPeerIdFieldEvent | HeartbeatAddrsFieldEvent | HeartbeatLoadFieldEvent | HeartbeatEventLoopDelayUsFieldEvent | HeartbeatMemoryFieldEvent | HeartbeatTermFieldEvent | HeartbeatLeaderFieldEvent | HeartbeatLeavingFieldEvent> {
    return streamMessage(buf, Heartbeat.codec(), opts)
  }
}

export interface VoteRequest {
  term: number
  candidate: string
  pre: boolean
}

export namespace VoteRequest {
  let _codec: Codec<VoteRequest>

  export const codec = (): Codec<VoteRequest> => {
    if (_codec == null) {
      _codec = message<VoteRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.term)
        }

        if ((obj.candidate != null && obj.candidate !== '')) {
          w.uint32(18)
          w.string(obj.candidate)
        }

        if ((obj.pre != null && obj.pre !== false)) {
          w.uint32(24)
          w.bool(obj.pre)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          term: 0,
          candidate: '',
          pre: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.term = reader.uint64Number()
              break
            }
            case 2: {
              obj.candidate = reader.string()
              break
            }
            case 3: {
              obj.pre = reader.bool()
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
                field: `${prefix}.term`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.candidate`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.pre`,
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

  export interface VoteRequestTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface VoteRequestCandidateFieldEvent {
    field: '$.candidate'
    value: string
  }

  export interface VoteRequestPreFieldEvent {
    field: '$.pre'
    value: boolean
  }

  export function encode (obj: Partial<VoteRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, VoteRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<VoteRequest>): VoteRequest {
    return decodeMessage(buf, VoteRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<VoteRequest>): Generator<VoteRequestTermFieldEvent | VoteRequestCandidateFieldEvent | VoteRequestPreFieldEvent> {
    return streamMessage(buf, VoteRequest.codec(), opts)
  }
}

export interface VoteResponse {
  term: number
  granted: boolean
}

export namespace VoteResponse {
  let _codec: Codec<VoteResponse>

  export const codec = (): Codec<VoteResponse> => {
    if (_codec == null) {
      _codec = message<VoteResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.term)
        }

        if ((obj.granted != null && obj.granted !== false)) {
          w.uint32(16)
          w.bool(obj.granted)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          term: 0,
          granted: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.term = reader.uint64Number()
              break
            }
            case 2: {
              obj.granted = reader.bool()
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
                field: `${prefix}.term`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.granted`,
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

  export interface VoteResponseTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface VoteResponseGrantedFieldEvent {
    field: '$.granted'
    value: boolean
  }

  export function encode (obj: Partial<VoteResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, VoteResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<VoteResponse>): VoteResponse {
    return decodeMessage(buf, VoteResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<VoteResponse>): Generator<VoteResponseTermFieldEvent | VoteResponseGrantedFieldEvent> {
    return streamMessage(buf, VoteResponse.codec(), opts)
  }
}

export interface AllocRequest {
  pid: string
  app: string
  node: string
  restore: boolean
  basis: string
  prefer: string[]
}

export namespace AllocRequest {
  let _codec: Codec<AllocRequest>

  export const codec = (): Codec<AllocRequest> => {
    if (_codec == null) {
      _codec = message<AllocRequest>((obj, w, opts = {}) => {
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

        if ((obj.node != null && obj.node !== '')) {
          w.uint32(26)
          w.string(obj.node)
        }

        if ((obj.restore != null && obj.restore !== false)) {
          w.uint32(32)
          w.bool(obj.restore)
        }

        if ((obj.basis != null && obj.basis !== '')) {
          w.uint32(42)
          w.string(obj.basis)
        }

        if (obj.prefer != null && obj.prefer.length > 0) {
          for (const value of obj.prefer) {
            w.uint32(50)
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
          node: '',
          restore: false,
          basis: '',
          prefer: []
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
              obj.node = reader.string()
              break
            }
            case 4: {
              obj.restore = reader.bool()
              break
            }
            case 5: {
              obj.basis = reader.string()
              break
            }
            case 6: {
              if (opts.limits?.prefer != null && obj.prefer.length === opts.limits.prefer) {
                throw new MaxLengthError('Decode error - repeated field "prefer" had too many elements')
              }

              obj.prefer.push(reader.string())
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
          prefer: 0
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
                field: `${prefix}.node`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.restore`,
                value: reader.bool()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.basis`,
                value: reader.string()
              }
              break
            }
            case 6: {
              if (opts.limits?.prefer != null && obj.prefer === opts.limits.prefer) {
                throw new MaxLengthError('Streaming decode error - repeated field "prefer" had too many elements')
              }

              yield {
                field: `${prefix}.prefer[]`,
                index: obj.prefer,
                value: reader.string()
              }

              obj.prefer++

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

  export interface AllocRequestPidFieldEvent {
    field: '$.pid'
    value: string
  }

  export interface AllocRequestAppFieldEvent {
    field: '$.app'
    value: string
  }

  export interface AllocRequestNodeFieldEvent {
    field: '$.node'
    value: string
  }

  export interface AllocRequestRestoreFieldEvent {
    field: '$.restore'
    value: boolean
  }

  export interface AllocRequestBasisFieldEvent {
    field: '$.basis'
    value: string
  }

  export interface AllocRequestPreferFieldEvent {
    field: '$.prefer[]'
    index: number
    value: string
  }

  export function encode (obj: Partial<AllocRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, AllocRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AllocRequest>): AllocRequest {
    return decodeMessage(buf, AllocRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AllocRequest>): Generator<AllocRequestPidFieldEvent | AllocRequestAppFieldEvent | AllocRequestNodeFieldEvent | AllocRequestRestoreFieldEvent | AllocRequestBasisFieldEvent | AllocRequestPreferFieldEvent> {
    return streamMessage(buf, AllocRequest.codec(), opts)
  }
}

export interface AllocResponse {
  node: string
  addrs: Uint8Array<ArrayBuffer>[]
  term: number
  counter: number
  error: string
  message: string
  leader: string
}

export namespace AllocResponse {
  let _codec: Codec<AllocResponse>

  export const codec = (): Codec<AllocResponse> => {
    if (_codec == null) {
      _codec = message<AllocResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.node != null && obj.node !== '')) {
          w.uint32(10)
          w.string(obj.node)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(18)
            w.bytes(value)
          }
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.term)
        }

        if ((obj.counter != null && obj.counter !== 0)) {
          w.uint32(32)
          w.uint64Number(obj.counter)
        }

        if ((obj.error != null && obj.error !== '')) {
          w.uint32(42)
          w.string(obj.error)
        }

        if ((obj.message != null && obj.message !== '')) {
          w.uint32(50)
          w.string(obj.message)
        }

        if ((obj.leader != null && obj.leader !== '')) {
          w.uint32(58)
          w.string(obj.leader)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          node: '',
          addrs: [],
          term: 0,
          counter: 0,
          error: '',
          message: '',
          leader: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.node = reader.string()
              break
            }
            case 2: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.bytes())
              break
            }
            case 3: {
              obj.term = reader.uint64Number()
              break
            }
            case 4: {
              obj.counter = reader.uint64Number()
              break
            }
            case 5: {
              obj.error = reader.string()
              break
            }
            case 6: {
              obj.message = reader.string()
              break
            }
            case 7: {
              obj.leader = reader.string()
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
                field: `${prefix}.node`,
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
                value: reader.bytes()
              }

              obj.addrs++

              break
            }
            case 3: {
              yield {
                field: `${prefix}.term`,
                value: reader.uint64Number()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.counter`,
                value: reader.uint64Number()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.error`,
                value: reader.string()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.message`,
                value: reader.string()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.leader`,
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

  export interface AllocResponseNodeFieldEvent {
    field: '$.node'
    value: string
  }

  export interface AllocResponseAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface AllocResponseTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface AllocResponseCounterFieldEvent {
    field: '$.counter'
    value: number
  }

  export interface AllocResponseErrorFieldEvent {
    field: '$.error'
    value: string
  }

  export interface AllocResponseMessageFieldEvent {
    field: '$.message'
    value: string
  }

  export interface AllocResponseLeaderFieldEvent {
    field: '$.leader'
    value: string
  }

  export function encode (obj: Partial<AllocResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, AllocResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AllocResponse>): AllocResponse {
    return decodeMessage(buf, AllocResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AllocResponse>): Generator<AllocResponseNodeFieldEvent | AllocResponseAddrsFieldEvent | AllocResponseTermFieldEvent | AllocResponseCounterFieldEvent | AllocResponseErrorFieldEvent | AllocResponseMessageFieldEvent | AllocResponseLeaderFieldEvent> {
    return streamMessage(buf, AllocResponse.codec(), opts)
  }
}
