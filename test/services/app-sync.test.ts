import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { CtlRequest, PraasError } from '../../protocol/index.js'
import { AppRegistry, versionHash } from '../../node/runtime/index.js'
import { AppSync } from '../../node/services/app-sync.js'
import { AppOwners } from '../../node/trust/quotas.js'
import type { CtlResponse } from '../../protocol/index.js'
import type { AppEntry } from '../../protocol/pb/messages.js'

const source = (tag: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(`export async function which () { return '${tag}' }\n`)
const hashOf = (tag: string): string => versionHash(source(tag))

/** What one member holds and hands over; `lies` hands over other bytes than the version it names. */
interface Member {
  apps: Array<AppEntry & { tag: string }>
  lies?: boolean
  down?: boolean
  unlisted?: boolean
  fetched: number
}

function response (fields: Partial<CtlResponse>): CtlResponse {
  return { processes: [], peers: [], source: new Uint8Array(0), hash: '', leader: '', term: 0, allow: [], memoryMib: 0, cpuMs: 0, apps: [], ...fields }
}

/**
 * AppSync against members that answer APPS and FETCH_APP as nodes do (the network between them
 * is left out: what is under test is which versions the syncing node asks for, from whom, and
 * what it accepts). The syncing node's registry runs real sandboxes.
 */
describe('app sync: a node gets the newest version of every app from its members', function () {
  this.timeout(30_000)
  let dir: string
  let apps: AppRegistry
  let owners: AppOwners
  let members: Map<string, Member>

  function sync (): AppSync {
    const peers = {
      list: () => [...members.keys()].map(id => ({ id, addrs: [] })),
      request: async (id: string, request: Partial<CtlRequest>): Promise<CtlResponse> => {
        const member = members.get(id)!
        if (member.down === true) throw new PraasError('UNAVAILABLE', `${id} is down`)
        if (request.op === CtlRequest.Op.APPS) return response({ apps: member.unlisted === true ? [] : member.apps.map(({ tag, ...entry }) => entry) })
        const app = member.apps.find(a => a.name === request.app && a.hash === request.hash)
        if (app == null) throw new PraasError('NOT_FOUND', 'no such version')
        member.fetched++
        const { tag, ...entry } = app
        return response({ source: source(member.lies === true ? `${tag}, tampered` : tag), hash: app.hash, apps: [entry] })
      }
    }
    return new AppSync({ apps, owners, peers, live: () => [...members.keys()], log: logger('praas:test') })
  }

  const version = (name: string, tag: string, serial: number, owner = 'alice'): AppEntry & { tag: string } => ({ name, hash: hashOf(tag), serial, owner, tag })

  beforeEach(async function () {
    dir = await mkdtemp(join(tmpdir(), 'praas-sync-'))
    apps = new AppRegistry(join(dir, 'apps'), { host: { op: () => undefined, ended: () => {} }, log: logger('praas:test') })
    owners = new AppOwners(join(dir, 'owners.json'))
    members = new Map()
  })

  afterEach(async function () {
    await apps.stop()
    // the owners' file may still be being written
    await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 })
  })

  it('installs the newest version of each app any member holds, with its owner', async function () {
    members.set('a', { apps: [version('one', 'one@1', 10), version('two', 'two@2', 20, 'bob')], fetched: 0 })
    members.set('b', { apps: [version('one', 'one@2', 11)], fetched: 0 })
    assert.equal(await sync().sync(), 2)
    assert.equal(apps.get('one')?.hash, hashOf('one@2'))
    assert.equal(apps.get('one')?.serial, 11)
    assert.equal(apps.get('two')?.hash, hashOf('two@2'))
    assert.equal(owners.get('two'), 'bob')
    assert.equal(members.get('a')!.fetched, 1, 'the older version of one is not fetched')
  })

  it('refuses bytes that do not hash to the version, and fetches them from any other member', async function () {
    members.set('liar', { apps: [version('one', 'one@1', 10)], lies: true, fetched: 0 })
    members.set('down', { apps: [], down: true, fetched: 0 })
    // holds the version without listing it (it was asked before the deploy reached it)
    members.set('honest', { apps: [version('one', 'one@1', 10)], unlisted: true, fetched: 0 })
    assert.equal(await sync().sync(), 1)
    assert.equal(apps.get('one')?.hash, hashOf('one@1'))
    assert.deepEqual([members.get('liar')!.fetched, members.get('honest')!.fetched], [1, 1])
  })

  it('leaves a version that is older than the one held here', async function () {
    await apps.deploy('one', source('one@3'), {}, 30)
    members.set('a', { apps: [version('one', 'one@1', 10)], fetched: 0 })
    assert.equal(await sync().sync(), 0)
    assert.equal(members.get('a')!.fetched, 0)
    assert.equal(apps.get('one')?.hash, hashOf('one@3'))
  })

  it('keeps the newer version when a process of an older one is placed here, and fetches the older one once', async function () {
    await apps.deploy('one', source('one@3'), {}, 30)
    members.set('behind', { apps: [version('one', 'one@1', 10)], fetched: 0 })
    const appSync = sync()
    for (let i = 0; i < 3; i++) assert.equal((await appSync.install({ name: 'one', hash: hashOf('one@1') }, ['behind'])).hash, hashOf('one@3'))
    assert.equal(members.get('behind')!.fetched, 1)
  })

  it('moves the serial of a version deployed again without fetching it', async function () {
    await apps.deploy('one', source('one@1'), {}, 10)
    members.set('a', { apps: [version('one', 'one@1', 40)], fetched: 0 })
    await sync().sync()
    assert.equal(members.get('a')!.fetched, 0)
    assert.equal(apps.get('one')?.serial, 40)
  })
})
