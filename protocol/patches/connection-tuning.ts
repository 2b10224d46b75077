import { Socket } from 'node:net'
import { LengthPrefixedDecoder } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'

/**
 * Two fixes below the muxer, applied to each connection as the muxer is created over it (see
 * muxer.ts), measured on the invoke and channel paths of this machine. They stand in for what
 * @libp2p/tcp 11 and @chainsafe/libp2p-noise 17 do not do (no upstream issue filed yet):
 * gathering the buffers of one send into one writev (TCPSocketMultiaddrConnection.sendData),
 * and splitting Noise frames without an exception per chunk (@libp2p/utils LengthPrefixedDecoder
 * as Noise uses it). test/protocol/connection-tuning.test.ts counts the socket writes of a
 * message and fails when either shape changes (an unrecognised connection is left as it is).
 * `node scripts/patches-ab.mjs` measures each patch against stock libp2p (docs/benchmarks.md):
 *
 * - Each Noise message leaves as two buffers (its 2-byte length, then the ciphertext), and the
 *   TCP connection of @libp2p/tcp writes each buffer of a send with its own `socket.write`: two
 *   system calls per message, and the receiver may wake up for the two length bytes alone.
 *   `corkedSendData` writes the buffers of one send under `socket.cork()`, so they leave in one
 *   writev.
 * - Noise reads through a LengthPrefixedDecoder, which throws and catches a RangeError (with a
 *   stack trace) at the end of every chunk read. `NoiseFrameDecoder` splits the same frames
 *   without exceptions.
 *
 * Both reach into the shapes of @chainsafe/libp2p-noise 17 and @libp2p/tcp 11 (pinned in
 * package.json): a connection that does not look exactly as expected is left as it is.
 */

/** The parts of @libp2p/tcp's TCPSocketMultiaddrConnection used here. */
interface TcpConnection {
  socket: Socket
  sendData(data: Uint8ArrayList): { sentBytes: number, canSendMore: boolean }
}

/** The parts of @chainsafe/libp2p-noise's EncryptedMessageStream used here. */
interface NoiseConnection {
  stream: unknown
  decoder: unknown
  decrypt(chunk: Uint8Array | Uint8ArrayList): Uint8ArrayList
}

/** Sockets holding lazy writes (see sendLazily) until the end of the current burst of work. */
const holding = new WeakSet<Socket>()
/** Set while a lazy send runs (they run synchronously down to the socket). */
let lazy = false

/**
 * Runs `send`, whose socket writes may wait until the end of this burst of work (the callback
 * running now with its microtasks and ticks), or until an eager write on the same connection
 * carries them along: for what nobody waits on at once, such as the acknowledgement of a
 * message. So the acknowledgement of a message that a function answers with a message of its
 * own leaves in the same TCP segment as that answer, and the peer wakes up once for both. (Held
 * for every write, the wait of an invoke's response measured about 20 us.)
 */
export function sendLazily<T> (send: () => T): T {
  lazy = true
  try {
    return send()
  } finally {
    lazy = false
  }
}

function release (socket: Socket): void {
  if (holding.delete(socket)) socket.uncork()
}

/**
 * Writes every buffer of one send in a single writev (cork), instead of one write each; with
 * the buffers of lazy sends held before it.
 */
function corkedSendData (this: TcpConnection, data: Uint8ArrayList): { sentBytes: number, canSendMore: boolean } {
  const socket = this.socket
  const first: Uint8Array | undefined = data[Symbol.iterator]().next().value
  if (first === undefined) return { sentBytes: 0, canSendMore: true }
  const held = holding.has(socket)
  // one buffer, nothing held: nothing to gather
  if (first.byteLength === data.byteLength && !held && !lazy) return { sentBytes: first.byteLength, canSendMore: socket.write(first) }
  if (lazy && !held) {
    holding.add(socket)
    socket.cork()
    // nextTick runs once this burst's microtasks are drained, before the event loop goes on
    process.nextTick(release, socket)
  }
  let sentBytes = 0
  let canSendMore = true
  if (!held && !lazy) socket.cork()
  try {
    // Under cork a write only queues, and answers false once the queue passes the socket's
    // high-water mark: all of this send still goes out together, and that answer is passed
    // on, so the sender waits for 'drain' as it would have after the first false.
    for (const buf of data) {
      sentBytes += buf.byteLength
      canSendMore = socket.write(buf)
    }
  } finally {
    // an eager send goes out now, with whatever lazy sends held
    if (!lazy) {
      if (held) release(socket)
      else socket.uncork()
    }
  }
  return { sentBytes, canSendMore }
}

