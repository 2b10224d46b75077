// The sandbox runtime's goals (issue 15), each a ratio of two rows of the same run, and whether
// this run met it: lines for latest.md.
import type { Row } from './metrics.js'

interface Goal {
  metric: string
  baseline: string | null
  /** The ratio's bound (lower is better) or floor (higher is better); for a plain value (baseline null), its bound in the row's unit. */
  max?: number
  min?: number
}

const GOALS: Goal[] = [
  { metric: 'invoke.rtt', baseline: 'libp2p.echo', max: 1.15 },
  { metric: 'invoke.cpu', baseline: 'libp2p.echo', max: 1.3 },
  { metric: 'ipc.oneway.remote', baseline: 'libp2p.echo.half', max: 1.3 },
  { metric: 'ipc.oneway.remote', baseline: 'redis.relay', max: 1.0 },
  { metric: 'ipc.oneway.local', baseline: 'redis.relay', max: 0.3 },
  { metric: 'state.incr', baseline: 'praas.invoke', max: 1.2 },
  { metric: 'invoke.parallel', baseline: 'invoke.parallel.one', min: 1.7 },
  { metric: 'invoke.throughput', baseline: 'http.echo', min: 1.5 },
  { metric: 'latex.getfile', baseline: 'latex.echo', max: 1.1 },
  { metric: 'latex.compile', baseline: 'latex.echo', max: 1.1 },
  { metric: 'invoke.cold', baseline: null, max: 3 }
]

export function sandboxNotes (rows: Row[]): string[] {
  const lines = GOALS.flatMap(g => {
    const row = rows.find(r => r.metric === g.metric && (g.baseline == null || r.baseline === g.baseline))
    if (row == null) return []
    const figure = g.baseline == null ? row.value : row.ratio
    const met = figure == null ? 'not measured' : (g.max != null ? figure <= g.max : figure >= (g.min ?? 0)) ? 'met' : 'NOT met'
    const what = g.baseline == null ? `\`${g.metric}\` = ${figure ?? '–'} ${row.unit} (p50)` : `\`${g.metric}\` / \`${g.baseline}\` = ${figure ?? '–'}`
    return [`- ${what}, goal ${g.max != null ? `at most ${g.max}` : `at least ${g.min ?? 0}`}: ${met}`]
  })
  const deploy = rows.find(r => r.metric === 'deploy.cold')
  if (deploy != null) lines.push(`- \`deploy.cold\` = ${deploy.value ?? '–'} ms (p50 of ${deploy.n}: deploy + create + first invoke of a new app; reported, no goal)`)
  return lines.length > 0 ? ['Goals (issue 15, the sandbox runtime; docs/benchmarks.md says what stands between each figure and its goal):', '', ...lines, ''] : []
}
