// The Redis relay baseline of `ipc.oneway`: two OS processes play ping-pong through a real
// redis-server, each message an LPUSH onto the other's list and a BLPOP off its own. One-way =
// half the pinger's round trip, the same halving as the praas app's. Each side writes its LPUSH
// and its next BLPOP in one write (pipelined), the fastest a relay client can go.
//   pinger: forked by the harness (argv[2] = the ClientRequest; target = {port, prefix} as JSON)
//   ponger: `redis-relay.js --pong PORT PREFIX MAX_ROUNDS`, prints "ready" once connected
// The RESP client is the few lines below over node:net: no dependency.
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import type { ClientReport, ClientRequest } from '../client-main.js'
import { ONEWAY_BYTES, onewayCounts, reportMain } from '../ipc-child.js'
import { announce, exitWithParent } from '../server-main.js'
import { summarize } from '../stats.js'

export interface RedisRelayTarget { port: number, prefix: string }

type Reply = string | number | Buffer | null | Error | Reply[]

const CRLF = Buffer.from('\r\n')
/** The sequence number that tells the ponger to stop (first 4 bytes of a message). */
const STOP = 0xffffffff
/** BLPOP's own timeout, in seconds: a side whose partner is gone stops waiting. */
const BLPOP_TIMEOUT_S = '10'

function encode (args: Array<string | Uint8Array>): Uint8Array[] {
  const parts: Uint8Array[] = [Buffer.from(`*${args.length}\r\n`)]
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg) : arg
    parts.push(Buffer.from(`$${bytes.byteLength}\r\n`), bytes, CRLF)
  }
  return parts
}

/** One reply at `at`, with where the next begins; undefined while it is incomplete. */
function parse (buf: Buffer, at: number): [Reply, number] | undefined {
  const eol = buf.indexOf(CRLF, at)
  if (eol < 0) return undefined
  const line = buf.toString('latin1', at + 1, eol)
  const next = eol + 2
  switch (buf[at]) {
    case 0x2b: return [line, next] // +
    case 0x2d: return [new Error(line), next] // -
    case 0x3a: return [Number(line), next] // :
    case 0x24: { // $
      const length = Number(line)
      if (length < 0) return [null, next]
      if (buf.byteLength < next + length + 2) return undefined
      return [buf.subarray(next, next + length), next + length + 2]
    }
    case 0x2a: { // *
      const count = Number(line)
      if (count < 0) return [null, next]
      const items: Reply[] = []
      let pos = next
      for (let i = 0; i < count; i++) {
        const item = parse(buf, pos)
        if (item == null) return undefined
        items.push(item[0])
        pos = item[1]
      }
      return [items, pos]
    }
    default: throw new Error(`not a RESP reply: ${JSON.stringify(buf.toString('latin1', at, Math.min(buf.byteLength, at + 40)))}`)
  }
}

/** A minimal RESP2 connection: commands written together, replies handed back in order. */
class Redis {
  private buffer: Buffer = Buffer.alloc(0)
  private readonly waiting: Array<{ resolve(reply: Reply): void, reject(err: Error): void }> = []

  private constructor (private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => { this.onData(chunk) })
    socket.on('close', () => { for (const w of this.waiting.splice(0)) w.reject(new Error('redis connection closed')) })
    socket.on('error', () => {})
  }

  static async connect (port: number): Promise<Redis> {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true })
    await once(socket, 'connect')
    return new Redis(socket)
  }

  private onData (chunk: Buffer): void {
    this.buffer = this.buffer.byteLength === 0 ? chunk : Buffer.concat([this.buffer, chunk])
    let at = 0
    for (let reply = parse(this.buffer, at); reply != null; reply = parse(this.buffer, at)) {
      at = reply[1]
      const waiter = this.waiting.shift()
      if (reply[0] instanceof Error) waiter?.reject(reply[0]); else waiter?.resolve(reply[0])
    }
    // the replies handed out may still point into the old buffer: copy what is left
    this.buffer = at === 0 ? this.buffer : Buffer.from(this.buffer.subarray(at))
  }

  /** Sends the commands in one write and resolves with their replies. */
  async pipeline (...commands: Array<Array<string | Uint8Array>>): Promise<Reply[]> {
    const replies = commands.map(async () => await new Promise<Reply>((resolve, reject) => { this.waiting.push({ resolve, reject }) }))
    this.socket.write(Buffer.concat(commands.flatMap(encode)))
    return await Promise.all(replies)
  }

  close (): void {
    this.socket.destroy()
  }
}

const lists = (prefix: string): { ping: string, pong: string } => ({ ping: `${prefix}:ping`, pong: `${prefix}:pong` })

/** The message of a BLPOP reply ([list, value]); throws on a timeout (null). */
function popped (reply: Reply): Buffer {
  if (!Array.isArray(reply) || !Buffer.isBuffer(reply[1])) throw new Error(`BLPOP got nothing within ${BLPOP_TIMEOUT_S} s`)
  return reply[1]
}

const seqOf = (bytes: Uint8Array): number => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0)

async function pong (port: number, prefix: string, maxRounds: number): Promise<void> {
  const redis = await Redis.connect(port)
  const { ping, pong } = lists(prefix)
  exitWithParent(() => { redis.close() })
  announce('ready')
  try {
    let [reply] = await redis.pipeline(['BLPOP', ping, BLPOP_TIMEOUT_S])
    for (let i = 0; i < maxRounds; i++) {
      const message = popped(reply)
      if (seqOf(message) === STOP) break
      ;[, reply] = await redis.pipeline(['LPUSH', pong, message], ['BLPOP', ping, BLPOP_TIMEOUT_S])
    }
  } finally {
    redis.close()
  }
  process.exit(0)
}

async function measure (request: ClientRequest): Promise<{ report: ClientReport, close(): Promise<void> }> {
  const target: RedisRelayTarget = JSON.parse(request.target)
  const redis = await Redis.connect(target.port)
  const { ping, pong } = lists(target.prefix)
  const counts = onewayCounts(request.plan)
  const payload = Buffer.alloc(ONEWAY_BYTES)
  const samples = new Float64Array(counts.rounds)
  let n = 0
  let seq = 0
  const round = async (): Promise<number> => {
    payload.writeUInt32BE(seq)
    const start = performance.now()
    const [, reply] = await redis.pipeline(['LPUSH', ping, payload], ['BLPOP', pong, BLPOP_TIMEOUT_S])
    const oneway = (performance.now() - start) * 1000 / 2
    const message = popped(reply)
    if (seqOf(message) !== seq || message.byteLength !== ONEWAY_BYTES) throw new Error(`pong ${seqOf(message)} arrived where ${seq} was due`)
    seq++
    return oneway
  }
  process.stderr.write(`  ${request.source}: ping-pong of ${ONEWAY_BYTES} B through redis-server (LPUSH/BLPOP)\n`)
  try {
    let deadline = performance.now() + counts.maxMs
    for (let i = 0; i < counts.warmup && performance.now() < deadline; i++) await round()
    deadline = performance.now() + counts.maxMs
    while (n < counts.rounds && performance.now() < deadline) samples[n++] = await round()
  } finally {
    payload.writeUInt32BE(STOP)
    await redis.pipeline(['LPUSH', ping, payload]).catch(() => {})
    redis.close()
  }
  const oneway = summarize(samples.subarray(0, n))
  if (oneway.n === 0) throw new Error('no ping-pong round finished')
  return { report: { oneway }, close: async () => {} }
}

if (process.argv[2] === '--pong') {
  await pong(Number(process.argv[3]), String(process.argv[4]), Number(process.argv[5]))
} else {
  await reportMain(measure)
}
