import { isIP } from 'node:net'
import { PraasError } from '../../protocol/errors.js'

/** Where the HTTP endpoint listens. */
export interface HttpAddress {
  host: string
  port: number
  /** Take a free port when this one is taken (the default address only: one asked for is kept or refused). */
  fallback: boolean
}

export const DEFAULT_HTTP = '127.0.0.1:4080'

/** `--http`: `HOST:PORT` (`[::1]:PORT` for IPv6), or `off`; undefined takes the default. */
export function parseHttpAddress (value: string | undefined): HttpAddress | undefined {
  if (value === 'off') return undefined
  const text = value ?? DEFAULT_HTTP
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text)
  const port = Number(match?.[3])
  if (match == null || port > 65535) throw new PraasError('BAD_REQUEST', `--http takes HOST:PORT, [IPV6]:PORT or off, not "${text}"`)
  return { host: match[1] ?? match[2], port, fallback: value == null }
}

/** Whether only this machine can reach an address (then the endpoint needs no token). */
export function isLoopback (host: string): boolean {
  if (host === 'localhost') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  return host === '::1'
}

/** The URL of an endpoint bound to `host` and `port`. */
export function urlOf (host: string, port: number): string {
  return `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}/`
}
