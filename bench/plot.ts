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
    `<rect width="100%" height="100%" fill="white"/>` +
    `<text x="10" y="22" font-weight="bold">${escape(title)} (${escape(unit)})</text>\n` +
    rows.join('\n') + '\n</svg>\n'
}
