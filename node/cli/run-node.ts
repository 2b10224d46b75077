/** `praas node`: resolves the options (flags, environment, config file), starts the node, stops it on a signal. */
import { readFile } from 'node:fs/promises'
import { PraasError } from '../../protocol/errors.js'
import { createLog } from '../log.js'
import { startNode } from '../node.js'
import { resolveOptions } from './config.js'
import type { LogFormat, LogLevel } from '../log.js'
import type { Command } from 'commander'

export type RunNode = (command: Command) => Promise<void>

/** Stopping swaps every process out first (disk and replicas): big states need time. Keep below the unit's TimeoutStopSec. */
const STOP_GRACE_MS = 120_000

function integer (value: unknown, flag: string, min: number, max: number, what: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) throw new PraasError('BAD_REQUEST', `--${flag} takes ${what}`)
  return n
}

export const runNode: RunNode = async (command) => {
  const opts = await resolveOptions(command)
  const replicas = integer(opts.replicas, 'replicas', 1, 16, 'a number from 1 to 16')
  const swapAfterMs = integer(opts.swapAfter, 'swap-after', 0, Number.MAX_SAFE_INTEGER, 'a number of ms (0: never)')
  const mailboxBytes = integer(opts.mailboxLimit, 'mailbox-limit', 1, Number.MAX_SAFE_INTEGER, 'a positive number of bytes')
  const functionTimeoutMs = integer(opts.functionTimeout, 'function-timeout', 1, Number.MAX_SAFE_INTEGER, 'a positive number of ms')
  const maxAppsPerClient = integer(opts.maxAppsPerClient, 'max-apps-per-client', 1, Number.MAX_SAFE_INTEGER, 'a positive number')
  const maxProcessesPerClient = integer(opts.maxProcessesPerClient, 'max-processes-per-client', 1, Number.MAX_SAFE_INTEGER, 'a positive number')
  const format = (opts.logFormat as LogFormat | undefined) ?? (process.stderr.isTTY === true ? 'pretty' : 'json')
  const log = await createLog({ level: opts.logLevel as LogLevel, format })
  const swarmKey = opts.swarmKey == null ? undefined : await readFile(opts.swarmKey as string)

  const node = await startNode({
    dataDir: opts.dataDir as string,
    listen: opts.listen as string[] | undefined,
    bootstrap: (opts.bootstrap as string[] | undefined) ?? [],
    join: opts.join as string | undefined,
    maxAppsPerClient,
    maxProcessesPerClient,
    appsDir: opts.apps as string | undefined,
    swarmKey,
    http: opts.http as string | undefined,
    log,
    functionTimeoutMs,
    mailboxBytes,
    replicas,
    swapAfterMs
  })
  let stopping = false
  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'stopping: swapping every process out')
    const force = setTimeout(() => {
      log.error({ graceMs: STOP_GRACE_MS }, 'not stopped in time: exiting')
      process.exit(1)
    }, STOP_GRACE_MS)
    force.unref()
    node.stop().then(() => {
      log.info({}, 'stopped')
      process.exit(0)
    }, (err: Error) => {
      log.error({ err }, 'stop failed')
      process.exit(1)
    })
  }
  process.on('SIGINT', () => { stop('SIGINT') })
  process.on('SIGTERM', () => { stop('SIGTERM') })
}
