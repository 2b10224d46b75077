#!/usr/bin/env node
// The `praas` command. `npm run build` compiles the TypeScript into dist/ and then bundles the
// CLI (with the SDK it talks through) into dist/cli/: a command that loads one file instead of
// the ~900 modules it is made of starts in a fraction of the time. `praas node` runs the compiled
// modules as they are.
//
// A node runs app code in V8 isolates (isolated-vm), which on Node 20 and later need the node
// started with --no-node-snapshot. `praas node` started without it runs itself again with it,
// as a child that gets the signals this process gets, and exits with its code. Started with the
// flag (or with it in NODE_OPTIONS), nothing is in between.
import { spawn } from 'node:child_process'
import { statSync } from 'node:fs'

const FLAG = '--no-node-snapshot'
const flagged = process.execArgv.includes(FLAG) || (process.env.NODE_OPTIONS ?? '').split(/\s+/).includes(FLAG)

if (process.argv[2] === 'node' && process.argv[3] !== 'remove' && !flagged) {
  const child = spawn(process.execPath, [...process.execArgv, FLAG, ...process.argv.slice(1)], { stdio: 'inherit' })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => { child.kill(signal) })
  child.on('exit', (code, signal) => {
    if (signal != null) process.kill(process.pid, signal)
    else process.exit(code ?? 1)
  })
} else {
  const bundle = new URL('../dist/cli/praas.mjs', import.meta.url)
  const compiled = new URL('../dist/node/cli/main.js', import.meta.url)
  const mtime = (url) => statSync(url, { throwIfNoEntry: false })?.mtimeMs ?? -1
  // a tree compiled by tsc alone (no bundle, or one older than the modules) runs the modules
  const { main } = await import(mtime(bundle) >= mtime(compiled) ? bundle : compiled)
  await main(process.argv, { runNode: async () => await import('../dist/node/cli/run-node.js') })
}
