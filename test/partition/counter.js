// The counter of the partition tests: `incr(key)` adds one to the count under `key` and returns
// the new count; `get(key)` returns it. An increment must be atomic against the other calls of
// the process, or two overlapping calls return the same count with no partition at all: with
// `ctx.state.transaction` (SPEC) it is one transaction; a runtime without transactions gets a
// plain read and write, and the tests then give every caller a key of its own (`atomic`).
const decoder = new TextDecoder()
const keyOf = (input) => decoder.decode(input) || 'n'

async function bump (state, key) {
  const n = Number(decoder.decode((await state.get(key)) ?? new Uint8Array())) || 0
  await state.put(key, String(n + 1))
  return String(n + 1)
}

export async function incr (input, ctx) {
  const key = keyOf(input)
  if (typeof ctx.state.transaction === 'function') return await ctx.state.transaction(async (tx) => await bump(tx, key))
  return await bump(ctx.state, key)
}

export async function get (input, ctx) {
  return decoder.decode((await ctx.state.get(keyOf(input))) ?? new Uint8Array()) || '0'
}

/** "yes" if increments are atomic (the runtime has transactions), else "no". */
export async function atomic (_input, ctx) {
  return typeof ctx.state.transaction === 'function' ? 'yes' : 'no'
}
