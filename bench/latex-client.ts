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

interface Timed {
  name: string
  call: () => Promise<Uint8Array>
  /** Runs outside the timing. */
  check: (out: Uint8Array) => void
}

/**
 * Sequential calls after a warm-up, the kinds taken in turn (one of each per round), so that a
 * figure and the baseline it is held against see the same machine; latencies in microseconds.
 */
async function sequential (kinds: Timed[], plan: Plan): Promise<Map<string, Summary>> {
  const warmup = Math.ceil(plan.warmup / 10)
  const iterations = Math.ceil(plan.iterations / 5)
  let deadline = performance.now() + plan.maxPhaseMs
  for (let i = 0; i < warmup && performance.now() < deadline; i++) for (const kind of kinds) kind.check(await kind.call())
  const samples = kinds.map((): number[] => [])
  deadline = performance.now() + kinds.length * plan.maxPhaseMs
  while (samples[0].length < iterations && performance.now() < deadline) {
    for (const [i, kind] of kinds.entries()) {
      const start = performance.now()
      const out = await kind.call()
      samples[i].push((performance.now() - start) * 1000)
      kind.check(out)
    }
  }
  return new Map(kinds.map((kind, i) => [kind.name, summarize(samples[i])]))
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
  const kinds: Timed[] = []
  if (request.modes.includes('getfile')) {
    process.stderr.write(`  ${request.source}: get of a ${SECTION_BYTES} B file\n`)
    kinds.push({
      name: 'getfile',
      call: async () => await call('get', 'section.tex'),
      check: out => { if (out.byteLength !== SECTION_BYTES) throw new Error(`get returned ${out.byteLength} bytes, not ${SECTION_BYTES}`) }
    })
  }
  if (request.modes.includes('compile')) {
    process.stderr.write(`  ${request.source}: compile of an unchanged document\n`)
    kinds.push({
      name: 'compile',
      call: async () => await call('compile'),
      check: out => { if (JSON.parse(decoder.decode(out)).ran !== false) throw new Error('an unchanged compile ran pdflatex') }
    })
  }
  if (target.redis == null) {
    // the floor of both: an invoke on the same node that carries the same 10 KiB (an echo function of an app of its own, no state)
    process.stderr.write(`  ${request.source}: an echo of the same ${SECTION_BYTES} B, in turn with them\n`)
    await client.deploy('latex-echo', 'export async function echo (input) { return input }\n')
    const echoPid = await client.create('latex-echo')
    const section = encoder.encode(SECTION)
    kinds.push({
      name: 'echo10k',
      call: async () => await client.invoke(echoPid, 'echo', section),
      check: out => { if (out.byteLength !== SECTION_BYTES) throw new Error(`the echo returned ${out.byteLength} bytes, not ${SECTION_BYTES}`) }
    })
  }
  const figures = await sequential(kinds, request.plan)
  report.getfile = figures.get('getfile')
  report.compile = figures.get('compile')
  report.echo10k = figures.get('echo10k')
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
