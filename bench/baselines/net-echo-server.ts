// Raw node:net echo server: sends every length-prefixed frame back as it is. Prints its port.
import { createServer } from 'node:net'
import { FrameDecoder } from '../framing.js'
import { announce, exitWithParent } from '../server-main.js'

const server = createServer(socket => {
  socket.setNoDelay(true)
  const decoder = new FrameDecoder()
  socket.on('data', (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) {
      if (!socket.write(frame)) {
        socket.pause()
        socket.once('drain', () => socket.resume())
      }
    }
  })
  socket.on('error', () => socket.destroy())
})

server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  if (address == null || typeof address === 'string') throw new Error('no TCP address')
  announce(String(address.port))
})
exitWithParent(() => { server.close() })
