import { PraasError } from '../../protocol/index.js'
import { MailChanges, neverWritten } from './mail-journal.js'
import type { MailJournal } from './mail-journal.js'

export type { MailJournal }

/** What recv returns: the sender (a pid, or a client's peer id) and the message bytes. */
export interface Message {
  from: string
  data: Uint8Array
}

/** A message in the mailbox, with its number (ids grow in arrival order and are never reused). */
interface Letter extends Message {
  id: number
}

/** An unread message as a swap image or a replica keeps it. */
export interface NumberedMessage {
  id: number
  key: string
  message: Message
}

interface Waiter {
  from: string
  resolve(message: Message): void
  reject(err: PraasError): void
  done: boolean
}

interface BlockedSend {
  cost: number
  key: string
  message: Message
  resolve(id: number): void
  reject(err: PraasError): void
  done: boolean
}

/** Bookkeeping per message, so that many empty messages still count against the limit. */
const MESSAGE_OVERHEAD_BYTES = 64
/** Senders waiting for room, at most; past this a send fails UNAVAILABLE (nothing is dropped silently). */
const MAX_BLOCKED_SENDS = 10_000

export const ANY_SENDER = '*'

/** The share of a mailbox one sender may fill, at least one largest message. */
export function senderShare (limitBytes: number): number {
  return Math.min(limitBytes, Math.max(Math.floor(limitBytes / 4), 16 * 1024 * 1024 + MESSAGE_OVERHEAD_BYTES))
}

/** The maps of a mailbox that never held anything: shared, and never written (see Mailbox). */
const NONE = neverWritten<never, never>('mailboxes')

/**
 * A process's mailbox: unread messages by key, in arrival order. A message to a key that holds
 * unread ones is queued behind them; a waiting recv is served in the order the waiters came.
 * The mailbox holds at most `limitBytes`, and one sender at most a share of it (`senderShare`):
 * a sender that has filled its share, or finds the mailbox full, waits (in order, so its messages
 * keep their order) until a recv makes room, or until its own signal fires; other senders go on.
 * Waiting senders are let in round-robin, one message each in turn.
 */
export class Mailbox {
  // Until its first write each of these is the one shared empty map (NONE): a node holds
  // thousands of idle processes, and an empty Map with its table costs about 200 bytes.
  private queues: Map<string, Letter[]> = NONE
  private waiters: Map<string, Waiter[]> = NONE
  /** Blocked sends per sender, each in the order sent. */
  private blocked: Map<string, BlockedSend[]> = NONE
  private blockedCount = 0
  /** Unread bytes per sender. */
  private bySender: Map<string, number> = NONE
  private readonly senderLimit: number
  private bytes = 0
  private nextId = 1
  /** What changed since the last cut, kept only where the mailbox is replicated. */
  private readonly changes?: MailChanges

  /** `journaled`: keep what changes for replication (`cutJournal`). */
  constructor (private readonly limitBytes: number, options: { journaled?: boolean } = {}) {
    this.senderLimit = senderShare(limitBytes)
    if (options.journaled === true) this.changes = new MailChanges()
  }

  get size (): number {
    return this.bytes
  }

  /** Every unread message with its id, in arrival order, for a swap image or a full copy. */
  unread (): NumberedMessage[] {
    return [...this.queues].flatMap(([key, queue]) => queue.map(letter => ({ id: letter.id, key, message: { from: letter.from, data: letter.data } })))
      .sort((a, b) => a.id - b.id)
  }

  /** Puts back a message of a swap image or a migration, with its id; the limit does not apply (it held them before). */
  restore (key: string, message: Message, id: number): void {
    this.enqueue(key, { from: message.from, data: message.data, id })
    if (id >= this.nextId) this.nextId = id + 1
  }

  /** Whether anything changed since the last cut that a replica must hear of. */
  get journaled (): boolean {
    return this.changes?.any === true
  }

  /** Whether message `id` is unread and not cut yet: its sender waits for the next cut to be on the replicas. */
  uncut (id: number): boolean {
    return this.changes?.uncut(id) === true
  }

  /**
   * Resolves once message `id` is on the replicas (`durable`) or taken by a recv, whichever comes
   * first: a message in the hands of a recv of this activation is as good as handed over.
   */
  async settled (id: number, durable: Promise<void>): Promise<void> {
    await (this.changes?.settled(id, durable) ?? durable)
  }

  /** What changed since the last cut, for one replication batch; the journal starts again. */
  cutJournal (): MailJournal {
    return this.changes?.cut() ?? { puts: [], takes: [] }
  }

