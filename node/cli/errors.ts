import { CommanderError } from 'commander'
import { toPraasError } from '../../protocol/errors.js'

/**
 * The one line SPEC asks of a failed command, `error CODE: message` on stderr; usage mistakes
 * (commander's own errors: an unknown option, a missing argument) are `BAD_REQUEST`.
 */
export function errorLine (err: unknown): string {
  if (err instanceof CommanderError) {
    const message = err.message.replace(/^error: /, '').split('\n')[0]
    return `error BAD_REQUEST: ${message}`
  }
  const error = toPraasError(err, 'BAD_REQUEST')
  return `error ${error.code}: ${error.message.split('\n')[0]}`
}
