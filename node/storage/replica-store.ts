import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { PraasError } from '../../protocol/errors.js'
import { MAX_NAME_LENGTH, MAX_PID_LENGTH } from '../../protocol/limits.js'
import { ReplicaRecord } from '../../protocol/pb/storage.js'
import { compareEpoch, compareVersion } from './image.js'
import { MAX_RECORD_BYTES, ReplicaLog } from './replica-log.js'
import { recordPieces } from './record-pieces.js'
import type { ActivationEpoch, ProcessImage, ProcessVersion, StoredMessage } from './image.js'

/** One state write: a missing value deletes the key. */
export interface WriteOp {
  key: string
  value?: Uint8Array
}

/**
 * What a host changed in one process in one step, numbered by `seq` within the activation
 * `epoch`: its writes (absolute values), the messages put into its mailbox, and the ids of the
 * messages taken from it.
 */
export interface WriteBatch extends ProcessVersion {
  ops: WriteOp[]
  puts?: StoredMessage[]
  takes?: number[]
}

/** 'stale': from an older activation, ignored; 'gap': this replica needs a full image first. */
export type ApplyResult = 'ok' | 'stale' | 'gap'

export interface ReplicaStoreInit {
  /** The log is compacted once it is longer than this and twice the live data. */
  maxLogBytes?: number
}

export const DEFAULT_MAX_LOG_BYTES = 256 * 1024 * 1024

/** The most state and mail one replica may hold, so that its install record stays within a log record. */
export const MAX_REPLICA_BYTES = 512 * 1024 * 1024

/** What a key, value or message is reckoned to cost in a record beyond its bytes. */
const ENTRY_OVERHEAD_BYTES = 24

/** A copy held here: its unread mail by id (in arrival order), so that a batch takes a message at once. */
interface HeldCopy extends ProcessVersion {
  state: Map<string, Uint8Array>
  mail: Map<number, StoredMessage>
}

interface Replica {
  image?: HeldCopy
  /** The reckoned size of the copy's state and mail. */
  bytes: number
  /** Batches and installs from before this epoch are stale. */
  fence?: ActivationEpoch
}

function entryBytes (key: string, value: Uint8Array): number {
  return Buffer.byteLength(key, 'utf8') + value.byteLength + ENTRY_OVERHEAD_BYTES
}

function messageBytes (m: StoredMessage): number {
  return Buffer.byteLength(m.key, 'utf8') + Buffer.byteLength(m.from, 'utf8') + m.data.byteLength + ENTRY_OVERHEAD_BYTES
}

/** A message as a replica log record carries it (the wire types want ArrayBuffer-backed bytes; the encoder only reads them). */
function wireMessage (m: StoredMessage): ReplicaRecord['messages'][number] {
  return { id: m.id, key: m.key, from: m.from, data: m.data as Uint8Array<ArrayBuffer> }
}

function storedMessage (m: ReplicaRecord['messages'][number]): StoredMessage {
  return { id: m.id, key: m.key, from: m.from, data: m.data }
}

/** A record's messages by id; a record of before messages were numbered (all 0) numbers them in order. */
function mailOf (messages: ReplicaRecord['messages']): Map<number, StoredMessage> {
  const numbered = messages.some((m) => m.id !== 0)
  return new Map(messages.map((m, i) => {
    const id = numbered ? m.id : i + 1
    return [id, { ...storedMessage(m), id }]
  }))
}

function checkHead (what: Omit<ProcessVersion, 'appHash'>): void {
  const count = (n: number): boolean => Number.isSafeInteger(n) && n >= 0
  if (what.pid.length === 0 || what.pid.length > MAX_PID_LENGTH) throw new PraasError('BAD_REQUEST', 'pid length')
  if (what.app.length > MAX_NAME_LENGTH) throw new PraasError('BAD_REQUEST', 'app name length')
  if (!count(what.epoch.term) || !count(what.epoch.counter) || !count(what.seq)) throw new PraasError('BAD_REQUEST', 'epoch or seq')
}

function tooLarge (pid: string, bytes: number): PraasError {
  return new PraasError('TOO_LARGE', `replica of ${pid} would hold ${bytes} bytes`)
}

