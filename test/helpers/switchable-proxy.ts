import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { listen } from '../../platform/listen.ts'

/**
 * A TCP proxy on loopback that can be switched off (connections refused, open ones cut) and on again
 * on the same port: an RPC endpoint that goes away and comes back.
 */
export async function startSwitchableProxy(targetPort: number): Promise<{ port: number; down(): Promise<void>; up(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const make = (): Server =>
    createServer((client) => {
      const upstream = createConnection({ port: targetPort, host: '127.0.0.1' })
      for (const s of [client, upstream]) {
        sockets.add(s)
        s.on('close', () => sockets.delete(s))
        s.on('error', () => {})
      }
      client.pipe(upstream)
      upstream.pipe(client)
      client.on('close', () => upstream.destroy())
      upstream.on('close', () => client.destroy())
    })
  let server = make()
  const port = await listen(server, { port: 0, host: '127.0.0.1' })
  const down = async () => {
    for (const s of sockets) s.destroy()
    await new Promise((resolve) => server.close(resolve))
  }
  return {
    port,
    down,
    up: async () => {
      server = make()
      await listen(server, { port, host: '127.0.0.1' })
    },
    close: down,
  }
}
