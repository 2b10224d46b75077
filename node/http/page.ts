/**
 * The web view of the mesh, served by every node as it is (no build step): a page that polls
 * `/api/mesh` every second and draws a row per node. A node that leaves the mesh stays on the
 * page, greyed out as "gone", so that a reader sees which one died.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>praas mesh</title>
<link rel="stylesheet" href="view.css">
<script src="view.js" defer></script>
</head>
<body>
<header>
  <h1>praas mesh</h1>
  <dl id="summary">
    <dt>leader</dt><dd id="leader">…</dd>
    <dt>term</dt><dd id="term">…</dd>
    <dt>nodes</dt><dd id="count">…</dd>
    <dt>processes</dt><dd id="processes">…</dd>
    <dt>calls/s</dt><dd id="rate">…</dd>
  </dl>
  <p id="banner" hidden></p>
  <form id="login" hidden>
    <label>This endpoint needs a token with the <code>status</code> right:
      <input id="token" type="password" autocomplete="off" placeholder="token"></label>
    <button>Show the mesh</button>
  </form>
</header>
<main>
<table>
  <thead><tr><th>node</th><th>role</th><th>processes</th><th>swapped</th><th>calls/s</th><th>calls</th><th>mailboxes</th><th>event loop</th><th>memory</th><th>addresses</th></tr></thead>
  <tbody id="nodes"></tbody>
</table>
</main>
<footer>Served by <span id="self">…</span>, updated <span id="updated">never</span>. <a href="metrics">/metrics</a></footer>
</body>
</html>
`

export const PAGE_CSS = `body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d2330; background: #fafbfc; }
h1 { font-size: 1.3rem; margin: 0 0 .5rem; }
#summary { display: flex; flex-wrap: wrap; gap: .25rem 1.5rem; margin: 0 0 1rem; }
#summary dt { color: #667; } #summary dd { margin: 0 0 0 .4rem; font-weight: 600; }
#summary div { display: flex; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #e3e6ea; white-space: nowrap; }
th { font-weight: 600; color: #556; background: #f0f2f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.addrs { white-space: normal; font-size: .8rem; color: #667; max-width: 28rem; word-break: break-all; }
tr[data-state="gone"] td { color: #aab; text-decoration: line-through; }
tr[data-self="true"] td:first-child::after { content: " (this node)"; color: #667; }
.bar { display: inline-block; height: .6rem; background: #4f7cff; margin-left: .4rem; vertical-align: middle; border-radius: 2px; }
#banner { background: #fff3cd; border: 1px solid #e6d28a; padding: .5rem .8rem; }
footer { margin-top: 1rem; color: #667; font-size: .85rem; }
code { font-size: .9em; }
`

export const PAGE_JS = `'use strict'
const POLL_MS = 1000
const GONE_KEPT_MS = 10 * 60 * 1000
const seen = new Map()
let token = sessionStorage.getItem('praas-token') || ''

const $ = (id) => document.getElementById(id)
const short = (id) => id.length > 16 ? id.slice(0, 8) + '…' + id.slice(-6) : id
const bytes = (n) => n >= 1 << 30 ? (n / (1 << 30)).toFixed(1) + ' GiB' : n >= 1 << 20 ? (n / (1 << 20)).toFixed(1) + ' MiB' : n >= 1024 ? (n / 1024).toFixed(1) + ' KiB' : n + ' B'

function cell (text, className) {
  const td = document.createElement('td')
  td.textContent = text
  if (className) td.className = className
  return td
}

function draw (mesh) {
  const now = Date.now()
  const live = new Set()
  for (const node of mesh.nodes) {
    live.add(node.peerId)
    seen.set(node.peerId, { node, lastSeen: now })
  }
  for (const [id, entry] of seen) if (!live.has(id) && now - entry.lastSeen > GONE_KEPT_MS) seen.delete(id)
  const rows = [...seen.values()].sort((a, b) => a.node.peerId < b.node.peerId ? -1 : 1)
  const maxRate = Math.max(1, ...mesh.nodes.map(n => n.stats ? n.stats.callsPerSecond : 0))
  const body = document.createElement('tbody')
  body.id = 'nodes'
  for (const { node, lastSeen } of rows) {
    const up = live.has(node.peerId)
    const tr = document.createElement('tr')
    tr.dataset.peer = node.peerId
    tr.dataset.state = up ? 'up' : 'gone'
    tr.dataset.leader = String(up && node.peerId === mesh.leader)
    tr.dataset.self = String(node.peerId === mesh.self)
    const name = cell(short(node.peerId))
    name.title = node.peerId
    tr.append(name)
    tr.append(cell(!up ? 'gone since ' + new Date(lastSeen).toLocaleTimeString() : node.peerId === mesh.leader ? 'leader' : 'member'))
    const s = up ? node.stats : null
    tr.append(cell(String(up ? node.load : '–'), 'num'))
    tr.append(cell(s ? String(s.swapped) : '–', 'num'))
    const rate = cell(s ? s.callsPerSecond.toFixed(1) : '–', 'num')
    if (s) {
      const bar = document.createElement('span')
      bar.className = 'bar'
      bar.style.width = Math.round(60 * s.callsPerSecond / maxRate) + 'px'
      rate.append(bar)
    }
    tr.append(rate)
    tr.append(cell(s ? String(s.callsTotal) : '–', 'num'))
    tr.append(cell(s ? bytes(s.mailboxBytes) : '–', 'num'))
    tr.append(cell(up ? node.eventLoopDelayMs.toFixed(1) + ' ms' : '–', 'num'))
    tr.append(cell(up ? bytes(node.memory) : '–', 'num'))
    tr.append(cell(node.addrs.join(' '), 'addrs'))
    body.append(tr)
  }
  $('nodes').replaceWith(body)
  $('leader').textContent = mesh.leader ? short(mesh.leader) : '(none elected)'
  $('leader').title = mesh.leader || ''
  $('term').textContent = String(mesh.term)
  $('count').textContent = String(mesh.nodes.length)
  $('processes').textContent = String(mesh.nodes.reduce((sum, n) => sum + n.load, 0))
  $('rate').textContent = mesh.nodes.reduce((sum, n) => sum + (n.stats ? n.stats.callsPerSecond : 0), 0).toFixed(1)
  $('self').textContent = short(mesh.self)
  $('self').title = mesh.self
  $('updated').textContent = new Date(mesh.time).toLocaleTimeString()
}

async function poll () {
  try {
    const res = await fetch('api/mesh', { headers: token ? { Authorization: 'Bearer ' + token } : {}, cache: 'no-store' })
    if (res.status === 401) {
      $('login').hidden = false
      $('banner').hidden = true
    } else if (!res.ok) {
      throw new Error('HTTP ' + res.status)
    } else {
      $('login').hidden = true
      $('banner').hidden = true
      draw(await res.json())
    }
  } catch (err) {
    $('banner').textContent = 'This node does not answer (' + err.message + '); the figures below are from ' + $('updated').textContent + '.'
    $('banner').hidden = false
  }
  setTimeout(poll, POLL_MS)
}

$('login').addEventListener('submit', (evt) => {
  evt.preventDefault()
  token = $('token').value.trim()
  sessionStorage.setItem('praas-token', token)
})
poll()
`
