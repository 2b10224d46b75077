import { createServer } from 'node:http'
import { isLoopback, urlOf } from './address.js'
import { PAGE_CSS, PAGE_HTML, PAGE_JS } from './page.js'
import type { HttpAddress } from './address.js'
import type { MeshView } from './mesh.js'
import type { NodeMetrics } from './metrics.js'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * Decides whether a request may read the node's figures, given its `Authorization: Bearer`
 * token (undefined without one). The node wires it to its token verifier (the `status` right).
 */
export type Authorize = (bearer: string | undefined) => boolean | Promise<boolean>

export interface HttpEndpointInit {
  address: HttpAddress
  metrics: NodeMetrics
  mesh: MeshView
  /** Default: every request when bound to loopback, none otherwise. */
  authorize?: Authorize
  /** What /healthz answers: 200 while `ok`. */
  health(): { ok: boolean, [field: string]: unknown }
}

/** Open connections at most; a scraper and a few browser tabs need a handful. */
const MAX_CONNECTIONS = 64
const REQUEST_TIMEOUT_MS = 10_000

const STATIC: Record<string, { type: string, body: string }> = {
  '/': { type: 'text/html; charset=utf-8', body: PAGE_HTML },
  '/view.js': { type: 'text/javascript; charset=utf-8', body: PAGE_JS },
  '/view.css': { type: 'text/css; charset=utf-8', body: PAGE_CSS }
}

/**
 * The node's HTTP endpoint: `/metrics` (Prometheus text), `/healthz`, and the web view (`/`,
 * its script and style, and `/api/mesh`, the JSON it polls). GET and HEAD only. The figures
 * (`/metrics`, `/api/mesh`) need `authorize`; the page itself holds no data, and /healthz says
 * only whether the node runs.
 */
export class HttpEndpoint {
  private server?: Server
  private readonly authorize: Authorize
  private readonly loopback: boolean
  url = ''

  constructor (private readonly init: HttpEndpointInit) {
    this.loopback = isLoopback(init.address.host)
    const loopback = this.loopback
    this.authorize = init.authorize ?? (() => loopback)
  }

  /** Listens, on a free port if the default one is taken; resolves with the URL. */
  async start (): Promise<string> {
    const { host, port, fallback } = this.init.address
    try {
      this.server = await this.listen(host, port)
    } catch (err) {
      if (!fallback || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err
      this.server = await this.listen(host, 0)
    }
    this.url = urlOf(host, (this.server.address() as AddressInfo).port)
    return this.url
  }

  async stop (): Promise<void> {
    const server = this.server
    if (server == null) return
    this.server = undefined
    await new Promise<void>(resolve => {
      server.close(() => { resolve() })
      server.closeAllConnections()
    })
  }

  private async listen (host: string, port: number): Promise<Server> {
    const server = createServer({ requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: REQUEST_TIMEOUT_MS, keepAliveTimeout: 5_000 }, (req, res) => {
      this.route(req, res).catch((err: Error) => { this.send(res, 500, 'text/plain; charset=utf-8', `error: ${err.message}\n`) })
    })
    server.maxConnections = MAX_CONNECTIONS
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    return server
  }

  private async route (req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD')
      return this.send(res, 405, 'text/plain; charset=utf-8', 'GET or HEAD\n')
    }
    // On loopback, a page of another site that a browser reaches here under its own name (DNS
    // rebinding) must not read the figures: only loopback names are answered.
    if (this.loopback && !/^(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d+)?$/.test(req.headers.host ?? '')) {
      return this.send(res, 421, 'text/plain; charset=utf-8', 'this endpoint answers to loopback names only\n')
    }
    const path = new URL(req.url ?? '/', 'http://x').pathname
    const page = STATIC[path]
    if (page != null) return this.send(res, 200, page.type, page.body, 'no-cache')
    if (path === '/favicon.ico') return this.send(res, 204, 'image/x-icon', '')
    if (path === '/healthz') {
      const health = this.init.health()
      return this.send(res, health.ok ? 200 : 503, 'application/json', JSON.stringify(health) + '\n')
    }
    if (path !== '/metrics' && path !== '/api/mesh') return this.send(res, 404, 'text/plain; charset=utf-8', 'not found\n')
    const header = req.headers.authorization
    const bearer = header != null && /^Bearer\s+/i.test(header) ? header.replace(/^Bearer\s+/i, '').trim() : undefined
    if (!(await this.authorize(bearer))) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="praas"')
      return this.send(res, 401, 'text/plain; charset=utf-8', 'a token with the status right is needed (Authorization: Bearer TOKEN)\n')
    }
    if (path === '/metrics') {
      const { contentType, body } = await this.init.metrics.text()
      return this.send(res, 200, contentType, body)
    }
    return this.send(res, 200, 'application/json', JSON.stringify(await this.init.mesh.snapshot()))
  }

  private send (res: ServerResponse, status: number, type: string, body: string, cache = 'no-store'): void {
    if (res.headersSent) {
      res.end()
      return
    }
    res.writeHead(status, {
      'Content-Type': type,
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': cache,
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': 'default-src \'self\'; frame-ancestors \'none\''
    })
    res.end(res.req.method === 'HEAD' ? undefined : body)
  }
}
