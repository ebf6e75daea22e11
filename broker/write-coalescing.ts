import type { Duplex } from 'node:stream'

type WriteCallback = (error?: Error | null) => void

/**
 * Sends everything written to `stream` during one turn of the event loop as one buffer, in one
 * system call.
 *
 * aedes delivers each message in its own `setImmediate` callback, and mqtt-packet writes a PUBLISH
 * as five or six small chunks (header, length, topic length, topic, id, payload), corking the stream
 * only until the next tick: a busy subscriber got one `writev` per message, each chunk taking its own
 * trip through the stream's machinery (and the topic string its own Buffer). Here the chunks of a
 * whole turn are kept in a list and copied into one buffer when the turn's immediates have run: one
 * write through the stream, one send. Each message waits at most one turn.
 *
 * write() still answers whether the caller should wait for 'drain': false once the stream's buffer
 * and this turn's bytes reach its high-water mark, and 'drain' then follows (from the stream itself,
 * or from here when the turn's bytes went out without filling it). Write callbacks run when the turn's
 * buffer has been written. end() sends what is held first; after destroy() nothing held is sent, as a
 * corked stream would have discarded it.
 *
 * The stream loses its cork(): mqtt-packet corks and schedules an uncork on every packet when the
 * stream has one, a tick a packet for nothing once writes are held here anyway.
 */
export function coalesceWrites(stream: Duplex): void {
  // Loosely typed: the overloads of Duplex['write'] cannot be forwarded as they came.
  const write = stream.write as (this: Duplex, chunk: unknown, encoding?: BufferEncoding | WriteCallback, callback?: WriteCallback) => boolean
  const end = stream.end
  let held: (Buffer | string)[] = []
  let heldBytes = 0
  let callbacks: WriteCallback[] = []
  let owesDrain = false

  const release = () => {
    if (held.length === 0) return
    const chunks = held
    const waiting = callbacks
    const bytes = heldBytes
    held = []
    callbacks = []
    heldBytes = 0
    if (stream.destroyed) {
      const error = Object.assign(new Error('Cannot call write after a stream was destroyed'), { code: 'ERR_STREAM_DESTROYED' })
      for (const callback of waiting) process.nextTick(callback, error)
      return
    }
    let data: Buffer
    if (chunks.length === 1 && typeof chunks[0] !== 'string') data = chunks[0]!
    else {
      data = Buffer.allocUnsafe(bytes)
      let at = 0
      for (const chunk of chunks) at += typeof chunk === 'string' ? data.write(chunk, at, 'utf8') : chunk.copy(data, at)
    }
    const done = waiting.length === 0 ? undefined : waiting.length === 1 ? waiting[0] : (error?: Error | null) => waiting.forEach((callback) => callback(error))
    const ok = write.call(stream, data, done)
    if (owesDrain) {
      owesDrain = false
      if (ok && !stream.writableNeedDrain) stream.emit('drain')
    }
  }

  stream.write = function (this: Duplex, chunk: unknown, encoding?: BufferEncoding | WriteCallback, callback?: WriteCallback) {
    if (typeof encoding === 'function') {
      callback = encoding
      encoding = undefined
    }
    // Whatever the stream would refuse (a destroyed or ended stream, an object in object mode, no
    // chunk at all), it refuses itself, with its own error.
    if (stream.destroyed || stream.writableEnded || stream.writableObjectMode) return write.call(stream, chunk, encoding, callback)
    let bytes: Buffer | string
    if (typeof chunk === 'string') bytes = encoding === undefined || encoding === 'utf8' || encoding === 'utf-8' ? chunk : Buffer.from(chunk, encoding)
    else if (Buffer.isBuffer(chunk)) bytes = chunk
    else if (chunk instanceof Uint8Array) bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    else return write.call(stream, chunk, encoding, callback)
    if (held.length === 0) setImmediate(release)
    held.push(bytes)
    heldBytes += typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length
    if (callback) callbacks.push(callback)
    if (stream.writableNeedDrain) return false
    if (stream.writableLength + heldBytes < stream.writableHighWaterMark) return true
    owesDrain = true
    return false
  } as Duplex['write']

  stream.end = function (this: Duplex, ...args: unknown[]) {
    release()
    return (end as (...a: unknown[]) => Duplex).apply(this, args)
  } as Duplex['end']

  Object.defineProperty(stream, 'cork', { value: undefined, configurable: true, writable: true })
}
