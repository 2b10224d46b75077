/**
 * The node's operational log: structured lines with levels, for the people who run a node
 * (started, listening, a member joined or left, a new leader, stopping, failures). Tracing stays
 * with `DEBUG=praas:*` (@libp2p/logger), which is for the people who work on praas.
 */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug'
export type LogFormat = 'json' | 'pretty'

/** The shape of a pino logger that the node uses: fields first, then the message. */
export interface NodeLog {
  error(fields: object, message: string): void
  warn(fields: object, message: string): void
  info(fields: object, message: string): void
  debug(fields: object, message: string): void
}

const ignore = (): void => {}

/** A log that writes nothing: the default of an embedded node (`startNode`). */
export const silentLog: NodeLog = { error: ignore, warn: ignore, info: ignore, debug: ignore }

export interface LogOptions {
  level: LogLevel
  /** JSON objects one per line (for journald, Loki, jq), or colored lines for a terminal. */
  format: LogFormat
}

/**
 * A pino logger writing to stderr (stdout stays for results), synchronously, so that the lines
 * before an exit are not lost. JSON lines carry pino's fields: `level` (a number: 50 error,
 * 40 warn, 30 info, 20 debug), `time` (ms since the epoch), `msg`, and the event's own fields.
 */
export async function createLog (options: LogOptions): Promise<NodeLog> {
  const { pino } = await import('pino')
  const base = { level: options.level, base: { pid: process.pid } }
  let log: NodeLog
  if (options.format === 'json') {
    log = pino(base, pino.destination({ dest: 2, sync: true }))
  } else {
    const { default: pretty } = await import('pino-pretty')
    log = pino(base, pretty({ destination: 2, sync: true, colorize: process.stderr.isTTY === true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss.l', singleLine: true }))
  }
  return log
}
