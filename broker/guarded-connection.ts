import { Duplex } from 'node:stream'
import { PacketSizeGuard } from './packet-size-guard.ts'

interface ByteStream extends NodeJS.EventEmitter {
  write(chunk: Buffer, cb?: (error?: Error | null) => void): boolean
  end(cb?: () => void): unknown
  destroy(error?: Error): unknown
  pause(): unknown
  resume(): unknown
}

/**
 * The stream aedes reads instead of the raw connection: the same bytes, but a packet that declares
 * more than `maxPacketBytes` closes the connection before it is buffered. Works for TCP, TLS and
 * WebSocket streams alike.
 */
export class GuardedConnection extends Duplex {
  private readonly guard: PacketSizeGuard

  constructor(
    private readonly inner: ByteStream,
    maxPacketBytes: number,
    onOversized: (declaredBytes: number) => void,
    /** Kept for logging and throttling by address. */
    readonly remoteAddress: string | undefined,
  ) {
    super()
    this.guard = new PacketSizeGuard(maxPacketBytes)
    inner.on('data', (chunk: Buffer) => {
      const oversized = this.guard.feed(chunk)
      if (oversized !== null) {
        onOversized(oversized)
        this.destroy()
        return
      }
      if (!this.push(chunk)) inner.pause()
    })
    inner.on('end', () => this.push(null))
    inner.on('close', () => this.destroy())
    inner.on('error', (error: Error) => this.destroy(error))
  }

  override _read(): void {
    this.inner.resume()
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.inner.write(chunk, callback)
  }

  override _final(callback: () => void): void {
    this.inner.end(callback)
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.inner.destroy()
    callback(error)
  }
}
