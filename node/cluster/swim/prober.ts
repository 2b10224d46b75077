import { Kind } from './codec.js'
import type { Awareness } from './awareness.js'
import type { SwimMessage } from './codec.js'
import type { Clock, Timer } from './types.js'

/** What the prober needs of the protocol core around it. */
export interface ProbeHost {
  readonly clock: Clock
  readonly awareness: Awareness
  readonly probeTimeoutMs: number
  readonly probeIntervalMs: number
  readonly indirectChecks: number
  readonly nackFraction: number
  readonly maxRelays: number
  /** Sends a message with updates piggybacked. */
  send(to: string, message: Partial<SwimMessage>): void
  /** Up to `count` random reachable members, none of them in `exclude`. */
  randomMembers(count: number, exclude: ReadonlySet<string>): string[]
  /** A probe of `target` got no answer, directly or through others. */
  probeFailed(target: string): void
}

interface Probe {
  target: string
  /** The members asked to probe the target for us; their ACKs and NACKs count. */
  helpers: Set<string>
  nackers: Set<string>
  acked: boolean
  timers: Timer[]
}

interface Relay {
  origin: string
  originSeq: number
  target: string
  timer: Timer
}

/**
 * Probes, SWIM's failure detector with Lifeguard's NACKs: a PING to the target, and if no ACK
 * comes within the probe timeout, PING_REQs to k other members, which ping the target for us
 * and relay its ACK (or send a NACK when it stays silent, which tells us they, and so we, are
 * still heard: missing NACKs mean the fault is probably ours, and raise the local health
 * multiplier instead). A probe ends at the end of its period. Every message names its target,
 * and an ACK counts only from the target itself or from a member we asked to relay.
 */
export class Prober {
  private readonly probes = new Map<number, Probe>()
  private readonly relays = new Map<number, Relay>()
  private seq = 0

  constructor (private readonly host: ProbeHost) {}

  /** Probes `target` for one (health-scaled) period; `done` runs at its end. */
  probe (target: string, done: () => void): void {
    const { clock, awareness } = this.host
    const seq = this.nextSeq()
    const probe: Probe = { target, helpers: new Set(), nackers: new Set(), acked: false, timers: [] }
    this.probes.set(seq, probe)
    this.host.send(target, { kind: Kind.PING, seq, target })
    probe.timers.push(clock.setTimer(awareness.scale(this.host.probeTimeoutMs), () => {
      if (probe.acked) return
      const helpers = this.host.randomMembers(this.host.indirectChecks, new Set([target]))
      for (const helper of helpers) {
        probe.helpers.add(helper)
        this.host.send(helper, { kind: Kind.PING_REQ, seq, target })
      }
    }))
    probe.timers.push(clock.setTimer(awareness.scale(this.host.probeIntervalMs), () => {
      this.probes.delete(seq)
      if (probe.acked) {
        awareness.apply(-1)
      } else {
        // Lifeguard: helpers that did not even NACK point at this node's own health
        const missing = probe.helpers.size - probe.nackers.size
        awareness.apply(probe.helpers.size > 0 ? missing : 1)
        this.host.probeFailed(target)
      }
      done()
    }))
  }

  /** A PING_REQ: probe `target` for `origin` and answer it. */
  onPingReq (origin: string, message: SwimMessage): void {
    if (this.relays.size >= this.host.maxRelays) return
    const seq = this.nextSeq()
    const relay: Relay = {
      origin,
      originSeq: message.seq,
      target: message.target,
      timer: this.host.clock.setTimer(this.host.probeTimeoutMs * this.host.nackFraction, () => {
        this.relays.delete(seq)
        this.host.send(origin, { kind: Kind.NACK, seq: message.seq, target: message.target })
      })
    }
    this.relays.set(seq, relay)
    this.host.send(message.target, { kind: Kind.PING, seq, target: message.target })
  }

  onAck (from: string, message: SwimMessage): void {
    const relay = this.relays.get(message.seq)
    if (relay != null && relay.target === from && message.target === from) {
      relay.timer.cancel()
      this.relays.delete(message.seq)
      this.host.send(relay.origin, { kind: Kind.ACK, seq: relay.originSeq, target: relay.target })
      return
    }
    const probe = this.probes.get(message.seq)
    if (probe == null || probe.acked || message.target !== probe.target) return
    if (from !== probe.target && !probe.helpers.has(from)) return
    probe.acked = true
  }

  onNack (from: string, message: SwimMessage): void {
    const probe = this.probes.get(message.seq)
    if (probe == null || message.target !== probe.target || !probe.helpers.has(from)) return
    probe.nackers.add(from)
  }

  stop (): void {
    for (const probe of this.probes.values()) probe.timers.forEach(t => { t.cancel() })
    for (const relay of this.relays.values()) relay.timer.cancel()
    this.probes.clear()
    this.relays.clear()
  }

  private nextSeq (): number {
    this.seq = (this.seq + 1) >>> 0
    return this.seq
  }
}
