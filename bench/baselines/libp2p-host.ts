// The smallest libp2p peer that carries the praas wire stack: TCP + Noise + yamux, loopback only,
// no discovery, identify or DHT. Both ends of the raw libp2p baseline are built from it.
import '../../protocol/polyfill.js'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { createLibp2p, type Libp2p } from 'libp2p'

export const ECHO_PROTOCOL = '/praas-bench/echo/1.0.0'

export async function createHost (listen: string[] = []): Promise<Libp2p> {
  return await createLibp2p({
    addresses: { listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { inboundConnectionThreshold: 1000 }
  })
}
