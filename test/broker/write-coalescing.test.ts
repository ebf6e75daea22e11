import { once } from 'node:events'
import { createServer, connect, type Socket } from 'node:net'
import mqttPacket from 'mqtt-packet'
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

  it('writes mqtt-packet’s packets byte for byte as generate() makes them, a turn’s worth in one send, with no per-packet cork', async () => {
    const pair = await socketPair()
    close = pair.close
    coalesceWrites(pair.client)
    const counter = countSends(pair.client)
    expect(pair.client.cork).toBeUndefined()
    const packets = Array.from({ length: 100 }, (_, i) => ({ cmd: 'publish' as const, topic: `vpp/v1/s/agents/a${i}/telemetry`, payload: Buffer.from(`{"seq":${i},"ü":"ä"}`), qos: (i % 2) as 0 | 1, messageId: i + 1, retain: false, dup: false }))
    const expected = Buffer.concat(packets.map((p) => mqttPacket.generate(p)))
    const received = receive(pair.server, expected.length)
    for (const packet of packets) mqttPacket.writeToStream(packet, pair.client)
    expect((await received).equals(expected)).toBe(true)
    expect(counter.sends).toBe(1)
  })

  it('takes Uint8Arrays and strings in other encodings, and calls write callbacks in order once the turn is written', async () => {
    const pair = await socketPair()
    close = pair.close
    coalesceWrites(pair.client)
    const called: string[] = []
    const received = receive(pair.server, 9)
    pair.client.write(new Uint8Array([0x61, 0x62]), () => called.push('bytes'))
    pair.client.write('6364', 'hex', () => called.push('hex'))
    pair.client.write('é', 'latin1')
    pair.client.write('ü', () => called.push('utf8'))
    pair.client.write(Buffer.from('xy'), 'utf8', () => called.push('buffer'))
    expect(called).toEqual([])
    expect((await received).equals(Buffer.from([0x61, 0x62, 0x63, 0x64, 0xe9, 0xc3, 0xbc, 0x78, 0x79]))).toBe(true)
    await new Promise((resolve) => setImmediate(resolve))
    expect(called).toEqual(['bytes', 'hex', 'utf8', 'buffer'])
  })

  it('answers false once a turn’s bytes reach the high-water mark, then emits drain when they are out', async () => {
    const pair = await socketPair()
    close = pair.close
    coalesceWrites(pair.client)
    const half = Buffer.alloc(pair.client.writableHighWaterMark / 2 + 1, 7)
    expect(pair.client.write(half)).toBe(true)
    const drained = once(pair.client, 'drain')
    expect(pair.client.write(half)).toBe(false)
    const received = receive(pair.server, half.length * 2)
    await drained
    expect((await received).length).toBe(half.length * 2)
  })

  it('emits drain after a full socket empties when the reader was stalled', async () => {
    const pair = await socketPair()
    close = pair.close
    coalesceWrites(pair.client)
    pair.server.pause()
    const big = Buffer.alloc(4 * 1024 * 1024, 1)
    expect(pair.client.write(big)).toBe(false)
    let drained = false
    pair.client.once('drain', () => (drained = true))
    // Held, then handed to the socket, which cannot send it all while the reader is stalled.
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(drained).toBe(false)
    expect(pair.client.write('more')).toBe(false)
    const received = receive(pair.server, big.length + 4)
    pair.server.resume()
    expect((await received).subarray(-4).toString()).toBe('more')
    await new Promise((resolve) => setImmediate(resolve))
    expect(drained).toBe(true)
  })

  it('sends what it holds before end(), and fails the callbacks of writes held when the stream is destroyed', async () => {
    const pair = await socketPair()
    close = pair.close
    coalesceWrites(pair.client)
    const ended = once(pair.server, 'end')
    const received = receive(pair.server, 6)
    pair.client.write('held')
    pair.client.end('!!')
    expect((await received).toString()).toBe('held!!')
    await ended

    const other = await socketPair()
    const closeFirst = close
    close = () => (closeFirst(), other.close())
    coalesceWrites(other.client)
    const failed = new Promise<Error | null | undefined>((resolve) => other.client.write('lost', resolve))
    other.client.on('error', () => {})
    other.client.destroy()
    expect(((await failed) as NodeJS.ErrnoException).code).toBe('ERR_STREAM_DESTROYED')
  })
})
