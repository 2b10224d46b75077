/**
 * Sends the messages of one event-loop turn together. A postMessage costs a structured clone and
 * a wake-up of the other thread, so the first message of a turn goes out at once (no added
 * latency) and the ones after it in the same turn go out as one array at the end of the turn.
 * A message may name buffers to transfer with it (they go in its batch's transfer list).
 */
export class TurnBatcher<T> {
  private queue: T[] = []
  private transfer: ArrayBuffer[] = []
  private turnOpen = false

  constructor (private readonly send: (batch: T[], transfer: ArrayBuffer[]) => void) {}

  push (message: T, transfer?: ArrayBuffer[]): void {
    if (this.turnOpen) {
      this.queue.push(message)
      if (transfer != null) this.transfer.push(...transfer)
      return
    }
    this.turnOpen = true
    setImmediate(this.endTurn)
    this.send([message], transfer ?? [])
  }

  /**
   * Sends what this turn queued now, before the turn ends: for a thread about to poll for an
   * answer (doorbell.ts), which would otherwise wait for replies to messages it has not sent.
   */
  flush (): void {
    if (this.queue.length === 0) return
    const batch = this.queue
    const transfer = this.transfer
    this.queue = []
    this.transfer = []
    this.send(batch, transfer)
  }

  private readonly endTurn = (): void => {
    this.turnOpen = false
    this.flush()
  }
}
