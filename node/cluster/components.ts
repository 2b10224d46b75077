import type { AbortOptions, ComponentLogger, Connection, PeerId, Stream, StreamHandler, StreamHandlerOptions } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * What the cluster services take from libp2p's components (the parts of its internal
 * interfaces they use, spelt out so that nothing depends on @libp2p/interface-internal).
 */
export interface ClusterComponents {
  peerId: PeerId
  logger: ComponentLogger
  addressManager: { getAddresses(): Multiaddr[] }
  connectionManager: {
    getConnections(peerId?: PeerId): Connection[]
    openConnection(peer: PeerId | Multiaddr | Multiaddr[], options?: AbortOptions): Promise<Connection>
    openStream(peer: PeerId | Multiaddr | Multiaddr[], protocol: string, options?: AbortOptions): Promise<Stream>
  }
  registrar: {
    handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>
    unhandle(protocol: string, options?: AbortOptions): Promise<void>
  }
}
