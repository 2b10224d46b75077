#!/usr/bin/env node
// The `praas` command: the compiled CLI lives in dist/ (`npm run build`).
//
// A node runs app code in V8 isolates (isolated-vm), which on Node 20 and later need the node
// started with --no-node-snapshot. `praas node` started without it runs itself again with it,
// as a child that gets the signals this process gets, and exits with its code. Started with the
// flag (or with it in NODE_OPTIONS), nothing is in between.
import { spawn } from 'node:child_process'

const FLAG = '--no-node-snapshot'
const flagged = process.execArgv.includes(FLAG) || (process.env.NODE_OPTIONS ?? '').split(/\s+/).includes(FLAG)

if (process.argv[2] === 'node' && !flagged) {
  const child = spawn(process.execPath, [...process.execArgv, FLAG, ...process.argv.slice(1)], { stdio: 'inherit' })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => { child.kill(signal) })
  child.on('exit', (code, signal) => {
    if (signal != null) process.kill(process.pid, signal)
    else process.exit(code ?? 1)
  })
} else {
  await import('../dist/protocol/polyfill.js')
  await import('../dist/node/cli.js')
}
