import { spawn } from 'node:child_process'
import { createConnection } from 'node:net'
import { freePort } from '../../platform/free-port.ts'
import { waitFor } from './wait-for.ts'

export const REDIS_SERVER = '/usr/bin/redis-server'

/** Debian's redis-server on a free loopback port, nothing saved to disk. */
export async function startRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort()
  const child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  await waitFor('redis to answer PING', () => new Promise<boolean>((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' }, () => socket.write('PING\r\n'))
    socket.on('data', (d) => { resolve(d.toString().startsWith('+PONG')); socket.destroy() })
    socket.on('error', () => resolve(false))
  }), 20_000, 100)
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM')
      await exited
    },
  }
}
