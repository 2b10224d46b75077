/**
 * kad-dht 16 tags the peers closest to this node every 5 s (routing-table/closest-peers.js,
 * `updatePeerTags`), whether or not they changed: a set of every peer in its list, each id
 * printed, on every node of an idle mesh (about 3% of an idle member's CPU at 16 nodes, in a
 * profile). The list changes only when a routing-table ping succeeds (`peer:ping`), so here the
 * tags are updated at the two ticks after one (the list takes the peer in asynchronously), and at
 * the first two, and not otherwise. The interval stays kad-dht's own, so that its stop() clears it.
 *
 * This reaches into kad-dht's shape (pinned in package.json): a DHT that does not look exactly
 * as expected is left as it is, and false is returned.
 */
interface RoutingTableShape {
  addEventListener(type: 'peer:ping', listener: () => void): void
  closestPeerTagger?: {
    timeout?: ReturnType<typeof setInterval>
    refreshInterval?: number
    updatePeerTags?: () => Promise<void>
  }
}

export function updateClosestPeersOnChange (dht: unknown): boolean {
  const table = (dht as { routingTable?: RoutingTableShape } | undefined)?.routingTable
  const tagger = table?.closestPeerTagger
  if (table == null || tagger?.timeout == null || typeof tagger.updatePeerTags !== 'function' || typeof tagger.refreshInterval !== 'number') return false
  const update = tagger.updatePeerTags.bind(tagger)
  // peers pinged before this was installed (as the node started) are tagged at the first two ticks
  let ticks = 2
  table.addEventListener('peer:ping', () => { ticks = 2 })
  clearInterval(tagger.timeout)
  tagger.timeout = setInterval(() => {
    if (ticks === 0) return
    ticks--
    void update().catch(() => {})
  }, tagger.refreshInterval)
  tagger.timeout.unref?.()
  return true
}
