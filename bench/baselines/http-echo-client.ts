// Client process for the node:http echo baseline: POSTs each payload and checks the echo, over
// keep-alive connections (one per call in flight, as an HTTP/1.1 client must: no pipelining).
// Target: the server's port on 127.0.0.1.
import { Agent, request } from 'node:http'
import { clientMain, type Transport } from '../client-main.js'

const CALL_TIMEOUT_MS = 30_000

async function open (target: string): Promise<Transport> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1024, timeout: CALL_TIMEOUT_MS })
  const port = Number(target)
  const call = async (payload: Uint8Array): Promise<Uint8Array> => await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent, headers: { 'content-length': payload.byteLength } }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (chunk: Buffer) => { parts.push(chunk) })
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode ?? 0}`))
        else resolve(parts.length === 1 ? parts[0] : Buffer.concat(parts))
      })
      res.on('error', reject)
    })
    req.setNoDelay(true)
    req.setTimeout(CALL_TIMEOUT_MS, () => { req.destroy(new Error('no answer in time')) })
    req.on('error', reject)
    req.end(payload)
  })
  return {
    call,
    close: async () => { agent.destroy() }
  }
}

await clientMain(open)
