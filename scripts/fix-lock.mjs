#!/usr/bin/env node
// @chainsafe/libp2p-quic lists a native package per platform as optionalDependencies, but some of
// those versions were never published. `npm install` then leaves them out of package-lock.json,
// and `npm ci` refuses a lockfile that lacks them. This script writes a stub entry for each
// missing platform package (marked optional, with its os/cpu), so that `npm ci` sees a complete
// tree and skips them as foreign-platform optionals. Run it after every `npm install`.
import { readFileSync, writeFileSync } from 'node:fs'

const lockPath = new URL('../package-lock.json', import.meta.url)
const lock = JSON.parse(readFileSync(lockPath, 'utf8'))
const platforms = {
  'darwin-arm64': { os: ['darwin'], cpu: ['arm64'] },
  'darwin-x64': { os: ['darwin'], cpu: ['x64'] },
  'linux-arm64-gnu': { os: ['linux'], cpu: ['arm64'], libc: ['glibc'] },
  'linux-arm64-musl': { os: ['linux'], cpu: ['arm64'], libc: ['musl'] },
  'linux-x64-gnu': { os: ['linux'], cpu: ['x64'], libc: ['glibc'] },
  'linux-x64-musl': { os: ['linux'], cpu: ['x64'], libc: ['musl'] },
  'win32-x64-msvc': { os: ['win32'], cpu: ['x64'] }
}
let added = 0
for (const [path, entry] of Object.entries(lock.packages)) {
  const wanted = entry.optionalDependencies ?? {}
  for (const [name, version] of Object.entries(wanted)) {
    const suffix = name.replace('@chainsafe/libp2p-quic-', '')
    if (!name.startsWith('@chainsafe/libp2p-quic-') || platforms[suffix] == null) continue
    const key = `${path.slice(0, path.lastIndexOf('node_modules/'))}node_modules/${name}`.replace(/^\/+/, '')
    if (lock.packages[key] != null) continue
    lock.packages[key] = { version, optional: true, ...platforms[suffix] }
    added++
  }
}
writeFileSync(lockPath, JSON.stringify(lock, null, 2) + '\n')
console.error(`fix-lock: added ${added} stub entries`)
