// Client process for the node:net echo baseline. Target: the server's port on 127.0.0.1.
import { connect } from 'node:net'
import { once } from 'node:events'
import { clientMain, type Transport } from '../client-main.js'
import { FrameClient } from '../framing.js'

async function open (target: string): Promise<Transport> {
  const socket = connect({ host: '127.0.0.1', port: Number(target), noDelay: true })
  await once(socket, 'connect')
  const client = new FrameClient(async frame => {
    if (!socket.write(frame)) await once(socket, 'drain')
  })
  socket.on('data', (chunk: Buffer) => { client.receive(chunk) })
  socket.on('close', () => { client.failAll(new Error('connection closed')) })
  return {
    call: async payload => await client.call(payload),
    close: async () => { socket.end(); socket.destroy() }
  }
}

await clientMain(open)