function isTcpConnection (value: unknown): value is TcpConnection {
  const conn = value as Partial<TcpConnection> | null
  return conn != null && conn.socket instanceof Socket && typeof conn.sendData === 'function' &&
    !Object.prototype.hasOwnProperty.call(conn, 'sendData')
}

function isNoiseConnection (value: unknown): value is NoiseConnection {
  const conn = value as Partial<NoiseConnection> | null
  return conn != null && typeof conn.decrypt === 'function' && conn.decoder instanceof LengthPrefixedDecoder &&
    (conn.decoder as unknown as { buffer?: unknown }).buffer instanceof Uint8ArrayList
}

/** Noise frames each message with a 2-byte big-endian length. */
const NOISE_LENGTH_BYTES = 2

/**
 * The frames of a Noise connection (2-byte big-endian length, then that many bytes), as
 * LengthPrefixedDecoder splits them for @chainsafe/libp2p-noise (`decode` returns an iterable
 * of frames; empty frames are skipped; more than `maxBufferSize` bytes buffered at once throws),
 * without an exception at the end of each chunk, and without a list object per frame: a frame
 * within one network buffer (nearly all) is a view of it.
 */
export class NoiseFrameDecoder {
  /** Unconsumed bytes, oldest first; the first may be a view past its consumed start. */
  private chunks: Uint8Array[] = []
  private bytes = 0

  constructor (private readonly maxBufferSize: number, held?: Uint8ArrayList) {
    if (held != null) for (const buf of held) this.append(buf)
  }

  decode (data: Uint8Array | Uint8ArrayList): Array<Uint8Array | Uint8ArrayList> {
    if (data instanceof Uint8Array) {
      this.append(data)
    } else {
      for (const buf of data) this.append(buf)
    }
    if (this.bytes > this.maxBufferSize) {
      throw new RangeError(`Buffer length limit exceeded - ${this.bytes}/${this.maxBufferSize}`)
    }
    const frames: Array<Uint8Array | Uint8ArrayList> = []
    while (this.bytes >= NOISE_LENGTH_BYTES) {
      let first = this.chunks[0]
      if (first.byteLength < NOISE_LENGTH_BYTES) {
        // a length split across buffers (rare): join the two
        const joined = new Uint8Array(first.byteLength + this.chunks[1].byteLength)
        joined.set(first)
        joined.set(this.chunks[1], first.byteLength)
        this.chunks.splice(0, 2, joined)
        first = joined
      }
      const end = NOISE_LENGTH_BYTES + ((first[0] << 8) | first[1])
      if (end > this.bytes) break
      if (end <= first.byteLength) {
        if (end > NOISE_LENGTH_BYTES) frames.push(first.subarray(NOISE_LENGTH_BYTES, end))
        if (end === first.byteLength) this.chunks.shift()
        else this.chunks[0] = first.subarray(end)
      } else {
        const frame = new Uint8ArrayList()
        let need = end
        let used = 0
        while (need > 0) {
          const chunk = this.chunks[used]
          if (chunk.byteLength <= need) {
            frame.append(chunk)
            used++
            need -= chunk.byteLength
          } else {
            frame.append(chunk.subarray(0, need))
            this.chunks[used] = chunk.subarray(need)
            need = 0
          }
        }
        this.chunks.splice(0, used)
        frames.push(frame.sublist(NOISE_LENGTH_BYTES))
      }
      this.bytes -= end
    }
    return frames
  }

  private append (buf: Uint8Array): void {
    if (buf.byteLength === 0) return
    this.chunks.push(buf)
    this.bytes += buf.byteLength
  }
}

/**
 * Tunes the connection a muxer is about to run over: the Noise layer's reader, and the TCP
 * socket under it. Anything unrecognised is left as it is: another encrypter, a connection tuned
 * already, a socket behind pnet (Noise then runs over pnet's stream, not the TCP connection).
 */
export function tuneConnection (conn: unknown): void {
  if (!isNoiseConnection(conn)) return
  const stock = conn.decoder as unknown as { buffer: Uint8ArrayList, maxBufferSize: number }
  conn.decoder = new NoiseFrameDecoder(stock.maxBufferSize, stock.buffer)
  const raw = conn.stream
  if (isTcpConnection(raw)) raw.sendData = corkedSendData
}
