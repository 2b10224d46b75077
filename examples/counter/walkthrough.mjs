// The README's SDK walkthrough: run with PRAAS_BOOTSTRAP set to a node's multiaddr.
import { readFile } from 'node:fs/promises'
import { Client, PraasError } from 'praas'

const client = await Client.connect({ bootstrap: [process.env.PRAAS_BOOTSTRAP], token: process.env.PRAAS_TOKEN })
await client.deploy('counter', await readFile(new URL('./index.js', import.meta.url)))
const pid = await client.create('counter')
for (let i = 0; i < 100; i++) await client.invoke(pid, 'incr')
console.log(new TextDecoder().decode(await client.invoke(pid, 'get')))   // 100
try {
  await client.invoke('no-such-pid', 'incr')
} catch (err) {
  if (err instanceof PraasError) console.log(err.code)                     // NOT_FOUND
}
await client.close()
