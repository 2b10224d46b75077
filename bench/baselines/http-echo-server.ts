// node:http keep-alive echo server: answers every POST with its body. Prints its port. The
// baseline of invoke.throughput: what a plain HTTP microservice on one Node process serves.
import { createServer } from 'node:http'
import { announce, exitWithParent } from '../server-main.js'

/** A request body larger than this is refused (the bench sends 64 B). */
const MAX_BODY_BYTES = 16 * 1024 * 1024

const server = createServer({ keepAlive: true, noDelay: true }, (req, res) => {
  const parts: Buffer[] = []
  let bytes = 0
  req.on('data', (chunk: Buffer) => {
    bytes += chunk.byteLength
    if (bytes > MAX_BODY_BYTES) {
      res.writeHead(413).end()
      req.destroy()
      return
    }
    parts.push(chunk)
  })
  req.on('end', () => {
    const body = parts.length === 1 ? parts[0] : Buffer.concat(parts)
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.byteLength })
    res.end(body)
  })
  req.on('error', () => { res.destroy() })
})
// keep idle connections for the whole run (the default drops them after 5 s)
server.keepAliveTimeout = 10 * 60_000

server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  if (address == null || typeof address === 'string') throw new Error('no TCP address')
  announce(String(address.port))
})
exitWithParent(() => { server.closeAllConnections(); server.close() })
