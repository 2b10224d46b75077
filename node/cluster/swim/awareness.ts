/**
 * Lifeguard's local health multiplier (memberlist's awareness.go): a score from 0 to max − 1
 * that rises when this node's own probes fail without the NACKs its helpers should have sent,
 * or when it has to refute a suspicion of itself, and falls with each probe answered. Probe
 * intervals and timeouts are multiplied by score + 1, so a node that is itself slow (a starved
 * event loop, a loaded machine) probes less and waits longer instead of suspecting healthy peers.
 */
export class Awareness {
  private value = 0

  constructor (private readonly max: number) {}

  get score (): number {
    return this.value
  }

  apply (delta: number): void {
    this.value = Math.min(this.max - 1, Math.max(0, this.value + delta))
  }

  scale (ms: number): number {
    return ms * (this.value + 1)
  }
}
