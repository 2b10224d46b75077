import assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'
import { withTimeout } from '../../protocol/cancellation.js'

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** Resolves with the signal's reason once it aborts. */
const untilAborted = async (signal: AbortSignal): Promise<unknown> => await new Promise(resolve => {
  signal.addEventListener('abort', () => { resolve(signal.reason) }, { once: true })
})

describe('withTimeout', () => {
  it('aborts the signal with a TimeoutError once the limit passes', async () => {
    const reason = await withTimeout(20, [], untilAborted)
    assert.ok(reason instanceof DOMException)
    assert.equal(reason.name, 'TimeoutError')
  })

  it('clears its timer when the work settles first: the signal never aborts afterwards', async () => {
    let seen: AbortSignal | undefined
    assert.equal(await withTimeout(20, [], async (signal) => { seen = signal; return 7 }), 7)
    await sleep(60)
    assert.equal(seen?.aborted, false)
  })

  it('clears its timer when the work throws, and passes the error on', async () => {
    let seen: AbortSignal | undefined
    await assert.rejects(withTimeout(20, [], async (signal) => { seen = signal; throw new Error('boom') }), /boom/)
    await sleep(60)
    assert.equal(seen?.aborted, false)
  })

  it('aborts with the reason of any other signal given, ignoring missing ones', async () => {
    const outer = new AbortController()
    const running = withTimeout(10_000, [undefined, outer.signal], untilAborted)
    outer.abort(new Error('stopped'))
    assert.equal(((await running) as Error).message, 'stopped')
  })
  it('leaves nothing behind on a long-lived signal once it settles, and starts aborted if one is', async () => {
    const service = new AbortController()
    for (let i = 0; i < 100; i++) assert.equal(await withTimeout(10_000, [service.signal], async () => i), i)
    assert.equal(getEventListeners(service.signal, 'abort').length, 0)
    const stopped = new AbortController()
    stopped.abort(new Error('stopped before'))
    assert.equal(((await withTimeout(10_000, [stopped.signal], async (signal) => signal.aborted ? signal.reason : undefined)) as Error).message, 'stopped before')
  })
})
