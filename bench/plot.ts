// Plain SVG bar charts for latest.md: no dependency, readable in any browser or on GitHub.

export interface Bar {
  label: string
  value: number
  /** A second, lighter bar behind the first, e.g. p99 behind p50. */
  whisker?: number
}

const WIDTH = 640
const LABEL_WIDTH = 150
const BAR_HEIGHT = 22
const GAP = 10
const TOP = 40

function escape (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

function format (x: number): string {
  return x >= 1000 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(3)
}

export function barChart (title: string, unit: string, bars: Bar[]): string {
  const max = Math.max(1, ...bars.map(b => Math.max(b.value, b.whisker ?? 0)))
  const span = WIDTH - LABEL_WIDTH - 120
  const height = TOP + bars.length * (BAR_HEIGHT + GAP) + 10
  const scale = (x: number): number => Math.max(1, (x / max) * span)
  const rows = bars.map((bar, i) => {
    const y = TOP + i * (BAR_HEIGHT + GAP)
    const whisker = bar.whisker != null
      ? `<rect x="${LABEL_WIDTH}" y="${y}" width="${scale(bar.whisker).toFixed(1)}" height="${BAR_HEIGHT}" fill="#c6dbef"/>`
      : ''
    const end = LABEL_WIDTH + scale(Math.max(bar.value, bar.whisker ?? 0)) + 6
    const text = bar.whisker != null ? `${format(bar.value)} / ${format(bar.whisker)}` : format(bar.value)
    return `${whisker}<rect x="${LABEL_WIDTH}" y="${y}" width="${scale(bar.value).toFixed(1)}" height="${BAR_HEIGHT}" fill="#3182bd"/>` +
      `<text x="${LABEL_WIDTH - 8}" y="${y + 15}" text-anchor="end">${escape(bar.label)}</text>` +
      `<text x="${end.toFixed(1)}" y="${y + 15}">${text}</text>`
  })
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="sans-serif" font-size="13">` +
    '<rect width="100%" height="100%" fill="white"/>' +
    `<text x="10" y="22" font-weight="bold">${escape(title)} (${escape(unit)})</text>\n` +
    rows.join('\n') + '\n</svg>\n'
}

export interface Series {
  label: string
  /** One value per x label; null where it was not measured. */
  values: Array<number | null>
  /** Drawn dashed, e.g. the p99 line beside a p50 line of the same color family. */
  dashed?: boolean
}

const COLORS = ['#3182bd', '#e6550d', '#6baed6', '#fd8d3c', '#31a354', '#756bb1']

/** Lines over categorical x labels (e.g. state sizes) on a log y axis, with a legend. */
export function lineChart (title: string, unit: string, xs: string[], series: Series[]): string {
  const all = series.flatMap(s => s.values).filter((v): v is number => v != null && v > 0)
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...all, 1))))
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...all, 10))))
  const left = 70
  const right = WIDTH - 170
  const top = TOP
  const bottom = 300
  const x = (i: number): number => xs.length < 2 ? (left + right) / 2 : left + (i / (xs.length - 1)) * (right - left)
  const y = (v: number): number => bottom - (Math.log10(v / lo) / Math.log10(hi / lo)) * (bottom - top)
  const grid: string[] = []
  for (let v = lo; v <= hi; v *= 10) {
    grid.push(`<line x1="${left}" y1="${y(v).toFixed(1)}" x2="${right}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>` +
      `<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${format(v)}</text>`)
  }
  xs.forEach((label, i) => grid.push(`<text x="${x(i).toFixed(1)}" y="${bottom + 18}" text-anchor="middle">${escape(label)}</text>`))
  const lines = series.map((s, k) => {
    const color = COLORS[k % COLORS.length]
    const points = s.values.flatMap((v, i) => v != null && v > 0 ? [[x(i), y(v)]] : [])
    const path = points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' ')
    const dots = points.map(([px, py]) => `<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3" fill="${color}"/>`).join('')
    const legend = `<rect x="${right + 16}" y="${top + k * 20}" width="12" height="12" fill="${color}"/>` +
      `<text x="${right + 34}" y="${top + k * 20 + 11}">${escape(s.label)}</text>`
    const dash = s.dashed === true ? ' stroke-dasharray="6 4"' : ''
    return `<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"${dash}/>${dots}${legend}`
  })
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${bottom + 34}" font-family="sans-serif" font-size="13">` +
    '<rect width="100%" height="100%" fill="white"/>' +
    `<text x="10" y="22" font-weight="bold">${escape(title)} (${escape(unit)}, log scale)</text>\n` +
    grid.join('\n') + '\n' + lines.join('\n') + '\n</svg>\n'
}
