// Client process for praas invoke: a Client of the public SDK deploys an echo app, creates one
// process of it and invokes its `echo` function. Target: JSON array of the node's multiaddrs.
import '../protocol/polyfill.js'
import { Client } from '../sdk/index.js'
import { clientMain, type Transport } from './client-main.js'

const ECHO_APP = 'bench-echo'
const ECHO_SOURCE = 'export async function echo (input) { return input }\n'

async function open (target: string): Promise<Transport> {
  const bootstrap: string[] = JSON.parse(target)
  const client = await Client.connect({ bootstrap })
  try {
    await client.deploy(ECHO_APP, ECHO_SOURCE)
    const pid = await client.create(ECHO_APP)
    return {
      call: async payload => await client.invoke(pid, 'echo', payload),
      close: async () => { await client.close() }
    }
  } catch (err) {
    await client.close()
    throw err
  }
}

await clientMain(open)
