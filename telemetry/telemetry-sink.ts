import type { Logger } from '../platform/logger.ts'
import type { Counters } from '../platform/counters.ts'
import type { Telemetry } from '../protocol/messages.ts'
import type { TelemetryPoint, TelemetryStore } from './telemetry-store.ts'

export interface TelemetrySinkOptions {
  /** Flush when this many points wait. */
  maxBatch?: number
  /** …or at the latest this long after the first point arrived. */
  flushMs?: number
  /** Points kept while the store is unreachable; beyond it the oldest are dropped and counted. */
  maxBuffer?: number
  logger: Logger
  counters: Counters
}

/**
 * Takes telemetry messages as they pass the broker and writes every sample to the store exactly once:
 * a message whose `seq` is not above the last one seen from that agent is a redelivery and is dropped.
 * Writes are batched (size or time); a failed write keeps the batch and retries with back-off.
 */
export class TelemetrySink {
  private buffer: TelemetryPoint[] = []
  private readonly lastSeq = new Map<string, number>()
  private timer: NodeJS.Timeout | undefined
  private flushing: Promise<void> | undefined
  private retryDelayMs = 0
  private closed = false
  private readonly maxBatch: number
  private readonly flushMs: number
  private readonly maxBuffer: number

  constructor(
    readonly store: TelemetryStore,
    private readonly options: TelemetrySinkOptions,
  ) {
    this.maxBatch = options.maxBatch ?? 500
    this.flushMs = options.flushMs ?? 1000
    this.maxBuffer = options.maxBuffer ?? 200_000
  }

  accept(community: string, agentId: string, telemetry: Telemetry): void {
    const key = `${community}/${agentId}`
    const last = this.lastSeq.get(key)
    if (last !== undefined && telemetry.seq <= last) {
      this.options.counters.increment('telemetry_duplicates')
      return
    }
    this.lastSeq.set(key, telemetry.seq)
    for (const snapshot of telemetry.samples) this.buffer.push({ community, agentId, snapshot })
    this.enforceBound()
    if (this.buffer.length >= this.maxBatch && this.retryDelayMs === 0) void this.flush()
    else this.schedule(this.retryDelayMs || this.flushMs)
  }

  /** Writes everything buffered now; resolves when the store has it or the write failed (kept for retry). */
  flush(): Promise<void> {
    this.flushing ??= this.writeAll().finally(() => (this.flushing = undefined))
    return this.flushing
  }

  get pending(): number {
    return this.buffer.length
  }

  async close(): Promise<void> {
    this.closed = true
    clearTimeout(this.timer)
    await this.flush()
  }

  private enforceBound(): void {
    if (this.buffer.length <= this.maxBuffer) return
    const dropped = this.buffer.length - this.maxBuffer
    this.buffer.splice(0, dropped)
    this.options.counters.increment('telemetry_dropped', dropped)
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.closed) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.flush()
    }, delayMs)
  }

  private async writeAll(): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.maxBatch)
      try {
        await this.store.write(batch)
      } catch (error) {
        // Back to the front, oldest first; new samples may have arrived meanwhile, so bound again.
        this.buffer.unshift(...batch)
        this.enforceBound()
        this.retryDelayMs = Math.min(30_000, Math.max(1000, this.retryDelayMs * 2))
        this.options.counters.increment('telemetry_write_failures')
        this.options.logger.warn({ err: (error as Error).message, pending: this.buffer.length, retryInMs: this.retryDelayMs }, 'telemetry: store unreachable; keeping samples and retrying')
        this.schedule(this.retryDelayMs)
        return
      }
      this.retryDelayMs = 0
      this.options.counters.increment('telemetry_written', batch.length)
    }
  }
}
