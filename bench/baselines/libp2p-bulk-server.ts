// Raw libp2p bulk baseline, receiving end: on each stream of the bulk protocol, counts the bytes
// of messages of `argv[2]` bytes and answers each complete one with a 4-byte ack (its number).
// Same host as the echo baseline (TCP + Noise + the praas muxer). Prints its multiaddr.
import '../../protocol/polyfill.js'
import { ACK_BYTES, LIBP2P_BULK_PROTOCOL } from '../ipc-child.js'
import { announce, exitWithParent } from '../server-main.js'
import { createHost } from './libp2p-host.js'

const size = Number(process.argv[2])
if (!Number.isInteger(size) || size <= 0) throw new Error(`usage: libp2p-bulk-server.js MESSAGE_BYTES (got ${process.argv[2]})`)
const host = await createHost(['/ip4/127.0.0.1/tcp/0'])

await host.handle(LIBP2P_BULK_PROTOCOL, stream => {
  let pending = 0
  let count = 0
  stream.addEventListener('message', evt => {
    pending += evt.data.byteLength
    while (pending >= size) {
      pending -= size
      const ack = new Uint8Array(ACK_BYTES)
      new DataView(ack.buffer).setUint32(0, count++)
      stream.send(ack)
    }
  })
  stream.addEventListener('remoteCloseWrite', () => { stream.close().catch(() => {}) })
}, { maxInboundStreams: 4 })

announce(host.getMultiaddrs()[0].toString())
exitWithParent(async () => { await host.stop() })
