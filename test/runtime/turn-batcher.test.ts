import assert from 'node:assert/strict'
import { TurnBatcher } from '../../node/runtime/turn-batcher.js'

const nextTurn = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

describe('runtime: turn batcher', function () {
  it('sends the first message of a turn at once and the rest together at the end of the turn', async function () {
    const sent: number[][] = []
    const batcher = new TurnBatcher<number>(batch => { sent.push(batch) })
    batcher.push(1)
    batcher.push(2)
    batcher.push(3)
    assert.deepEqual(sent, [[1]])
    await nextTurn()
    assert.deepEqual(sent, [[1], [2, 3]])
    batcher.push(4)
    assert.deepEqual(sent, [[1], [2, 3], [4]])
  })

  it('sends what the turn queued on flush, in order, and nothing twice', async function () {
    const sent: number[][] = []
    const transfers: ArrayBuffer[][] = []
    const batcher = new TurnBatcher<number>((batch, transfer) => { sent.push(batch); transfers.push(transfer) })
    const buffer = new ArrayBuffer(8)
    batcher.push(1)
    batcher.push(2, [buffer])
    batcher.push(3)
    batcher.flush()
    assert.deepEqual(sent, [[1], [2, 3]])
    assert.deepEqual(transfers[1], [buffer])
    batcher.flush()
    await nextTurn()
    assert.deepEqual(sent, [[1], [2, 3]])
  })
})
