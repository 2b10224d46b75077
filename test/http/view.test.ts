import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startCluster, stopCluster } from '../helpers/cluster.js'
import type { TestNode } from '../helpers/cluster.js'
import type { BrowserContext, Page } from 'playwright-core'

/** Debian's chromium (`.ci/run` installs it). */
const CHROMIUM = process.env.PRAAS_CHROMIUM ?? '/usr/bin/chromium'

interface Row { peer: string, state: string, leader: string }

async function rows (page: Page): Promise<Row[]> {
  return await page.$$eval('#nodes tr', trs => trs.map(tr => ({ peer: tr.dataset.peer ?? '', state: tr.dataset.state ?? '', leader: tr.dataset.leader ?? '' })))
}

/** Waits until the page's rows satisfy `check`, and returns them. */
async function until (page: Page, check: (rows: Row[]) => boolean, ms: number, what: string): Promise<Row[]> {
  const deadline = Date.now() + ms
  for (;;) {
    const now = await rows(page)
    if (check(now)) return now
    if (Date.now() > deadline) throw new Error(`the page did not show ${what} within ${ms} ms; it shows ${JSON.stringify(now)}`)
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

describe('the web view of the mesh, in a headless browser', function () {
  this.timeout(120_000)
  let nodes: TestNode[] = []
  let browser: BrowserContext | undefined
  let profile: string | undefined

  before(async function () {
    if (!existsSync(CHROMIUM)) this.skip() // pending where Debian's chromium is not installed (apt-get install chromium)
    nodes = await startCluster(3, ['--http', '127.0.0.1:0'])
    const { chromium } = await import('playwright-core')
    profile = await mkdtemp(join(tmpdir(), 'praas-chromium-'))
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
    })
  })

  after(async function () {
    await browser?.close()
    if (profile != null) await rm(profile, { recursive: true, force: true })
    await stopCluster(nodes)
  })

  it('shows every node of a 3-node cluster and the leader, and follows a node that dies', async function () {
    const { http } = JSON.parse(await readFile(join(nodes[0].dataDir, 'node.json'), 'utf8')) as { http: string }
    const page = await browser!.newPage()
    const errors: string[] = []
    page.on('pageerror', err => { errors.push(err.message) })
    await page.goto(http)
    const ids = nodes.map(n => n.peerId).sort()
    const all = await until(page, r => r.filter(x => x.state === 'up').length === 3, 20_000, 'three nodes up')
    assert.deepEqual(all.map(r => r.peer).sort(), ids)
    assert.equal(all.filter(r => r.leader === 'true').length, 1, 'one leader')
    assert.equal(await page.textContent('#count'), '3')
    // the page updates itself: a node killed outright is marked gone, the others stay up
    const victim = nodes.find(n => all.find(r => r.peer === n.peerId)?.leader !== 'true' && n !== nodes[0])!
    await victim.kill('SIGKILL')
    // the survivors stay up; one may miss a poll while the victim's death is spread (it is up
    // again at the next), so the page is read once it shows the victim gone and both survivors up
    const survivors = ids.filter(id => id !== victim.peerId)
    const after = await until(page, r => r.find(x => x.peer === victim.peerId)?.state === 'gone' &&
      survivors.every(id => r.find(x => x.peer === id)?.state === 'up'), 30_000, `${victim.peerId} gone, the others up`)
    assert.deepEqual(after.filter(r => r.state === 'up').map(r => r.peer).sort(), ids.filter(id => id !== victim.peerId))
    assert.equal(await page.textContent('#count'), '2')
    assert.deepEqual(errors, [], 'no script errors on the page')
  })
})
