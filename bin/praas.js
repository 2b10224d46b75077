#!/usr/bin/env node
// The `praas` command: the compiled CLI lives in dist/ (`npm run build`).
import '../dist/protocol/polyfill.js'
import '../dist/node/cli.js'
