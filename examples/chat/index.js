// A chat between processes: each process is one participant. Messages travel process to
// process (ctx.send / ctx.recv), node to node, with no store in between; each participant
// keeps its own history in its state.
/** @typedef {import('praas').Context} Context */

const decoder = new TextDecoder()
const text = (bytes) => decoder.decode(bytes)

async function remember (ctx, entry) {
  const history = JSON.parse(text((await ctx.state.get('history')) ?? new TextEncoder().encode('[]')))
  history.push(entry)
  await ctx.state.put('history', JSON.stringify(history))
}

/** Input: JSON {to, text}. Sends `text` to participant `to`. */
export async function say (input, /** @type {Context} */ ctx) {
  const { to, text: line } = JSON.parse(text(input))
  await ctx.send(to, 'chat', line)
  await remember(ctx, { to, text: line })
}

/** Input: a timeout in ms (default 5000). Waits for the next line from anyone; returns JSON {from, text}. */
export async function listen (input, /** @type {Context} */ ctx) {
  const timeoutMs = Number(text(input)) || 5000
  const message = await ctx.recv('*', 'chat', { timeoutMs })
  const entry = { from: message.from, text: text(message.data) }
  await remember(ctx, entry)
  return JSON.stringify(entry)
}

/** Returns this participant's history: JSON [{to, text} | {from, text}]. */
export async function history (_input, /** @type {Context} */ ctx) {
  return (await ctx.state.get('history')) ?? '[]'
}
