/**
 * Reads MQTT fixed headers as bytes stream past and reports a packet whose declared size is over the
 * limit, before the broker buffers it. Remaining length is a variable byte integer of at most four
 * bytes [MQTT-2.2.3]. Pure: feed it chunks, it keeps its place across chunk boundaries.
 */
export class PacketSizeGuard {
  private state: 'header' | 'length' | 'body' = 'header'
  private length = 0
  private multiplier = 1
  private lengthBytes = 0
  private bodyLeft = 0

  constructor(readonly maxPacketBytes: number) {}

  /** Returns the declared remaining length of an oversized or malformed packet, or null when all is well. */
  feed(chunk: Uint8Array): number | null {
    let i = 0
    while (i < chunk.length) {
      if (this.state === 'header') {
        i++ // packet type and flags
        this.state = 'length'
        this.length = 0
        this.multiplier = 1
        this.lengthBytes = 0
      } else if (this.state === 'length') {
        const byte = chunk[i++]!
        this.length += (byte & 0x7f) * this.multiplier
        this.multiplier *= 128
        this.lengthBytes++
        if (byte & 0x80) {
          // [MQTT-2.2.3] at most four bytes: a fifth is a malformed packet.
          if (this.lengthBytes === 4) return Number.MAX_SAFE_INTEGER
          continue
        }
        if (this.length > this.maxPacketBytes) return this.length
        this.bodyLeft = this.length
        this.state = this.bodyLeft === 0 ? 'header' : 'body'
      } else {
        const take = Math.min(this.bodyLeft, chunk.length - i)
        i += take
        this.bodyLeft -= take
        if (this.bodyLeft === 0) this.state = 'header'
      }
    }
    return null
  }
}

/** The part of an aedes client this module touches: its MQTT parser, fed each chunk read off the connection. */
interface AedesClientInternals {
  _parser?: { parse(chunk: Buffer): unknown }
}

/**
 * Puts a PacketSizeGuard in front of an aedes client's parser: each chunk is checked as it is read
 * off the connection, and a packet declaring more than `maxPacketBytes` closes the connection before
 * the parser buffers it. Hooking the parser rather than wrapping the socket in another stream keeps
 * aedes on the raw connection, where its writes coalesce into one system call per tick.
 * Throws when aedes no longer has the parser it hooks (a dependency upgrade): a broker must not run
 * without its size limit.
 */
export function guardPacketSize(client: unknown, connection: { destroy(): unknown }, maxPacketBytes: number, onOversized: (declaredBytes: number) => void): void {
  const parser = (client as AedesClientInternals)._parser
  if (!parser || typeof parser.parse !== 'function') {
    throw new Error('aedes client has no _parser.parse to guard: the installed aedes version is not supported (see package.json)')
  }
  const guard = new PacketSizeGuard(maxPacketBytes)
  const parse = parser.parse.bind(parser)
  parser.parse = (chunk: Buffer) => {
    const oversized = guard.feed(chunk)
    if (oversized === null) return parse(chunk)
    onOversized(oversized)
    connection.destroy()
    return 0
  }
}
