import { createConnection, createServer, type Socket } from 'node:net'
import { listen } from '../../platform/listen.ts'

/**
 * A TCP proxy on loopback that can go silent: `freeze()` stops forwarding in both directions while
 * keeping both sockets open, as when a Pi loses power or its Wi-Fi dies (no FIN ever arrives).
 */
export async function startFreezableProxy(targetPort: number): Promise<{ port: number; freeze(): void; close(): Promise<void> }> {
  const sockets: Socket[] = []
  let frozen = false
  const server = createServer((client) => {
    const upstream = createConnection({ port: targetPort, host: '127.0.0.1' })
    sockets.push(client, upstream)
    client.on('data', (d) => frozen || upstream.write(d))
    upstream.on('data', (d) => frozen || client.write(d))
    const end = () => {
      if (frozen) return
      client.destroy()
      upstream.destroy()
    }
    client.on('close', end)
    upstream.on('close', end)
    client.on('error', () => {})
    upstream.on('error', () => {})
  })
  const port = await listen(server, { port: 0, host: '127.0.0.1' })
  return {
    port,
    freeze: () => (frozen = true),
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
