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