/**
 * The state this node holds as a replica of processes hosted elsewhere. Every change lands in
 * memory at once and in an append-only log soon after; `flush` makes it durable, and `open`
 * rebuilds memory from the log.
 */
export class ReplicaStore {
  private readonly dir: string
  private readonly maxLogBytes: number
  private readonly replicas = new Map<string, Replica>()
  private readonly log: ReplicaLog
  private liveBytes = 0
  private isOpen = false

  constructor (dir: string, init: ReplicaStoreInit = {}) {
    this.dir = dir
    this.maxLogBytes = init.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES
    this.log = new ReplicaLog(join(dir, 'log'), { compact: (logBytes) => this.snapshotIfDue(logBytes) })
  }

  async open (): Promise<void> {
    await mkdir(this.dir, { recursive: true })
    this.replicas.clear()
    this.liveBytes = 0
    await this.log.open((payload) => { this.mutate(ReplicaRecord.decode(payload)) })
    this.isOpen = true
  }

  apply (batch: WriteBatch): ApplyResult {
    const { result, commit } = this.prepare(batch)
    commit?.()
    return result
  }

  /**
   * `apply` in two steps: what it answers (every check done, TOO_LARGE thrown), and the change
   * itself (`commit`), which the caller makes before anything else touches the store; a replica
   * makes it just after its answer left (replica-channel.ts), off the host's round trip.
   */
  prepare (batch: WriteBatch): { result: ApplyResult, commit?: () => void } {
    this.checkOpen()
    checkHead(batch)
    const replica = this.replicas.get(batch.pid)
    if (this.isStale(replica, batch.epoch)) return { result: 'stale' }
    const image = replica?.image
    if (replica == null || image == null || compareEpoch(batch.epoch, image.epoch) > 0) return { result: 'gap' }
    if (batch.seq <= image.seq) return { result: 'ok' }
    if (batch.seq !== image.seq + 1) return { result: 'gap' }

    let bytes = replica.bytes
    const state = new Map(batch.ops.map((op) => [op.key, image.state.get(op.key)]))
    for (const op of batch.ops) {
      const before = state.get(op.key)
      if (before != null) bytes -= entryBytes(op.key, before)
      if (op.value != null) bytes += entryBytes(op.key, op.value)
      state.set(op.key, op.value)
    }
    const puts = batch.puts ?? []
    const takes = batch.takes ?? []
    for (const m of puts) bytes += messageBytes(m)
    for (const id of takes) {
      const taken = image.mail.get(id)
      if (taken != null) bytes -= messageBytes(taken)
    }
    if (bytes > MAX_REPLICA_BYTES) throw tooLarge(batch.pid, bytes)
    const commit = (): void => { this.record({ ...this.head(batch, ReplicaRecord.Kind.APPLY), ops: batch.ops as ReplicaRecord['ops'], messages: puts.map(wireMessage), taken: takes }) }
    return { result: 'ok', commit }
  }

  install (image: ProcessImage): ApplyResult {
    this.checkOpen()
    checkHead(image)
    const replica = this.replicas.get(image.pid)
    if (replica?.fence != null && compareEpoch(image.epoch, replica.fence) < 0) return 'stale'
    if (replica?.image != null && compareVersion(image, replica.image) < 0) return 'stale'
    let bytes = 0
    for (const [key, value] of image.state) bytes += entryBytes(key, value)
    for (const m of image.messages) bytes += messageBytes(m)
    if (bytes > MAX_REPLICA_BYTES) throw tooLarge(image.pid, bytes)
    // its size is checked above; it is encoded when the log writes it
    const record = this.installRecord(image)
    this.mutate(record)
    this.log.append(() => recordPieces(record))
    return 'ok'
  }

