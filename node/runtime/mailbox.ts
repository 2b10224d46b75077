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

/**
 * A process's mailbox: unread messages by key, in arrival order. A message to a key that holds
 * unread ones is queued behind them; a waiting recv is served in the order the waiters came.
 * The mailbox holds at most `limitBytes`; a sender to a full mailbox waits (in order, so a
 * sender's messages keep their order) until a recv makes room, or until its own signal fires.
 */
export class Mailbox {
  private readonly queues = new Map<string, Message[]>()
  private readonly waiters = new Map<string, Waiter[]>()
  private readonly blocked: BlockedSend[] = []
  private bytes = 0

  constructor (private readonly limitBytes: number) {}

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
  async put (key: string, message: Message, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.blocked.length === 0 && this.handOff(key, message)) return
    const cost = message.data.byteLength + MESSAGE_OVERHEAD_BYTES
    if (cost > this.limitBytes) throw new PraasError('TOO_LARGE', `a message of ${message.data.byteLength} bytes exceeds the mailbox limit of ${this.limitBytes}`)
    if (this.blocked.length === 0 && this.bytes + cost <= this.limitBytes) {
      this.enqueue(key, message)
      return
    }
    if (this.blocked.length >= MAX_BLOCKED_SENDS) throw new PraasError('UNAVAILABLE', 'the mailbox is full and too many senders wait')
    options.signal?.throwIfAborted()
    const { promise, resolve, reject } = Promise.withResolvers<void>()
    const entry: BlockedSend = { key, message, resolve, reject, done: false }
    this.blocked.push(entry)
    const onAbort = (): void => {
      if (entry.done) return
      entry.done = true
      this.blocked.splice(this.blocked.indexOf(entry), 1)
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
  async take (from: string, key: string, options: { signal?: AbortSignal, timeoutMs?: number } = {}): Promise<Message> {
    const queue = this.queues.get(key)
    const index = queue?.findIndex(m => from === ANY_SENDER || m.from === from) ?? -1
    if (queue != null && index >= 0) {
      const [message] = queue.splice(index, 1)
      if (queue.length === 0) this.queues.delete(key)
      this.bytes -= message.data.byteLength + MESSAGE_OVERHEAD_BYTES
      this.admitBlocked()
      return message
    }
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

  private enqueue (key: string, message: Message): void {
    const queue = this.queues.get(key) ?? []
    queue.push(message)
    this.queues.set(key, queue)
    this.bytes += message.data.byteLength + MESSAGE_OVERHEAD_BYTES
  }

  /** Lets blocked senders in, oldest first, while they fit. */
  private admitBlocked (): void {
    while (this.blocked.length > 0) {
      const next = this.blocked[0]
      if (!this.handOff(next.key, next.message)) {
        const cost = next.message.data.byteLength + MESSAGE_OVERHEAD_BYTES
        if (this.bytes + cost > this.limitBytes) return
        this.enqueue(next.key, next.message)
      }
      this.blocked.shift()
      next.done = true
      next.resolve()
    }
  }

  /** Fails every waiter and blocked sender (the process is deleted or leaves this node). */
  close (reason: PraasError): void {
    for (const list of this.waiters.values()) for (const w of list) { w.done = true; w.reject(reason) }
    this.waiters.clear()
    for (const b of this.blocked) { b.done = true; b.reject(reason) }
    this.blocked.length = 0
  }
}
