import { PraasError } from '../../protocol/index.js'

/** What a transaction reads and writes: the process's committed state. */
export interface TransactionState {
  get(key: string): Uint8Array | undefined
  keys(): Iterable<string>
  /** Applies every write at once (one replication batch); undefined deletes. */
  apply(writes: Map<string, Uint8Array | undefined>): void
}

interface Holder {
  txId: number
  callId: number
  writes: Map<string, Uint8Array | undefined>
}

/** Transactions and writes that may wait for one, per process, at most. */
const MAX_WAITING = 100_000

/**
 * The transactions of one process (ctx.state.transaction). They run one at a time, in the order
 * they began, so none ever conflicts with another and none is run twice: the paper's threads
 * are cheap to queue, and a rerun would repeat whatever else the callback did. A transaction
 * reads the committed state through its own writes, which wait in it until it commits, then
 * apply at once (one replication batch). Against the operations outside transactions it stays
 * serializable: their reads see the state before it (they come first), and their writes wait
 * until it has ended (they come after).
 */
export class Transactions {
  private holder?: Holder
  private readonly queue: Array<{ callId: number, resolve(txId: number): void, reject(err: PraasError): void }> = []
  private readonly blocked: Array<() => void> = []
  private nextTxId = 1

  constructor (private readonly state: TransactionState) {}

  get idle (): boolean {
    return this.holder == null && this.queue.length === 0 && this.blocked.length === 0
  }

  /** A new transaction's id, now or once those before it have ended. */
  begin (callId: number): number | Promise<number> {
    if (this.holder?.callId === callId || this.queue.some(w => w.callId === callId)) {
      throw new PraasError('BAD_REQUEST', 'a call runs one transaction at a time (a transaction inside another would wait for itself)')
    }
    if (this.holder == null) return this.grant(callId)
    if (this.queue.length >= MAX_WAITING) throw new PraasError('UNAVAILABLE', 'too many transactions waiting on this process')
    return new Promise((resolve, reject) => { this.queue.push({ callId, resolve, reject }) })
  }

  private grant (callId: number): number {
    const txId = this.nextTxId++
    this.holder = { txId, callId, writes: new Map() }
    return txId
  }

  private open (callId: number, txId: unknown): Holder {
    const holder = this.holder
    if (holder == null || holder.txId !== txId || holder.callId !== callId) throw new PraasError('BAD_REQUEST', 'that transaction has ended')
    return holder
  }

  get (callId: number, txId: unknown, key: string): Uint8Array | undefined {
    const { writes } = this.open(callId, txId)
    return writes.has(key) ? writes.get(key) : this.state.get(key)
  }

  put (callId: number, txId: unknown, key: string, value: Uint8Array | undefined): void {
    this.open(callId, txId).writes.set(key, value)
  }

  keys (callId: number, txId: unknown): string[] {
    const { writes } = this.open(callId, txId)
    const keys = new Set(this.state.keys())
    for (const [key, value] of writes) {
      if (value === undefined) keys.delete(key)
      else keys.add(key)
    }
    return [...keys]
  }

  commit (callId: number, txId: unknown): void {
    const { writes } = this.open(callId, txId)
    if (writes.size > 0) this.state.apply(writes)
    this.release()
  }

  abort (callId: number, txId: unknown): void {
    const holder = this.holder
    if (holder != null && holder.txId === txId && holder.callId === callId) this.release()
  }

  /**
   * A write outside transactions: applied now, or, while a transaction runs, once it has ended.
   * The transaction's own call may not write around it (it would wait for itself).
   */
  write (callId: number, apply: () => void): undefined | Promise<void> {
    if (this.holder == null) {
      apply()
      return undefined
    }
    if (this.holder.callId === callId) throw new PraasError('BAD_REQUEST', 'inside a transaction, write through its tx (a write beside it would wait for it)')
    if (this.blocked.length >= MAX_WAITING) throw new PraasError('UNAVAILABLE', 'too many writes waiting on this process')
    return new Promise(resolve => { this.blocked.push(() => { apply(); resolve() }) })
  }

  /** A call ended: its open transaction is dropped (its writes with it), its waiting one forgotten. */
  endCall (callId: number): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (this.queue[i].callId === callId) this.queue.splice(i, 1)[0]?.reject(new PraasError('TIMEOUT', 'the invocation has ended'))
    }
    if (this.holder?.callId === callId) this.release()
  }

  private release (): void {
    this.holder = undefined
    // the writes that waited for the transaction come first, in the order they were made
    for (const apply of this.blocked.splice(0)) apply()
    const next = this.queue.shift()
    if (next != null) next.resolve(this.grant(next.callId))
  }
}
