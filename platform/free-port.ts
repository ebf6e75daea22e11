import { createServer } from 'node:net'
import { listen } from './listen.ts'

/**
 * Asks the OS for a free TCP port on loopback. For servers that cannot listen on port 0 themselves
 * (modbus-serial's ServerTCP turns 0 into 502).
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer()
  const port = await listen(server, { port: 0, host })
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Whether `port` can be listened on at `host` right now. */
export async function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  const server = createServer()
  try {
    await listen(server, { port, host })
  } catch {
    return false
  }
  await new Promise((resolve) => server.close(resolve))
  return true
}
