import type { Server as NetServer } from 'node:net'
import type { Server as HttpServer } from 'node:http'

/**
 * Starts `server` listening and resolves with the port it got (port 0 asks the OS for a free one).
 * @example const port = await listen(createServer(handler), { port: 0, host: '127.0.0.1' })
 */
export function listen(server: NetServer | HttpServer, options: { port: number; host: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ port: options.port, host: options.host }, () => {
      server.off('error', reject)
      const address = server.address()
      resolve(typeof address === 'object' && address ? address.port : options.port)
    })
  })
}
