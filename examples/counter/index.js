// A counter: the smallest stateful app. Each process keeps its own count in its state.
/** @typedef {import('praas').Context} Context */

const decoder = new TextDecoder()

/** Adds one (or the number given as input) and returns the new count. */
export async function incr (input, /** @type {Context} */ ctx) {
  const step = Number(decoder.decode(input)) || 1
  const n = Number(decoder.decode((await ctx.state.get('n')) ?? new Uint8Array())) || 0
  await ctx.state.put('n', String(n + step))
  return String(n + step)
}

/** Returns the current count. */
export async function get (_input, /** @type {Context} */ ctx) {
  return (await ctx.state.get('n')) ?? '0'
}

/** Sets the count back to zero. */
export async function reset (_input, /** @type {Context} */ ctx) {
  await ctx.state.delete('n')
}
