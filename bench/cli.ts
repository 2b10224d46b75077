// The CLI as scripts use it: wall time of `praas status`, `praas ps` and `praas invoke` (a fresh
// OS process each, against a `praas node` on loopback), and of `node -e 0` as the floor, taken in
// turns so that each figure and its baseline see the same machine. Run in the harness's own
// process: each call is a child process anyway.
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import type { ClientReport } from './client-main.js'
import type { Plan } from './load.js'
import { startPraasNode } from './praas-node.js'
import { summarize, type Summary } from './stats.js'

export interface CliFigures {
  /** Wall times in us. */
  status: Summary
  ps: Summary
  invoke: Summary
  nodeE0: Summary
}

const NODE_READY_MS = 60_000
const CALL_TIMEOUT_MS = 30_000
/** Calls of each command: each is a process start, 0.1-0.7 s here. */
const CALLS = { quick: 10, full: 30 }

/** Runs `node ARGS` and returns its wall time in us; a failure stops the source. */
function timed (args: string[], cwd: string): number {
  const start = performance.now()
  const run = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: CALL_TIMEOUT_MS })
  const us = (performance.now() - start) * 1000
  if (run.status !== 0) throw new Error(`node ${args.join(' ')} exited ${run.status ?? run.signal}: ${run.stderr.split('\n')[0]}`)
  return us
}

export async function cli (root: string, plan: Plan): Promise<ClientReport> {
  const node = await startPraasNode(root, NODE_READY_MS)
  try {
    const bin = join(root, 'bin', 'praas.js')
    const cluster = ['--bootstrap', node.info.addrs[0]]
    timed([bin, 'deploy', 'bench-cli', join(root, 'examples', 'counter', 'index.js'), ...cluster], root)
    const pid = spawnSync(process.execPath, [bin, 'create', 'bench-cli', ...cluster], { cwd: root, encoding: 'utf8', timeout: CALL_TIMEOUT_MS }).stdout.trim()
    if (pid === '') throw new Error('praas create gave no pid')
    const samples: Record<keyof CliFigures, number[]> = { status: [], ps: [], invoke: [], nodeE0: [] }
    const calls = plan.iterations > 10_000 ? CALLS.full : CALLS.quick
    // one warm-up round: the first start of each reads its files from disk
    for (let i = -1; i < calls; i++) {
      const round = {
        nodeE0: timed(['-e', '0'], root),
        status: timed([bin, 'status', ...cluster], root),
        ps: timed([bin, 'ps', ...cluster], root),
        invoke: timed([bin, 'invoke', pid, 'incr', ...cluster], root)
      }
      if (i >= 0) for (const key of Object.keys(round) as Array<keyof CliFigures>) samples[key].push(round[key])
    }
    process.stderr.write(`  praas.cli: ${calls} calls each\n`)
    return { cli: { status: summarize(samples.status), ps: summarize(samples.ps), invoke: summarize(samples.invoke), nodeE0: summarize(samples.nodeE0) } }
  } finally {
    await node.stop()
  }
}
