/**
 * A count of bytes a peer has made this node hold (requests being received or run), against a
 * limit, optionally inside a wider one (a connection's budget inside the node's). `take` either
 * takes all it asks for from every level or nothing.
 */
export class ByteBudget {
  private held = 0

  constructor (readonly limit: number, private readonly parent?: ByteBudget) {}

  get used (): number {
    return this.held
  }

  take (bytes: number): boolean {
    if (this.held + bytes > this.limit) return false
    if (this.parent != null && !this.parent.take(bytes)) return false
    this.held += bytes
    return true
  }

  give (bytes: number): void {
    this.held -= bytes
    this.parent?.give(bytes)
  }
}

/** Bounds on what a stream's peer can make a node hold (see FrameReader). */
export interface InboundLimits {
  /**
   * Checks a request at its first frame; an error refuses it (answered at once, its later frames
   * discarded unread), e.g. UNAUTHORIZED for a peer without the right.
   */
  admit?(pid: string, fn: string, size: number): Error | undefined
  /** Declared bytes of the requests being received or run (typically the connection's budget). */
  budget?: ByteBudget
  /** A request whose frames stop arriving, or a frame that trickles in, is dropped after this long. Default 30 s. */
  partialTimeoutMs?: number
}

export const DEFAULT_PARTIAL_TIMEOUT_MS = 30_000
