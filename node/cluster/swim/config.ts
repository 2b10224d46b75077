import * as C from './constants.js'

/** Options of the SWIM core; each defaults to the constant of the same name in constants.ts. */
export interface SwimInit {
  probeIntervalMs?: number
  probeTimeoutMs?: number
  indirectChecks?: number
  suspicionMult?: number
  suspicionMaxTimeoutMult?: number
  retransmitMult?: number
  gossipIntervalMs?: number
  gossipNodes?: number
  pushPullIntervalMs?: number
  reconnectIntervalMs?: number
  awarenessMax?: number
  nackFraction?: number
  recordIntervalMs?: number
  piggybackBytes?: number
  maxRecordBytes?: number
  maxRelays?: number
  /**
   * This node's first incarnation. Real nodes pass the wall clock in ms, so that a restarted
   * node is newer than anything said about its previous life without having to hear it first;
   * the simulator starts from 0 and relies on refutation. Its first record version is the same.
   */
  initialIncarnation?: number
}

export type SwimConfig = Required<SwimInit>

export function resolveConfig (init: SwimInit = {}): SwimConfig {
  const config: SwimConfig = {
    probeIntervalMs: init.probeIntervalMs ?? C.PROBE_INTERVAL_MS,
    probeTimeoutMs: init.probeTimeoutMs ?? C.PROBE_TIMEOUT_MS,
    indirectChecks: init.indirectChecks ?? C.INDIRECT_CHECKS,
    suspicionMult: init.suspicionMult ?? C.SUSPICION_MULT,
    suspicionMaxTimeoutMult: init.suspicionMaxTimeoutMult ?? C.SUSPICION_MAX_TIMEOUT_MULT,
    retransmitMult: init.retransmitMult ?? C.RETRANSMIT_MULT,
    gossipIntervalMs: init.gossipIntervalMs ?? C.GOSSIP_INTERVAL_MS,
    gossipNodes: init.gossipNodes ?? C.GOSSIP_NODES,
    pushPullIntervalMs: init.pushPullIntervalMs ?? C.PUSH_PULL_INTERVAL_MS,
    reconnectIntervalMs: init.reconnectIntervalMs ?? C.RECONNECT_INTERVAL_MS,
    awarenessMax: init.awarenessMax ?? C.AWARENESS_MAX,
    nackFraction: init.nackFraction ?? C.NACK_FRACTION,
    recordIntervalMs: init.recordIntervalMs ?? C.RECORD_INTERVAL_MS,
    piggybackBytes: init.piggybackBytes ?? C.PIGGYBACK_BYTES,
    maxRecordBytes: init.maxRecordBytes ?? C.MAX_RECORD_BYTES,
    maxRelays: init.maxRelays ?? C.MAX_RELAYS,
    initialIncarnation: init.initialIncarnation ?? 0
  }
  if (!(config.probeTimeoutMs > 0 && config.probeTimeoutMs < config.probeIntervalMs)) {
    throw new RangeError('probeTimeoutMs must be positive and below probeIntervalMs')
  }
  if (config.piggybackBytes + 1024 > C.MAX_MESSAGE_BYTES || config.maxRecordBytes > C.MAX_RECORD_BYTES) {
    throw new RangeError(`piggybackBytes must leave room in a ${C.MAX_MESSAGE_BYTES}-byte message, and maxRecordBytes be at most ${C.MAX_RECORD_BYTES}`)
  }
  if (!Number.isSafeInteger(config.initialIncarnation) || config.initialIncarnation < 0) throw new RangeError('initialIncarnation must be a non-negative safe integer')
  return config
}

/** memberlist's pushPullScale: the interval grows with log2 N past the threshold, so a node's share of full syncs stays flat. */
export function pushPullIntervalMs (base: number, n: number): number {
  if (n <= C.PUSH_PULL_SCALE_THRESHOLD) return base
  return base * (Math.ceil(Math.log2(n) - Math.log2(C.PUSH_PULL_SCALE_THRESHOLD)) + 1)
}

/** Times each update is sent by each node that learns it: mult × ceil(log10(n + 1)). */
export function retransmitLimit (mult: number, n: number): number {
  return mult * Math.ceil(Math.log10(n + 1))
}
