// Client process for praas invoke: a Client of the public SDK deploys an app (APPS: an echo, a
// state increment, a CPU-bound function), creates one process of it and invokes its function.
// Target: JSON array of the node's multiaddrs.
import '../protocol/polyfill.js'
import { Client } from '../sdk/index.js'
import { clientMain, type ClientRequest, type Transport } from './client-main.js'

/** The app and function each source calls: an echo; a sequential incr (state get + put); 100 ms of CPU. */
const APPS: Record<string, { app: string, fn: string, source: string }> = {
  'praas.invoke': { app: 'bench-echo', fn: 'echo', source: 'export async function echo (input) { return input }\n' },
  'praas.incr': {
    app: 'bench-incr',
    fn: 'incr',
    source: 'const d = new TextDecoder()\nexport async function incr (input, ctx) {\n  const n = Number(d.decode((await ctx.state.get("n")) ?? new Uint8Array())) || 0\n  await ctx.state.put("n", String(n + 1))\n  return input\n}\n'
  },
  'praas.parallel': { app: 'bench-burn', fn: 'burn', source: 'export async function burn (input) { const t = Date.now(); let x = 0; while (Date.now() - t < 100) x++; return input }\n' }
}

async function open (target: string, request: ClientRequest): Promise<Transport> {
  const bootstrap: string[] = JSON.parse(target)
  const { app, fn, source } = APPS[request.source] ?? APPS['praas.invoke']
  const client = await Client.connect({ bootstrap })
  try {
    await client.deploy(app, source)
    const pid = await client.create(app)
    return {
      call: async payload => await client.invoke(pid, fn, payload),
      close: async () => { await client.close() }
    }
  } catch (err) {
    await client.close()
    throw err
  }
}

await clientMain(open)
