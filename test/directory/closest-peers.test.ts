import assert from 'node:assert/strict'
import { updateClosestPeersOnChange } from '../../node/directory/closest-peers.js'
import { meshNode, stopAll } from '../cluster/mesh.js'
import type { MeshNode } from '../cluster/mesh.js'

interface Tagger { refreshInterval: number, updatePeerTags: () => Promise<void> }
interface Table { closestPeerTagger: Tagger, safeDispatchEvent(type: string, init: unknown): void }

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

describe('directory: kad-dht tags its closest peers only after its list changed', function () {
  let node: MeshNode

  afterEach(async function () {
    if (node != null) await stopAll([node])
  })

  it('applies to the pinned kad-dht, and updates the tags at its first two ticks and at the two after a routing-table ping, and at no other', async function () {
    node = await meshNode()
    const table = (node.services.dht as unknown as { routingTable: Table }).routingTable
    const tagger = table.closestPeerTagger
    let updates = 0
    const original = tagger.updatePeerTags.bind(tagger)
    tagger.updatePeerTags = async () => { updates++; await original() }
    tagger.refreshInterval = 20
    assert.equal(updateClosestPeersOnChange(node.services.dht), true)
    await sleep(150)
    assert.equal(updates, 2, 'the two first ticks tag what the list held before')
    await sleep(100)
    assert.equal(updates, 2, 'no update while nothing changed')
    table.safeDispatchEvent('peer:ping', { detail: node.peerId })
    await sleep(150)
    assert.equal(updates, 4)
    await sleep(100)
    assert.equal(updates, 4)
  })

  it('leaves anything of another shape as it is', function () {
    assert.equal(updateClosestPeersOnChange(undefined), false)
    assert.equal(updateClosestPeersOnChange({ routingTable: {} }), false)
    assert.equal(updateClosestPeersOnChange({ routingTable: { closestPeerTagger: { timeout: 1, refreshInterval: 5 } } }), false)
  })
})
