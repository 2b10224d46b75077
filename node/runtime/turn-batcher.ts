/**
 * Sends the messages of one event-loop turn together. A postMessage costs a structured clone and
 * a wake-up of the other thread, so the first message of a turn goes out at once (no added
 * latency) and the ones after it in the same turn go out as one array at the end of the turn.
 */
export class TurnBatcher<T> {
  private queue: T[] = []
  private turnOpen = false

  constructor (private readonly send: (batch: T[]) => void) {}

  push (message: T): void {
    if (this.turnOpen) {
      this.queue.push(message)
      return
    }
    this.turnOpen = true
    setImmediate(this.endTurn)
    this.send([message])
  }

  private readonly endTurn = (): void => {
    this.turnOpen = false
    if (this.queue.length === 0) return
    const batch = this.queue
    this.queue = []
    this.send(batch)
  }
}
