// Local disk baseline of the swap benchmarks (durable.ts): the same bytes a swap persists,
// written to a new file in a temp dir on the nodes' filesystem (the target) in 1 MiB writes and
// one fsync (`swapout`), then read back whole (`swapin`). Random bytes, a new file each cycle, as
// the praas side fills its process afresh before each swap.
import { randomFillSync } from 'node:crypto'
import { open, readFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { ClientReport, ClientRequest, SwapPoint } from '../client-main.js'
import { durableCounts } from '../durable.js'
import { reportMain } from '../ipc-child.js'
import { summarize } from '../stats.js'

const MIB = 1024 * 1024

/** `mib` buffers of 1 MiB of random bytes: incompressible, like what apps/durable.js `fill` writes. */
function pattern (mib: number): Uint8Array[] {
  return Array.from({ length: mib }, () => randomFillSync(new Uint8Array(MIB)))
}

async function measure (request: ClientRequest): Promise<{ report: ClientReport, close(): Promise<void> }> {
  const counts = durableCounts(request.plan)
  const sweep: SwapPoint[] = []
  for (const bytes of counts.sizes) {
    const out: number[] = []
    const back: number[] = []
    for (let i = 0; i < counts.cycles; i++) {
      const buffers = pattern(bytes / MIB)
      const path = join(request.target, `image-${i}`)
      let start = performance.now()
      const fh = await open(path, 'w')
      try {
        for (const b of buffers) await fh.write(b)
        await fh.sync()
      } finally {
        await fh.close()
      }
      out.push((performance.now() - start) * 1000)
      start = performance.now()
      const read = await readFile(path)
      back.push((performance.now() - start) * 1000)
      if (read.byteLength !== bytes) throw new Error(`read ${read.byteLength} bytes of ${bytes}`)
      await unlink(path)
      process.stderr.write(`  disk.io: ${bytes / MIB} MiB: write + fsync ${(out[i] / 1000).toFixed(0)} ms, read ${(back[i] / 1000).toFixed(0)} ms\n`)
    }
    sweep.push({ bytes, out: summarize(out), in: summarize(back) })
  }
  const last = sweep[sweep.length - 1]
  return { report: { sweep, swapout: last.out, swapin: last.in }, close: async () => {} }
}

await reportMain(measure)
