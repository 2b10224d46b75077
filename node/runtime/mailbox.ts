import { PraasError } from '../../protocol/index.js'

/** What recv returns: the sender (a pid, or a client's peer id) and the message bytes. */
export interface Message {
  from: string
  data: Uint8Array
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
  resolve(): void
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

/**
 * A process's mailbox: unread messages by key, in arrival order. A message to a key that holds
 * unread ones is queued behind them; a waiting recv is served in the order the waiters came.
 * The mailbox holds at most `limitBytes`, and one sender at most a share of it (`senderShare`):
 * a sender that has filled its share, or finds the mailbox full, waits (in order, so its messages
 * keep their order) until a recv makes room, or until its own signal fires; other senders go on.
 * Waiting senders are let in round-robin, one message each in turn.
 */
export class Mailbox {
  private readonly queues = new Map<string, Message[]>()
  private readonly waiters = new Map<string, Waiter[]>()
  /** Blocked sends per sender, each in the order sent. */
  private readonly blocked = new Map<string, BlockedSend[]>()
  private blockedCount = 0
  /** Unread bytes per sender. */
  private readonly bySender = new Map<string, number>()
  private readonly senderLimit: number
  private bytes = 0

  constructor (private readonly limitBytes: number) {
    this.senderLimit = senderShare(limitBytes)
  }

  get size (): number {
    return this.bytes
  }

  /** Every unread message, for a swap image (in order per key). */
  unread (): Array<{ key: string, message: Message }> {
    return [...this.queues].flatMap(([key, queue]) => queue.map(message => ({ key, message })))
  }

  /** Puts back a message of a swap image or a migration, in order; the limit does not apply (it held them before). */
  restore (key: string, message: Message): void {
    this.enqueue(key, message)
  }

  /** Delivers a message; resolves once it is in the mailbox (or taken by a waiting recv). */
  /**
   * Puts a message in at once if it may go in without waiting (handed to a waiting take, or
   * room in the mailbox and none of its sender's messages blocked before it): true if it went in.
   */
  putNow (key: string, message: Message): boolean {
    const queue = this.blocked.get(message.from)
    if (queue == null && this.handOff(key, message)) return true
    const cost = message.data.byteLength + MESSAGE_OVERHEAD_BYTES
    if (cost > this.senderLimit) throw new PraasError('TOO_LARGE', `a message of ${message.data.byteLength} bytes exceeds what one sender may hold in this mailbox (${this.senderLimit})`)
    if (queue == null && this.fits(message.from, cost)) {
      this.enqueue(key, message)
      return true
    }
    return false
  }

  async put (key: string, message: Message, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.putNow(key, message)) return
    const cost = message.data.byteLength + MESSAGE_OVERHEAD_BYTES
    const queue = this.blocked.get(message.from)
    if (this.blockedCount >= MAX_BLOCKED_SENDS) throw new PraasError('UNAVAILABLE', 'the mailbox is full and too many senders wait')
    options.signal?.throwIfAborted()
    const { promise, resolve, reject } = Promise.withResolvers<void>()
    const entry: BlockedSend = { cost, key, message, resolve, reject, done: false }
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
      await promise
    } finally {
      options.signal?.removeEventListener('abort', onAbort)
    }
  }

  /**
   * Takes the oldest message under `key` from `from` (or any sender), waiting for one if needed:
   * until `signal` fires or `timeoutMs` pass (0 or none: no limit), then it fails with TIMEOUT.
   */
  /** Takes the oldest message under `key` from `from` (or anyone, ANY_SENDER) if one is there now. */
  takeNow (from: string, key: string): Message | undefined {
    const queue = this.queues.get(key)
    const index = queue?.findIndex(m => from === ANY_SENDER || m.from === from) ?? -1
    if (queue == null || index < 0) return undefined
    const [message] = queue.splice(index, 1)
    if (queue.length === 0) this.queues.delete(key)
    const cost = message.data.byteLength + MESSAGE_OVERHEAD_BYTES
    this.bytes -= cost
    const held = (this.bySender.get(message.from) ?? 0) - cost
    if (held > 0) this.bySender.set(message.from, held)
    else this.bySender.delete(message.from)
    this.admitBlocked()
    return message
  }

  async take (from: string, key: string, options: { signal?: AbortSignal, timeoutMs?: number } = {}): Promise<Message> {
    const now = this.takeNow(from, key)
    if (now != null) return now
    options.signal?.throwIfAborted()
    const { promise, resolve, reject } = Promise.withResolvers<Message>()
    const waiter: Waiter = { from, resolve, reject, done: false }
    const list = this.waiters.get(key) ?? []
    list.push(waiter)
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

  /** Gives the message to the first waiter that wants it, if any. */
  private handOff (key: string, message: Message): boolean {
    const list = this.waiters.get(key)
    if (list == null) return false
    const waiter = list.find(w => w.from === ANY_SENDER || w.from === message.from)
    if (waiter == null) return false
    waiter.done = true
    this.removeWaiter(key, waiter)
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

  private enqueue (key: string, message: Message): void {
    const queue = this.queues.get(key) ?? []
    queue.push(message)
    this.queues.set(key, queue)
    const cost = message.data.byteLength + MESSAGE_OVERHEAD_BYTES
    this.bytes += cost
    this.bySender.set(message.from, (this.bySender.get(message.from) ?? 0) + cost)
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
        if (!this.handOff(next.key, next.message)) {
          if (!this.fits(from, next.cost)) continue
          this.enqueue(next.key, next.message)
        }
        this.unblock(next)
        next.done = true
        next.resolve()
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
