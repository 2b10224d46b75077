import assert from 'node:assert/strict'
import { PraasError } from '../../sdk/index.js'

export const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

/** The code of the PraasError a promise rejects with (fails the test if it resolves or throws anything else). */
export async function codeOf (promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(() => undefined, (e: unknown) => e)
  assert.ok(err instanceof PraasError, `expected a PraasError, got ${String(err)}`)
  return err.code
}

/** `size` bytes of a pattern the receiver can check (the testkit app's `blob` makes the same with seed 7). */
export function pattern (size: number, seed = 7): Uint8Array {
  const out = new Uint8Array(size)
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed) & 0xff
  return out
}
