import type { Duplex } from 'node:stream'

/**
 * Sends everything written to `stream` during one turn of the event loop in one system call.
 *
 * aedes delivers each message in its own `setImmediate` callback, and mqtt-packet corks the socket
 * only until the next tick, so a subscriber receiving thousands of messages a second got one
 * `writev` per message (and a publisher one per PUBACK): at full load that was a sixth of the
 * broker's time. Holding the stream corked until the next turn's immediates run costs each message
 * at most one turn of latency, and keeps write()'s backpressure signal as it was.
 */
export function coalesceWrites(stream: Duplex): void {
  const write = stream.write
  let corked = false
  const release = () => {
    corked = false
    if (!stream.destroyed) stream.uncork()
  }
  stream.write = function (this: Duplex, ...args: Parameters<Duplex['write']>) {
    if (!corked && !stream.destroyed) {
      corked = true
      stream.cork()
      setImmediate(release)
    }
    return write.apply(this, args)
  } as Duplex['write']
}
