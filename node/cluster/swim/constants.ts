/** The SWIM protocol over libp2p: length-prefixed SwimMessages on one long-lived stream per direction and peer. */
export const SWIM_PROTOCOL = '/praas/swim/1.0.0'

/**
 * Defaults. HashiCorp memberlist's LAN profile is the anchor (probe 1 s, timeout 500 ms, 3
 * indirect checks, suspicion ×4 and ×6, retransmit ×4, gossip 200 ms to 3, push-pull 30 s,
 * awareness 8); the probe period, its timeout and the suspicion multiplier are tighter here, so
 * that a dead node is known everywhere within about 2.4 s at 16 nodes, 5 s at 1,000 (docs/cluster.md
 * has the simulation).
 */
export const PROBE_INTERVAL_MS = 400
/** A direct probe not answered in this long (times the local health multiplier) goes indirect. */
export const PROBE_TIMEOUT_MS = 200
/** Members asked to probe a target that did not answer (Lifeguard expects their NACKs). */
export const INDIRECT_CHECKS = 3
/** Suspicion timeout at least mult × max(1, log10 N) probe intervals... */
export const SUSPICION_MULT = 3
/** ...and at most this many times that while no other member confirms the suspicion. */
export const SUSPICION_MAX_TIMEOUT_MULT = 6
/** Each update is sent mult × ceil(log10(N + 1)) times by every node that learns it. */
export const RETRANSMIT_MULT = 4
/** Queued updates go to `GOSSIP_NODES` random members this often (nothing is sent while none are queued). */
export const GOSSIP_INTERVAL_MS = 200
export const GOSSIP_NODES = 3
/** A full state exchange with one random member this often (× ceil(log2 N − 5) + 1 above 32 members). */
export const PUSH_PULL_INTERVAL_MS = 30_000
/** Members above which the push-pull interval grows (memberlist's pushPullScaleThreshold). */
export const PUSH_PULL_SCALE_THRESHOLD = 32
/** One random dead (or never heard) member gets a direct ping this often, so that a healed partition or a restarted node is noticed. */
export const RECONNECT_INTERVAL_MS = 2_000
/** Lifeguard's local health multiplier goes from 1 to this. */
export const AWARENESS_MAX = 8
/** A relayed probe sends its NACK after this share of the probe timeout. */
export const NACK_FRACTION = 0.8
/** Smallest interval between two broadcasts of this node's record; changes in between are merged. */
export const RECORD_INTERVAL_MS = 1_000

/** Largest encoded SwimMessage (a whole state goes in several PUSH messages). */
export const MAX_MESSAGE_BYTES = 64 * 1024
/** Bytes of updates piggybacked on one probe message or gossip message. */
export const PIGGYBACK_BYTES = 4 * 1024
/** Largest record a member may set about itself. */
export const MAX_RECORD_BYTES = 1024
/** Updates in one message, at most. */
export const MAX_UPDATES = 1024
/** Longest member id (peer id strings are about 52 characters). */
export const MAX_ID_LENGTH = 128
/** Relayed probes (PING_REQ) this node serves at once; more are ignored. */
export const MAX_RELAYS = 64
/** Members one node tracks at most; roster entries past it are ignored (bounded memory). */
export const MAX_MEMBERS = 4096