  /**
   * Takes back message `id` under `key` if it is still unread: its sender was told it did not
   * arrive (its batch could not be made durable), and may send it again. A replica that got it
   * drops it with the next batch. Returns whether it was there.
   */
  withdraw (key: string, id: number): boolean {
    const queue = this.queues.get(key)
    const index = queue?.findIndex(letter => letter.id === id) ?? -1
    if (queue == null || index < 0) return false
    const [letter] = queue.splice(index, 1)
    if (queue.length === 0) this.queues.delete(key)
    this.unqueued(letter)
    this.changes?.left(id)
    this.admitBlocked()
    return true
  }

  /**
   * Puts a message in at once if it may go in without waiting (handed to a waiting take, or room
   * in the mailbox and none of its sender's messages blocked before it): its id if it went in.
   * Where the mailbox is replicated, a message that is `uncut` is acknowledged to its sender once
   * it is `settled` (runtime.ts `deliver`).
   */
  putNow (key: string, message: Message): number | undefined {
    const queue = this.blocked.get(message.from)
    if (queue == null && this.handOff(key, message)) return this.nextId - 1
    const cost = message.data.byteLength + MESSAGE_OVERHEAD_BYTES
    if (cost > this.senderLimit) throw new PraasError('TOO_LARGE', `a message of ${message.data.byteLength} bytes exceeds what one sender may hold in this mailbox (${this.senderLimit})`)
    if (queue == null && this.fits(message.from, cost)) return this.arrive(key, message)
    return undefined
  }

  /** Delivers a message; resolves with its id once it is in the mailbox (or taken by a waiting recv). */
  async put (key: string, message: Message, options: { signal?: AbortSignal } = {}): Promise<number> {
    const now = this.putNow(key, message)
    if (now != null) return now
    const cost = message.data.byteLength + MESSAGE_OVERHEAD_BYTES
    const queue = this.blocked.get(message.from)
    if (this.blockedCount >= MAX_BLOCKED_SENDS) throw new PraasError('UNAVAILABLE', 'the mailbox is full and too many senders wait')
    options.signal?.throwIfAborted()
    const { promise, resolve, reject } = Promise.withResolvers<number>()
    const entry: BlockedSend = { cost, key, message, resolve, reject, done: false }
    if (this.blocked === NONE) this.blocked = new Map()
    if (queue == null) this.blocked.set(message.from, [entry])
    else queue.push(entry)
    this.blockedCount++
    const onAbort = (): void => {
      if (entry.done) return
      entry.done = true
      this.unblock(entry)
      reject(new PraasError('TIMEOUT', 'the receiver\'s mailbox stayed full'))
    }
    options.signal?.addEventListener('abort', onAbort, { once: true })
    try {
      return await promise
    } finally {
      options.signal?.removeEventListener('abort', onAbort)
    }
  }

  /** A message that fits goes into its queue, numbered, and into the journal. */
  private arrive (key: string, message: Message): number {
    const letter: Letter = { from: message.from, data: message.data, id: this.nextId++ }
    this.enqueue(key, letter)
    this.changes?.arrived(letter.id, key, letter.from, letter.data)
    return letter.id
  }

  /** Takes the oldest message under `key` from `from` (or anyone, ANY_SENDER) if one is there now. */
  takeNow (from: string, key: string): Message | undefined {
    const queue = this.queues.get(key)
    const index = queue?.findIndex(m => from === ANY_SENDER || m.from === from) ?? -1
    if (queue == null || index < 0) return undefined
    const letter = queue[index]
    // Its sender waits to hear that it arrived: that answer leaves before a recv acts on it (as it
    // would have at once without replication), so that a reply does not overtake it: `take` waits a turn.
    if (this.changes?.waits(letter.id) === true) return undefined
    return this.takeAt(key, queue, index)
  }

  /** Takes the letter at `index` of `key`'s queue out of the mailbox. */
  private takeAt (key: string, queue: Letter[], index: number): Message {
    const [letter] = queue.splice(index, 1)
    if (queue.length === 0) this.queues.delete(key)
    this.unqueued(letter)
    this.changes?.left(letter.id)
    this.admitBlocked()
    return { from: letter.from, data: letter.data }
  }

