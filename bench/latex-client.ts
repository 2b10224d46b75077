// Client process for the LaTeX example: deploys it, opens one document session (main.tex and a
// 10 KiB section), compiles it once for real, then measures sequential calls of `get` (the
// section) and of `compile` (nothing changed: no pdflatex), as the session process keeps them
// (latex.praas) or as the stateless functions fetch them from Redis (latex.stateless).
import '../protocol/polyfill.js'
import { readFile } from 'node:fs/promises'
import { Client } from '../sdk/index.js'
import { summarize, type Summary } from './stats.js'
import type { ClientMessage, ClientReport, ClientRequest } from './client-main.js'
import type { LatexTarget } from './latex.js'
import type { Plan } from './load.js'

const SECTION_BYTES = 10 * 1024

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const MAIN = '\\documentclass{article}\n\\begin{document}\n\\section{Benchmark}\n\\input{section}\n\\end{document}\n'
const LINE = 'A sentence of the section that the benchmark fetches again and again.\n'
const SECTION = LINE.repeat(Math.ceil(SECTION_BYTES / LINE.length)).slice(0, SECTION_BYTES - 1) + '\n'

/** Sequential calls after a warm-up; latencies in microseconds. `check` runs outside the timing. */
async function sequential (call: () => Promise<Uint8Array>, check: (out: Uint8Array) => void, plan: Plan): Promise<Summary> {
  const warmup = Math.ceil(plan.warmup / 10)
  const iterations = Math.ceil(plan.iterations / 5)
  let deadline = performance.now() + plan.maxPhaseMs
  for (let i = 0; i < warmup && performance.now() < deadline; i++) check(await call())
  const samples: number[] = []
  deadline = performance.now() + plan.maxPhaseMs
  while (samples.length < iterations && performance.now() < deadline) {
    const start = performance.now()
    const out = await call()
    samples.push((performance.now() - start) * 1000)
    check(out)
  }
  return summarize(samples)
}

async function measure (client: Client, request: ClientRequest): Promise<ClientReport> {
  const target: LatexTarget = JSON.parse(request.target)
  // pdflatex through ctx.exec, and the stateless mode's Redis through ctx.connect
  const allow = ['exec:pdflatex', ...(target.redis != null ? [`net:${new URL(target.redis).host}`] : [])]
  await client.deploy('latex', await readFile(target.app), { allow })
  const pid = await client.create('latex')
  // The stateless functions take the store as a first line of every input.
  const prefix = target.redis != null ? `${target.redis}/bench-${process.pid}-${Date.now()}\n` : ''
  const fn = (name: string): string => target.redis != null ? `stateless_${name}` : name
  const call = async (name: string, data = ''): Promise<Uint8Array> => await client.invoke(pid, fn(name), encoder.encode(prefix + data))

  await call('put', `main.tex\n${MAIN}`)
  await call('put', `section.tex\n${SECTION}`)
  const first = JSON.parse(decoder.decode(await call('compile')))
  if (first.ok !== true || first.ran !== true) throw new Error(`the first compile failed: ${JSON.stringify(first)}`)

  const report: ClientReport = {}
  if (request.modes.includes('getfile')) {
    process.stderr.write(`  ${request.source}: get of a ${SECTION_BYTES} B file\n`)
    report.getfile = await sequential(async () => await call('get', 'section.tex'), out => {
      if (out.byteLength !== SECTION_BYTES) throw new Error(`get returned ${out.byteLength} bytes, not ${SECTION_BYTES}`)
    }, request.plan)
  }
  if (request.modes.includes('compile')) {
    process.stderr.write(`  ${request.source}: compile of an unchanged document\n`)
    report.compile = await sequential(async () => await call('compile'), out => {
      if (JSON.parse(decoder.decode(out)).ran !== false) throw new Error('an unchanged compile ran pdflatex')
    }, request.plan)
  }
  if (target.redis == null) {
    // the floor of both: an invoke on the same node that carries the same 10 KiB (an echo function of an app of its own, no state)
    process.stderr.write(`  ${request.source}: an echo of the same ${SECTION_BYTES} B\n`)
    await client.deploy('latex-echo', 'export async function echo (input) { return input }\n')
    const echoPid = await client.create('latex-echo')
    const section = encoder.encode(SECTION)
    report.echo10k = await sequential(async () => await client.invoke(echoPid, 'echo', section), out => {
      if (out.byteLength !== SECTION_BYTES) throw new Error(`the echo returned ${out.byteLength} bytes, not ${SECTION_BYTES}`)
    }, request.plan)
  }
  return report
}

async function main (): Promise<void> {
  process.on('disconnect', () => process.exit(1))
  const request: ClientRequest = JSON.parse(process.argv[2] ?? '{}')
  const { addrs }: LatexTarget = JSON.parse(request.target)
  let message: ClientMessage
  let client: Client | undefined
  try {
    client = await Client.connect({ bootstrap: addrs })
    message = { ok: true, report: await measure(client, request) }
  } catch (err: any) {
    message = { ok: false, error: err?.stack ?? String(err) }
  }
  await new Promise<void>(resolve => { process.send!(message, undefined, {}, () => { resolve() }) })
  await Promise.race([client?.close().catch(() => {}), new Promise(resolve => setTimeout(resolve, 5000).unref())])
  process.exit(message.ok ? 0 : 1)
}

await main()
