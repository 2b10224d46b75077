import { noise } from '@chainsafe/libp2p-noise'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { encode as varintEncode } from 'uint8-varint'
import { concat as uint8ArrayConcat } from 'uint8arrays/concat'
import { presentToken } from '../../protocol/auth.js'
import { AUTH_PROTOCOL, CTL_PROTOCOL, InvokeChannel, praasYamux } from '../../protocol/index.js'
import type { Libp2p, Stream } from '@libp2p/interface'

export type HostilePeer = Libp2p<{ identify: unknown }>

/**
 * A raw libp2p peer with a fresh identity, written against the wire rather than through the SDK:
 * it can register handlers for every praas protocol, to pass for a node, and write raw frames
 * (forged SWIM messages, votes...). What it receives on them is recorded.
 */
export async function hostilePeer (protocols: string[] = []): Promise<{ peer: HostilePeer, received: Map<string, number> }> {
  const peer = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [praasYamux()],
    services: {
      identify: identify()
    }
  }) as HostilePeer
  const received = new Map<string, number>()
  for (const protocol of protocols) {
    await peer.handle(protocol, (stream: Stream) => {
      received.set(protocol, (received.get(protocol) ?? 0) + 1)
      stream.addEventListener('message', () => { received.set(protocol, (received.get(protocol) ?? 0) + 1) })
    })
  }
  return { peer, received }
}

/** An invoke-framed channel of `protocol` to a node, optionally after presenting a token on the connection. */
export async function rawChannel (peer: Libp2p, addr: string, protocol: string = CTL_PROTOCOL, token?: string): Promise<InvokeChannel> {
  if (token != null) await presentToken(await peer.dialProtocol(multiaddr(addr), AUTH_PROTOCOL), token, { signal: AbortSignal.timeout(5_000) })
  return new InvokeChannel(await peer.dialProtocol(multiaddr(addr), protocol, { signal: AbortSignal.timeout(5_000) }))
}

/** One varint-length-prefixed message, as /praas/swim/1.0.0 and the DHT frame theirs. */
export function encodeFrame (message: Uint8Array): Uint8Array {
  return uint8ArrayConcat([varintEncode(message.byteLength), message])
}

/** The error code a promise rejects with ('OK' if it resolves). */
export async function outcome (promise: Promise<unknown>): Promise<string> {
  try {
    await promise
    return 'OK'
  } catch (err) {
    return (err as { code?: string }).code ?? (err as Error).name ?? 'ERROR'
  }
}

/** The resident set size of an OS process, in bytes (Linux). */
export async function rssOf (pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises')
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)
  return kb == null ? 0 : Number(kb[1]) * 1024
}
