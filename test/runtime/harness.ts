// A Runtime with its AppRegistry in this process: the node's runtime without the network.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { PraasError } from '../../protocol/index.js'
import { AppRegistry, Runtime } from '../../node/runtime/index.js'
import type { Committer } from '../../node/runtime/index.js'

export interface Harness {
  apps: AppRegistry
  runtime: Runtime
  /** The ctx operations that reached the node, by name. */
  ops: Map<string, number>
  stop(): Promise<void>
}

export async function harness (options: { functionTimeoutMs?: number, mailboxBytes?: number, committer?: Committer } = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'praas-runtime-'))
  const ops = new Map<string, number>()
  const apps: AppRegistry = new AppRegistry(join(dir, 'apps'), {
    host: {
      op: (call, op, args) => {
        ops.set(op, (ops.get(op) ?? 0) + 1)
        return runtime.op(call, op, args)
      },
      prepareWrite: (call, op, args) => runtime.prepareWrite(call, op, args),
      ended: (call) => { runtime.ended(call) }
    },
    log: logger('praas:test')
  })
  const runtime: Runtime = new Runtime({
    apps,
    functionTimeoutMs: options.functionTimeoutMs ?? 10_000,
    maxProcesses: 1000,
    mailboxBytes: options.mailboxBytes ?? 1024 * 1024,
    remoteInvoke: async (pid) => { throw new PraasError('NOT_FOUND', `no process ${pid}`) },
    remoteSend: async (pid) => { throw new PraasError('NOT_FOUND', `no process ${pid}`) },
    committer: options.committer
  })
  return {
    apps,
    runtime,
    ops,
    async stop () {
      await apps.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
}

export const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)
export const encode = (value: unknown): Uint8Array => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value))
