import { yamux } from '@libp2p/yamux'
import { StreamState, YamuxStream } from '@libp2p/yamux/stream'
import { tuneConnection } from './connection-tuning.js'

interface WindowFields {
  state: StreamState
  recvWindow: number
  recvWindowCapacity: number
}

let tuned = false

/**
 * Stands in for: the receive-window rule of Go's yamux (hashicorp/yamux, stream.go
 * sendWindowUpdate: no update while less than half the window is used) and of rust-yamux since
 * libp2p/rust-yamux#109, which @libp2p/yamux 8 (js-libp2p monorepo, packages/stream-multiplexer-yamux)
 * does not have. Patched: YamuxStream.prototype.sendWindowUpdate, reading the stream's `state`,
 * `recvWindow` and `recvWindowCapacity`. test/protocol/muxer.test.ts fails when that shape
 * changes. Measured again on @libp2p/yamux 8.0.3 (the same code as @chainsafe/libp2p-yamux 8.0.1):
 * see docs/benchmarks.md.
 *
 * js yamux answers every data frame with a window update, which here costs a Noise frame and
 * two socket writes per message. On an invoke stream the update for a request goes out before
 * the response (the function runs asynchronously), so it sits on every call's critical path:
 * measured at about 100 us of a 500 us round trip on this machine. Go's yamux sends an update
 * only once less than half of the receive window is left; this restores that rule. Frames that
 * carry flags (SYN/ACK) and paused streams keep the stock behaviour; the remote can always
 * send at least half a window, so no stream can stall.
 */
function tuneWindowUpdates (): void {
  if (tuned) return
  tuned = true
  const stock = YamuxStream.prototype.sendWindowUpdate
  YamuxStream.prototype.sendWindowUpdate = function (this: YamuxStream) {
    const fields = this as unknown as WindowFields
    if (fields.state === StreamState.Established && fields.recvWindowCapacity * 2 >= fields.recvWindow) return
    try {
      stock.call(this)
    } catch (err) {
      // A new stream sends its SYN from a microtask (yamux's muxer.js); if the connection closed
      // in between, the write throws where nobody can catch it and takes the process down.
      // A window update on a closed connection has nothing left to do.
      this.log?.('window update on a closed connection: %s', (err as Error).message)
    }
  }
}

/** How often yamux pings each connection (also what keeps a NAT's mapping of a quiet client connection). */
const KEEP_ALIVE_MS = 90_000

/**
 * The stream muxer of every praas peer (nodes and clients): yamux with lazy window updates. Each
 * connection it runs over is tuned first (connection-tuning.ts: one socket write per Noise
 * message, a Noise reader without exceptions).
 */
export function praasYamux (): ReturnType<typeof yamux> {
  tuneWindowUpdates()
  // yamux pings every connection every 30 s by default: between nodes SWIM probes each member
  // several times a minute already, and a ping wakes both ends of every connection of an idle mesh
  const stock = yamux({ keepAliveInterval: KEEP_ALIVE_MS })
  return () => {
    const factory = stock()
    const create = factory.createStreamMuxer.bind(factory)
    factory.createStreamMuxer = (conn) => {
      tuneConnection(conn)
      return create(conn)
    }
    return factory
  }
}
