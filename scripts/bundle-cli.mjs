// Bundles the CLI (dist/node/cli/main.js, compiled by tsc) and everything it imports into
// dist/cli/, one file per part loaded on demand: the front (commander and the command list) and
// the commands that talk to a cluster (with the SDK and libp2p). Loading one file instead of
// hundreds of modules is most of a short command's time (docs/operations.md, "The CLI in scripts").
import { rmSync } from 'node:fs'
import { build } from 'esbuild'

// chunk names carry a hash: old ones would pile up
rmSync('dist/cli', { recursive: true, force: true })

await build({
  entryPoints: { praas: 'dist/node/cli/main.js' },
  outdir: 'dist/cli',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // native, optional, and never used by the client
  external: ['@chainsafe/libp2p-quic'],
  // some dependencies are CommonJS that require() node builtins
  banner: { js: "import { createRequire as __praasRequire } from 'node:module'; const require = __praasRequire(import.meta.url);" },
  logLevel: 'warning'
})
