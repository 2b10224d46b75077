#!/usr/bin/env node
// The `praas` command. `npm run build` compiles the TypeScript into dist/ and then bundles the
// CLI (with the SDK it talks through) into dist/cli/: a command that loads one file instead of
// the ~900 modules it is made of starts in a fifth of the time. `praas node` runs the compiled
// modules as they are: its worker threads are files of their own.
import { statSync } from 'node:fs'

const bundle = new URL('../dist/cli/praas.mjs', import.meta.url)
const compiled = new URL('../dist/node/cli/main.js', import.meta.url)
const mtime = (url) => statSync(url, { throwIfNoEntry: false })?.mtimeMs ?? -1
// a tree compiled by tsc alone (no bundle, or one older than the modules) runs the modules
const { main } = await import(mtime(bundle) >= mtime(compiled) ? bundle : compiled)
await main(process.argv, { runNode: async () => await import('../dist/node/cli/run-node.js') })
