import { once } from 'node:events'
import { createServer, connect, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { coalesceWrites } from '../../broker/write-coalescing.ts'

/** A connected loopback socket pair: `client` writes, `server` receives. */
async function socketPair(): Promise<{ client: Socket; server: Socket; close(): void }> {
  const listener = createServer()
  listener.listen(0, '127.0.0.1')
  await once(listener, 'listening')
  const { port } = listener.address() as { port: number }
  const accepted = once(listener, 'connection') as Promise<[Socket]>
  const client = connect(port, '127.0.0.1')
  await once(client, 'connect')
  const [server] = await accepted
  return {
    client,
    server,
    close: () => {
      client.destroy()
      server.destroy()
      listener.close()
    },
  }
}

/** Counts the system-call-level writes a socket makes (Node's _writev/_write are one send each). */
function countSends(socket: Socket): { sends: number } {
  const counter = { sends: 0 }
  const writev = (socket as unknown as { _writev: (...a: unknown[]) => unknown })._writev
  const write = (socket as unknown as { _write: (...a: unknown[]) => unknown })._write
  Object.assign(socket, {
    _writev(this: Socket, ...args: unknown[]) {
      counter.sends++
      return writev.apply(this, args)
    },
    _write(this: Socket, ...args: unknown[]) {
      counter.sends++
      return write.apply(this, args)
    },
  })
  return counter
}

function receive(socket: Socket, bytes: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let got = 0
    const onData = (chunk: Buffer) => {
      chunks.push(chunk)
      got += chunk.length
      if (got < bytes) return
      socket.off('data', onData)
      resolve(Buffer.concat(chunks))
    }
    socket.on('data', onData)
  })
}

describe('coalesceWrites: one send per turn of the event loop', () => {
  let close = () => {}
  afterEach(() => close())

  it('sends what is written in one turn in one call, in order, and the next turn again', async () => {
    const pair = await socketPair()
    close = pair.close
    coalesceWrites(pair.client)
    const counter = countSends(pair.client)
    // As aedes delivers: each message from its own immediate, each followed by a tick.
    const messages = Array.from({ length: 200 }, (_, i) => `m${String(i).padStart(3, '0')};`)
    for (const m of messages) setImmediate(() => pair.client.write(m))
    const first = await receive(pair.server, messages.join('').length)
    expect(first.toString()).toBe(messages.join(''))
    expect(counter.sends).toBeLessThanOrEqual(2)

    // Nothing is left corked: a later lone write arrives on its own.
    pair.client.write('late')
    expect((await receive(pair.server, 4)).toString()).toBe('late')
  })

  it('without it, the same writes take one send each (what the wrapper is for)', async () => {
    const pair = await socketPair()
    close = pair.close
    const counter = countSends(pair.client)
    const messages = Array.from({ length: 50 }, (_, i) => `m${i};`)
    // mqtt-packet's own cork: until the next tick.
    for (const m of messages) setImmediate(() => {
      pair.client.cork()
      pair.client.write(m)
      process.nextTick(() => pair.client.uncork())
    })
    await receive(pair.server, messages.join('').length)
    expect(counter.sends).toBeGreaterThan(25)
  })

  it('keeps write()’s backpressure signal and survives a stream destroyed while corked', async () => {
    const pair = await socketPair()
    close = pair.close
    coalesceWrites(pair.client)
    pair.server.pause()
    const big = Buffer.alloc(1024 * 1024)
    expect(pair.client.write(big)).toBe(false)
    pair.client.destroy()
    // The release scheduled for this turn runs on a destroyed stream without throwing.
    await new Promise((resolve) => setImmediate(resolve))
    await new Promise((resolve) => setImmediate(resolve))
    expect(pair.client.destroyed).toBe(true)
  })
})
