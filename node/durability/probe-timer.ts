// TEMPORARY instrumentation (not to commit)
import { appendFileSync } from 'node:fs'
const on = process.env.PRAAS_PROF != null
const series = new Map<string, number[]>()
export function stamp (name: string, us: number): void {
  if (!on) return
  let s = series.get(name)
  if (s == null) { s = []; series.set(name, s) }
  s.push(us)
  if (s.length === 2000) {
    const sorted = [...s].sort((a, b) => a - b)
    appendFileSync(`/tmp/dur/prof-${process.pid}.txt`, `${name} n=${s.length} p50=${sorted[1000].toFixed(0)} p90=${sorted[1800].toFixed(0)}\n`)
    s.length = 0
  }
}
const marks = new Map<string, number[]>()
export function mark (name: string): void {
  if (!on) return
  let s = marks.get(name)
  if (s == null) { s = []; marks.set(name, s) }
  s.push(performance.timeOrigin + performance.now())
  if (s.length === 3000) {
    appendFileSync(`/tmp/dur/marks-${process.pid}-${name}.json`, JSON.stringify(s) + '\n')
    s.length = 0
  }
}