  /**
   * Makes the copy held at `from` (epoch and seq) the copy of activation `to`, state and unread
   * mail as they are: a process that moved or was restored from this very copy needs no full
   * copy (a version names one state and one mailbox). 'gap' unless exactly `from` is held.
   */
  rebase (pid: string, from: { epoch: ActivationEpoch, seq: number }, to: ActivationEpoch): ApplyResult {
    this.checkOpen()
    checkHead({ pid, app: '', epoch: to, seq: from.seq })
    const replica = this.replicas.get(pid)
    if (this.isStale(replica, to)) return 'stale'
    const image = replica?.image
    if (image == null || compareEpoch(image.epoch, from.epoch) !== 0 || image.seq !== from.seq || compareEpoch(to, from.epoch) < 0) return 'gap'
    this.record({ ...this.head({ pid, app: image.app, appHash: image.appHash, epoch: to, seq: from.seq }, ReplicaRecord.Kind.REBASE), ops: [], messages: [], taken: [] })
    return 'ok'
  }

  fence (pid: string, epoch: ActivationEpoch): void {
    this.checkOpen()
    checkHead({ pid, app: '', epoch, seq: 0 })
    const fence = this.replicas.get(pid)?.fence
    if (fence != null && compareEpoch(epoch, fence) <= 0) return
    this.record({ ...this.head({ pid, app: '', appHash: '', epoch, seq: 0 }, ReplicaRecord.Kind.FENCE), ops: [], messages: [], taken: [] })
  }

  /** Which copy of `pid` this store holds (its activation and last batch), without copying it. */
  version (pid: string): ProcessVersion | undefined {
    const image = this.replicas.get(pid)?.image
    return image == null ? undefined : { pid: image.pid, app: image.app, appHash: image.appHash, epoch: { ...image.epoch }, seq: image.seq }
  }

  /** A copy of the replica the caller may keep; values are shared and must not be changed. */
  get (pid: string): ProcessImage | undefined {
    const image = this.replicas.get(pid)?.image
    if (image == null) return undefined
    const messages = [...image.mail.values()].map((m) => ({ ...m })).sort((a, b) => a.id - b.id)
    return { pid: image.pid, app: image.app, appHash: image.appHash, epoch: { ...image.epoch }, seq: image.seq, state: new Map(image.state), messages }
  }

  /** Forgets a replica; its fence stays, so a late batch from an old activation is still stale. */
  drop (pid: string): void {
    this.checkOpen()
    if (this.replicas.get(pid)?.image == null) return
    this.record({ ...this.head({ pid, app: '', appHash: '', epoch: { term: 0, counter: 0 }, seq: 0 }, ReplicaRecord.Kind.DROP), ops: [], messages: [], taken: [] })
  }

  pids (): string[] {
    return [...this.replicas].filter(([, r]) => r.image != null).map(([pid]) => pid)
  }

  async flush (): Promise<void> {
    await this.log.flush()
  }

  async close (): Promise<void> {
    if (!this.isOpen) return
    this.isOpen = false
    await this.log.close()
  }

  /** Refuses work the store could not keep: closed, or its log stopped writing (hosts then choose another replica). */
  private checkOpen (): void {
    if (!this.isOpen) throw new PraasError('UNAVAILABLE', 'the replica store is not open')
    const failed = this.log.failed
    if (failed != null) throw new PraasError('UNAVAILABLE', `the replica log cannot write: ${failed.message}`)
  }

  private isStale (replica: Replica | undefined, epoch: ActivationEpoch): boolean {
    if (replica?.fence != null && compareEpoch(epoch, replica.fence) < 0) return true
    return replica?.image != null && compareEpoch(epoch, replica.image.epoch) < 0
  }

  private head (what: ProcessVersion, kind: ReplicaRecord.Kind): Omit<ReplicaRecord, 'ops' | 'messages' | 'taken'> {
    return { kind, pid: what.pid, app: what.app, appHash: what.appHash, term: what.epoch.term, counter: what.epoch.counter, seq: what.seq }
  }

  private installRecord (image: ProcessImage | HeldCopy): ReplicaRecord {
    return {
      ...this.head(image, ReplicaRecord.Kind.INSTALL),
      // the wire types want ArrayBuffer-backed bytes; the encoder only reads them
      ops: [...image.state].map(([key, value]) => ({ key, value })) as ReplicaRecord['ops'],
      messages: ('mail' in image ? [...image.mail.values()] : image.messages).map(wireMessage),
      taken: []
    }
  }

