// Raw libp2p echo server: on each stream of ECHO_PROTOCOL, sends every frame back as it is.
// With `--batch`, the frames that arrived in one message go back in one send (one yamux frame,
// one Noise message) instead of one send each. Prints its full multiaddr (with /p2p/) on stdout.
import '../../protocol/polyfill.js'
import { Uint8ArrayList } from 'uint8arraylist'
import { FrameDecoder } from '../framing.js'
import { announce, exitWithParent } from '../server-main.js'
import { createHost, ECHO_PROTOCOL } from './libp2p-host.js'

const batch = process.argv.includes('--batch')
const host = await createHost(['/ip4/127.0.0.1/tcp/0'])

await host.handle(ECHO_PROTOCOL, stream => {
  const decoder = new FrameDecoder()
  const send = (data: Uint8Array | Uint8ArrayList): void => {
    if (!stream.send(data)) {
      stream.pause()
      stream.onDrain().then(() => { stream.resume() }, err => { stream.abort(err) })
    }
  }
  stream.addEventListener('message', evt => {
    const frames = decoder.push(evt.data)
    if (batch && frames.length > 1) send(new Uint8ArrayList(...frames))
    else for (const frame of frames) send(frame)
  })
  stream.addEventListener('remoteCloseWrite', () => { stream.close().catch(() => {}) })
}, { maxInboundStreams: 64 })

announce(host.getMultiaddrs()[0].toString())
exitWithParent(async () => { await host.stop() })
