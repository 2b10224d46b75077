// The smallest libp2p peer that carries the praas wire stack: TCP + Noise + yamux, loopback only,
// no discovery, identify or DHT. Both ends of the raw libp2p baseline are built from it.
import '../../protocol/polyfill.js'
import { noise } from '@chainsafe/libp2p-noise'
import { tcp } from '@libp2p/tcp'
import { createLibp2p, type Libp2p } from 'libp2p'
import { praasYamux } from '../../protocol/index.js'

export const ECHO_PROTOCOL = '/praas-bench/echo/1.0.0'

export async function createHost (listen: string[] = []): Promise<Libp2p> {
  return await createLibp2p({
    addresses: { listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    // The same muxer as praas peers (yamux with lazy window updates), so that the baseline is
    // the same transport and the ratio measures only what praas adds on top.
    streamMuxers: [praasYamux()],
    connectionManager: { inboundConnectionThreshold: 1000 }
  })
}