  /** Encodes first, so that a record too large for the log changes nothing. */
  private record (record: ReplicaRecord): void {
    const payload = ReplicaRecord.encode(record)
    if (payload.byteLength > MAX_RECORD_BYTES) throw tooLarge(record.pid, payload.byteLength)
    this.mutate(record)
    this.log.append(payload)
  }

  /** The one place memory changes, live and on replay alike. */
  private mutate (r: ReplicaRecord): void {
    const replica = this.replicas.get(r.pid) ?? { bytes: 0 }
    const epoch = { term: r.term, counter: r.counter }
    const image = replica.image
    if ((r.kind === ReplicaRecord.Kind.APPLY || r.kind === ReplicaRecord.Kind.REBASE) && image == null) {
      throw new PraasError('BAD_REQUEST', `replica log: a batch for ${r.pid}, which is not held`)
    }
    this.liveBytes -= replica.bytes
    switch (r.kind) {
      case ReplicaRecord.Kind.APPLY: {
        if (image == null) break
        for (const id of r.taken) {
          const taken = image.mail.get(id)
          if (taken == null) continue
          image.mail.delete(id)
          replica.bytes -= messageBytes(taken)
        }
        for (const m of r.messages) {
          image.mail.set(m.id, storedMessage(m))
          replica.bytes += messageBytes(m)
        }
        for (const op of r.ops) {
          const before = image.state.get(op.key)
          if (before != null) replica.bytes -= entryBytes(op.key, before)
          if (op.value != null) {
            image.state.set(op.key, op.value)
            replica.bytes += entryBytes(op.key, op.value)
          } else {
            image.state.delete(op.key)
          }
        }
        image.app = r.app
        image.appHash = r.appHash
        image.seq = r.seq
        break
      }
      case ReplicaRecord.Kind.INSTALL: {
        const state = new Map<string, Uint8Array>()
        replica.bytes = 0
        for (const op of r.ops) {
          const value = op.value ?? new Uint8Array(0)
          state.set(op.key, value)
          replica.bytes += entryBytes(op.key, value)
        }
        const mail = mailOf(r.messages)
        for (const m of mail.values()) replica.bytes += messageBytes(m)
        replica.image = { pid: r.pid, app: r.app, appHash: r.appHash, epoch, seq: r.seq, state, mail }
        break
      }
      case ReplicaRecord.Kind.REBASE: {
        if (image == null || image.seq !== r.seq) throw new PraasError('BAD_REQUEST', `replica log: a rebase of ${r.pid}, which is not held at batch ${r.seq}`)
        if (r.messages.length > 0) {
          // a record of before the mail travelled with the batches: its mail replaces the held one
          for (const m of image.mail.values()) replica.bytes -= messageBytes(m)
          image.mail = mailOf(r.messages)
          for (const m of image.mail.values()) replica.bytes += messageBytes(m)
        }
        image.epoch = epoch
        break
      }
      case ReplicaRecord.Kind.FENCE:
        if (replica.fence == null || compareEpoch(epoch, replica.fence) > 0) replica.fence = epoch
        break
      case ReplicaRecord.Kind.DROP:
        replica.image = undefined
        replica.bytes = 0
        break
      default:
        throw new PraasError('BAD_REQUEST', 'replica log: unknown record kind')
    }
    this.liveBytes += replica.bytes
    if (replica.image == null && replica.fence == null) this.replicas.delete(r.pid)
    else this.replicas.set(r.pid, replica)
  }

  /** The live records, once the log is past its budget and mostly dead. */
  private snapshotIfDue (logBytes: number): Array<Uint8Array | Uint8Array[]> | undefined {
    if (logBytes <= this.maxLogBytes || logBytes <= 2 * this.liveBytes) return undefined
    const payloads: Array<Uint8Array | Uint8Array[]> = []
    for (const [pid, replica] of this.replicas) {
      if (replica.image != null) payloads.push(recordPieces(this.installRecord(replica.image)))
      if (replica.fence != null) {
        payloads.push(ReplicaRecord.encode({
          ...this.head({ pid, app: '', appHash: '', epoch: replica.fence, seq: 0 }, ReplicaRecord.Kind.FENCE), ops: [], messages: [], taken: []
        }))
      }
    }
    return payloads
  }
}
