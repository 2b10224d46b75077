// Client process for the raw libp2p echo baseline: one connection, ONE long-lived stream that
// every call is multiplexed on by request id. Target: the server's multiaddr. With `batch`,
// the frames written in one event-loop turn leave in one send.
import '../../protocol/polyfill.js'
import { multiaddr } from '@multiformats/multiaddr'
import type { Uint8ArrayList } from 'uint8arraylist'
import { clientMain, type ClientRequest, type Transport } from '../client-main.js'
import { coalescing, FrameClient } from '../framing.js'
import { createHost, ECHO_PROTOCOL } from './libp2p-host.js'

async function open (target: string, request: ClientRequest): Promise<Transport> {
  const host = await createHost()
  const signal = AbortSignal.timeout(10_000)
  const connection = await host.dial(multiaddr(target), { signal })
  const stream = await connection.newStream(ECHO_PROTOCOL, { signal })
  const send = async (data: Uint8Array | Uint8ArrayList): Promise<void> => {
    if (!stream.send(data)) await stream.onDrain()
  }
  const client = new FrameClient(request.batch === true ? coalescing(send) : send)
  stream.addEventListener('message', evt => { client.receive(evt.data) })
  stream.addEventListener('close', () => { client.failAll(new Error('stream closed')) })
  return {
    call: async payload => await client.call(payload),
    close: async () => { await stream.close().catch(() => {}); await host.stop() }
  }
}

await clientMain(open)