  /**
   * Takes the oldest message under `key` from `from` (or any sender), waiting for one if needed:
   * until `signal` fires or `timeoutMs` pass (0 or none: no limit), then it fails with TIMEOUT.
   */
  async take (from: string, key: string, options: { signal?: AbortSignal, timeoutMs?: number } = {}): Promise<Message> {
    const now = this.takeNow(from, key)
    if (now != null) return now
    const queue = this.queues.get(key)
    const index = queue?.findIndex(m => from === ANY_SENDER || m.from === from) ?? -1
    if (queue != null && index >= 0) {
      const message = this.takeAt(key, queue, index)
      await new Promise(resolve => setImmediate(resolve))
      return message
    }
    options.signal?.throwIfAborted()
    const { promise, resolve, reject } = Promise.withResolvers<Message>()
    const waiter: Waiter = { from, resolve, reject, done: false }
    const list = this.waiters.get(key) ?? []
    list.push(waiter)
    if (this.waiters === NONE) this.waiters = new Map()
    this.waiters.set(key, list)
    const onAbort = (): void => {
      if (waiter.done) return
      waiter.done = true
      this.removeWaiter(key, waiter)
      reject(new PraasError('TIMEOUT', `no message under ${key} arrived in time`))
    }
    // A timer of its own rather than an AbortSignal: a recv that waits is on the message path.
    const timer = options.timeoutMs != null && options.timeoutMs > 0 ? setTimeout(onAbort, options.timeoutMs) : undefined
    options.signal?.addEventListener('abort', onAbort, { once: true })
    try {
      return await promise
    } finally {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
    }
  }

  /** Gives the message to the first waiter that wants it, if any: it is numbered, and taken before any cut (nothing to journal). */
  private handOff (key: string, message: Message): boolean {
    const list = this.waiters.get(key)
    if (list == null) return false
    const waiter = list.find(w => w.from === ANY_SENDER || w.from === message.from)
    if (waiter == null) return false
    waiter.done = true
    this.removeWaiter(key, waiter)
    this.nextId++
    waiter.resolve(message)
    return true
  }

  private removeWaiter (key: string, waiter: Waiter): void {
    const list = this.waiters.get(key)
    if (list == null) return
    list.splice(list.indexOf(waiter), 1)
    if (list.length === 0) this.waiters.delete(key)
  }

  private fits (from: string, cost: number): boolean {
    return this.bytes + cost <= this.limitBytes && (this.bySender.get(from) ?? 0) + cost <= this.senderLimit
  }

  /** A letter left its queue (taken or withdrawn): its bytes are free. */
  private unqueued (letter: Letter): void {
    const cost = letter.data.byteLength + MESSAGE_OVERHEAD_BYTES
    this.bytes -= cost
    const held = (this.bySender.get(letter.from) ?? 0) - cost
    if (held > 0) this.bySender.set(letter.from, held)
    else this.bySender.delete(letter.from)
  }

  private enqueue (key: string, letter: Letter): void {
    const queue = this.queues.get(key) ?? []
    queue.push(letter)
    if (this.queues === NONE) this.queues = new Map()
    this.queues.set(key, queue)
    const cost = letter.data.byteLength + MESSAGE_OVERHEAD_BYTES
    this.bytes += cost
    if (this.bySender === NONE) this.bySender = new Map()
    this.bySender.set(letter.from, (this.bySender.get(letter.from) ?? 0) + cost)
  }

  private unblock (entry: BlockedSend): void {
    const queue = this.blocked.get(entry.message.from)
    if (queue == null) return
    const at = queue.indexOf(entry)
    if (at < 0) return
    queue.splice(at, 1)
    this.blockedCount--
    if (queue.length === 0) this.blocked.delete(entry.message.from)
  }

  /** Lets blocked senders in, one message per sender in turn, while their messages fit. */
  private admitBlocked (): void {
    let progress = true
    while (progress && this.blockedCount > 0) {
      progress = false
      for (const [from, queue] of [...this.blocked]) {
        const next = queue[0]
        let id: number
        if (this.handOff(next.key, next.message)) {
          id = this.nextId - 1
        } else {
          if (!this.fits(from, next.cost)) continue
          id = this.arrive(next.key, next.message)
        }
        this.unblock(next)
        next.done = true
        next.resolve(id)
        progress = true
        // round-robin: this sender goes to the back of the line
        const rest = this.blocked.get(from)
        if (rest != null) {
          this.blocked.delete(from)
          this.blocked.set(from, rest)
        }
      }
    }
  }

  /** Fails every waiter and blocked sender (the process is deleted or leaves this node). */
  close (reason: PraasError): void {
    for (const list of this.waiters.values()) for (const w of list) { w.done = true; w.reject(reason) }
    this.waiters.clear()
    for (const queue of this.blocked.values()) for (const b of queue) { b.done = true; b.reject(reason) }
    this.blocked.clear()
    this.blockedCount = 0
  }
}
