import { ErrorCode as WireErrorCode } from './pb/messages.js'
import type { ErrorInfo } from './pb/messages.js'

/** The stable error codes of the public contract, plus MOVED (a redirect between peers). */
export type ErrorCode =
  | 'NOT_FOUND'
  | 'FUNCTION_ERROR'
  | 'TIMEOUT'
  | 'TOO_LARGE'
  | 'UNAUTHORIZED'
  | 'BAD_REQUEST'
  | 'UNAVAILABLE'
  | 'MOVED'

export const ERROR_CODES: readonly ErrorCode[] = [
  'NOT_FOUND', 'FUNCTION_ERROR', 'TIMEOUT', 'TOO_LARGE', 'UNAUTHORIZED', 'BAD_REQUEST', 'UNAVAILABLE', 'MOVED'
]

/**
 * The one error type of praas: callers branch on `code`, never on the message text.
 * The SDK re-exports it; the node and the function sandbox throw it too.
 */
export class PraasError extends Error {
  static override name = 'PraasError'
  override name = 'PraasError'
  readonly code: ErrorCode

  constructor (code: ErrorCode, message: string) {
    super(message)
    this.code = code
  }
}

/** Errors of calls that never left this peer: nothing of the request was handed to its stream. */
const unsentErrors = new WeakSet<Error>()

/**
 * Marks the error of a call that provably never left this peer (its stream was not open, or
 * closed before the request's last frame was handed to it): sending it again cannot run it twice.
 */
export function markUnsent<E extends Error> (err: E): E {
  unsentErrors.add(err)
  return err
}

/** Whether a call failed before any of it could reach the callee (markUnsent). */
export function wasUnsent (err: unknown): boolean {
  return err instanceof Error && unsentErrors.has(err)
}

export function isErrorCode (value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value)
}

/** Maps any thrown value to a PraasError, keeping its code when it has a known one. */
export function toPraasError (err: unknown, fallback: ErrorCode = 'UNAVAILABLE'): PraasError {
  if (err instanceof PraasError) return err
  const code = (err as { code?: unknown } | null)?.code
  const message = err instanceof Error ? err.message : String(err)
  if (isErrorCode(code)) return new PraasError(code, message)
  if ((err as Error | null)?.name === 'TimeoutError') return new PraasError('TIMEOUT', message)
  if ((err as Error | null)?.name === 'AbortError') return new PraasError('TIMEOUT', message)
  return new PraasError(fallback, message)
}

export function errorToWire (err: PraasError): ErrorInfo {
  return { code: WireErrorCode[err.code], message: err.message.slice(0, 4096) }
}

export function errorFromWire (info: ErrorInfo): PraasError {
  const code = info.code === WireErrorCode.NONE ? 'UNAVAILABLE' : info.code
  return new PraasError(code, info.message)
}
