import { PraasError, checkPid } from '../../protocol/index.js'
import { ANY_SENDER, exactBytes } from '../runtime/index.js'
import type { Runtime } from '../runtime/index.js'
import type { InvokeRequest } from '../../protocol/index.js'
import type { AbortOptions } from '@libp2p/interface'

/**
 * Answers one request of /praas/channel/1.0.0: `send` puts a message into a hosted process's
 * mailbox (acknowledged once it is there); `recv` lets a client take what a process here sent
 * it. A client may only send as itself and read its own mailbox.
 */
export async function serveChannelRequest (runtime: Runtime, remotePeer: string, remoteIsNode: boolean, request: InvokeRequest, options: AbortOptions): Promise<Uint8Array> {
  const key = request.key ?? ''
  if (key === '') throw new PraasError('BAD_REQUEST', 'a channel request names a key')
  switch (request.fn) {
    case 'send': {
      const from = request.from ?? ''
      if (from === '' || from === ANY_SENDER) throw new PraasError('BAD_REQUEST', 'a message names its sender')
      // A node speaks for its processes; a client only for itself.
      if (!remoteIsNode && from !== remotePeer) throw new PraasError('UNAUTHORIZED', 'a client sends as itself')
      // `options` goes on as it is: its signal is made only if the mailbox is full and the send must wait
      await runtime.deliver(request.pid, key, { from, data: exactBytes(request.payload) }, options)
      return new Uint8Array(0)
    }
    case 'recv': {
      if (request.from !== remotePeer) throw new PraasError('UNAUTHORIZED', 'a client may only receive its own messages')
      if (request.pid !== ANY_SENDER) checkPid(request.pid)
      const message = await runtime.clientMailbox(remotePeer).take(request.pid, key, { signal: options.signal, timeoutMs: request.timeoutMs })
      return message.data
    }
    default:
      throw new PraasError('BAD_REQUEST', `unknown channel operation ${request.fn}`)
  }
}
