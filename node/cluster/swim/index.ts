/**
 * SWIM failure detection and dissemination over an explicit roster (HashiCorp memberlist with
 * Lifeguard as the anchor): which members are reachable now, and a small record per member
 * spread by piggybacking. The core (`Swim`) takes its transport, clock, random source and roster
 * as components, so it runs over libp2p (`swim()` service, `/praas/swim/1.0.0`) and in the
 * simulator (bench/sim/) alike. See docs/cluster.md.
 */
export { Swim } from './swim.js'
export type { SwimStats } from './swim.js'
export type { SwimInit, SwimConfig } from './config.js'
export { resolveConfig, retransmitLimit, pushPullIntervalMs } from './config.js'
export { merge, compareLiveness, compareRecords } from './merge.js'
export type { MemberState, Merged } from './merge.js'
export { decodeSwimMessage, SwimMessage, SwimStatus } from './codec.js'
export type { SwimUpdate } from './codec.js'
export { systemClock, systemRandom } from './clock.js'
export { SWIM_PROTOCOL } from './constants.js'
export type {
  Clock, Timer, Datagrams, Roster, Random, SwimComponents, MemberStatus, MemberView, StatusChange, RecordChange, SwimEvents
} from './types.js'
export { encodeNodeRecord, decodeNodeRecord, SwimNodeRecord, MAX_RECORD_ADDRS, MAX_ADDR_BYTES } from './record.js'
export { SwimService, swim } from './service.js'
export type { SwimServiceComponents, SwimServiceInit, NodeRecordFields } from './service.js'
export { Libp2pDatagrams } from './libp2p.js'
export type { SwimTransportComponents, SwimTransportInit } from './libp2p.js'
