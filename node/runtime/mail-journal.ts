/**
 * What a mailbox changed since its last cut (replication): the messages that arrived and are
 * still unread, and the ids of messages taken that had been cut before. A message put and taken
 * within one cut (handed to a waiting recv, or taken before the cut) leaves neither: no replica
 * needs to hold it.
 */
export interface MailJournal {
  puts: Array<{ id: number, key: string, from: string, data: Uint8Array }>
  takes: number[]
}

type Put = MailJournal['puts'][number]

/**
 * An empty map that refuses writes, for many owners to share until they first write (a node holds
 * thousands of idle processes, and an empty Map costs about 200 bytes): a missed case fails
 * loudly rather than mixing owners. `of` names the owners in the error.
 */
export function neverWritten<K, V> (of: string): Map<K, V> {
  const map = new Map<K, V>()
  map.set = () => { throw new Error(`the shared empty map of ${of} is never written`) }
  return map
}
const NO_PUTS = neverWritten<number, Put>('mail journals')
const NO_WAITERS = neverWritten<number, () => void>('mail journals')
const NO_TAKES: number[] = Object.freeze([]) as unknown as number[]

/**
 * The replication side of a process's mailbox (mailbox.ts): the journal of changes since the last
 * cut, and the senders that wait for their message to be durable or taken. While empty, each of
 * its collections is a shared one that is never written: a node holds thousands of idle
 * processes, and an empty Map costs about 200 bytes.
 */
export class MailChanges {
  private puts = NO_PUTS
  private takes = NO_TAKES
  /** Queued messages whose senders wait for them (`settled`), by id: each is told if a recv takes it first. */
  private awaited = NO_WAITERS

  /** Whether anything changed since the last cut that a replica must hear of. */
  get any (): boolean {
    return this.puts.size > 0 || this.takes.length > 0
  }

  /** Whether message `id` arrived after the last cut and is still unread. */
  uncut (id: number): boolean {
    return this.puts.has(id)
  }

  /** Whether the sender of message `id` waits to hear that it is durable or taken. */
  waits (id: number): boolean {
    return this.awaited.has(id)
  }

  arrived (id: number, key: string, from: string, data: Uint8Array): void {
    if (this.puts === NO_PUTS) this.puts = new Map()
    this.puts.set(id, { id, key, from, data })
  }

  /** Message `id` left the mailbox (taken or withdrawn); returns whether its sender waits to hear of it. */
  left (id: number): boolean {
    if (!this.puts.delete(id)) {
      if (this.takes === NO_TAKES) this.takes = []
      this.takes.push(id)
    }
    const acknowledge = this.awaited.get(id)
    acknowledge?.()
    return acknowledge != null
  }

  /**
   * Resolves once message `id` is on the replicas (`durable`) or has left the mailbox, whichever
   * comes first: a message in the hands of a recv of this activation is as good as handed over.
   */
  async settled (id: number, durable: Promise<void>): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>()
    if (this.awaited === NO_WAITERS) this.awaited = new Map()
    this.awaited.set(id, resolve)
    try {
      await Promise.race([durable, promise])
    } finally {
      this.awaited.delete(id)
      if (this.awaited.size === 0) this.awaited = NO_WAITERS
    }
  }

  /** What changed since the last cut, for one replication batch; the journal starts again. */
  cut (): MailJournal {
    const cut = { puts: [...this.puts.values()], takes: this.takes === NO_TAKES ? [] : this.takes }
    this.puts = NO_PUTS
    this.takes = NO_TAKES
    return cut
  }
}
