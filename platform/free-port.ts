import { createServer } from 'node:net'

/**
 * Asks the OS for a free TCP port on loopback. For servers that cannot listen on port 0 themselves
 * (modbus-serial's ServerTCP turns 0 into 502).
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen({ port: 0, host }, () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}
