// Every OS process the harness starts goes through here, so that all of them are stopped at the
// end of a run, on error, and on Ctrl-C; none outlives the harness.
import { fork, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { rmSync } from 'node:fs'
import type { ClientMessage, ClientReport, ClientRequest } from './client-main.js'

const live = new Set<ChildProcess>()
const tempDirs = new Set<string>()
const TAIL_CHARS = 4000
const STOP_GRACE_MS = 5000

export interface Child {
  label: string
  process: ChildProcess
  /** The last few thousand characters the process wrote, for error messages. */
  tail(): string
}

function track (label: string, child: ChildProcess): Child {
  live.add(child)
  child.once('exit', () => live.delete(child))
  let tail = ''
  const keep = (chunk: Buffer): void => { tail = (tail + chunk.toString()).slice(-TAIL_CHARS) }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  return { label, process: child, tail: () => tail }
}

/** Starts a server; stdin stays open as its lifeline, stdout and stderr are captured. */
export function startServer (label: string, command: string, args: string[], options: { cwd?: string } = {}): Child {
  const child = spawn(command, args, { cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] })
  return track(label, child)
}

/** The first line a server prints on stdout: where it listens. */
export async function firstLine (child: Child, timeoutMs: number): Promise<string> {
  const stdout = child.process.stdout
  if (stdout == null) throw new Error(`${child.label}: no stdout`)
  return await new Promise<string>((resolve, reject) => {
    let text = ''
    const done = (err?: Error, line?: string): void => {
      clearTimeout(timer)
      stdout.off('data', onData)
      child.process.off('exit', onExit)
      if (err != null) reject(err); else resolve(line ?? '')
    }
    const onData = (chunk: Buffer): void => {
      text += chunk.toString()
      const end = text.indexOf('\n')
      if (end >= 0) done(undefined, text.slice(0, end).trim())
    }
    const onExit = (code: number | null): void => { done(new Error(`${child.label} exited (${code}) before it was ready:\n${child.tail()}`)) }
    const timer = setTimeout(() => { done(new Error(`${child.label} not ready after ${timeoutMs} ms:\n${child.tail()}`)) }, timeoutMs)
    stdout.on('data', onData)
    child.process.once('exit', onExit)
  })
}

/** SIGTERM, then SIGKILL if the process has not exited after a grace period. */
export async function stopChild (child: Child, graceMs = STOP_GRACE_MS): Promise<void> {
  const proc = child.process
  if (proc.exitCode != null || proc.signalCode != null) return
  const exited = once(proc, 'exit')
  proc.kill('SIGTERM')
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}

/**
 * Runs a client process to completion: it gets `request` as its argument and answers with one
 * IPC message. Its progress lines go to our stderr; it is killed after `timeoutMs`.
 */
export async function runClient (label: string, script: string, request: ClientRequest, timeoutMs: number): Promise<ClientReport> {
  const proc = fork(script, [JSON.stringify(request)], { stdio: ['pipe', 2, 2, 'ipc'] })
  const child = track(label, proc)
  try {
    const message = await new Promise<ClientMessage>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`${label}: no result after ${timeoutMs} ms`)) }, timeoutMs)
      proc.once('message', (m: ClientMessage) => { clearTimeout(timer); resolve(m) })
      proc.once('exit', code => { clearTimeout(timer); reject(new Error(`${label} exited (${code}) without a result`)) })
    })
    if (!message.ok) throw new Error(`${label} failed: ${message.error}`)
    return message.report
  } finally {
    // The client closes its transport and exits by itself once it has answered.
    if (proc.exitCode == null && proc.signalCode == null) {
      await Promise.race([once(proc, 'exit'), new Promise(resolve => setTimeout(resolve, STOP_GRACE_MS).unref())])
    }
    await stopChild(child)
  }
}

export async function stopAll (): Promise<void> {
  await Promise.all([...live].map(async proc => { await stopChild({ label: 'child', process: proc, tail: () => '' }) }))
}

/** A temporary directory to remove at exit unless its owner removed it (then `forget` it). */
export function trackTempDir (path: string): { forget(): void } {
  tempDirs.add(path)
  return { forget: () => { tempDirs.delete(path) } }
}

/** Kills whatever is still running when the harness exits, however it exits, and removes temp dirs. */
export function installCleanup (): void {
  process.on('exit', () => {
    for (const proc of live) proc.kill('SIGKILL')
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
  })
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`bench: ${signal}, stopping ${live.size} child process(es)\n`)
      stopAll().finally(() => process.exit(130))
    })
  }
}
