import Database from 'better-sqlite3'
import type { Telemetry } from '../protocol/messages.ts'

import type { OutboxChannel } from '../protocol/channels.ts'

export type { OutboxChannel } from '../protocol/channels.ts'

export interface OutboxMessage {
  id: number
  channel: OutboxChannel
  payload: string
}

export interface OutboxOptions {
  /** SQLite file, or ':memory:' for an agent without a data directory (nothing survives a restart). */
  path: string
  /** Messages kept at most; past it the oldest telemetry is downsampled. Meter readings are never dropped. */
  maxMessages?: number
  /** The clock in milliseconds (tests); a fresh outbox numbers its telemetry from it. */
  now?: () => number
}

const DEFAULT_MAX_MESSAGES = 20_000

/**
 * The agent's on-disk outbox for telemetry and meter readings: a message is written here before it is
 * published and deleted only when the broker has acknowledged it (QoS 1 PUBACK), so a broker outage,
 * a lost connection or a restart of the agent loses nothing. Telemetry `seq` numbers are given here
 * and persist, so a message sent twice carries the same `seq` and the sink keeps it once. A fresh
 * outbox (a new SD card, or none: ':memory:') counts on from the clock's milliseconds, so its first
 * message is still above any the sinks have seen from this home's earlier runs: an agent sends far
 * fewer than a thousand messages a second.
 *
 * When the outbox is full, the two oldest telemetry messages become one with every other sample of
 * both: the oldest history thins out first, and the newest stays at full resolution.
 *
 * WAL with synchronous=NORMAL: survives a crash of the agent; a power cut may lose the last few
 * seconds, which spares the SD card of a Raspberry Pi a flush per sample.
 */
export class DurableOutbox {
  private readonly db: Database.Database
  private readonly maxMessages: number
  private readonly inFlight = new Set<number>()
  /** Where the seq of a fresh outbox counts from. */
  private readonly seqOrigin: number

  constructor(options: OutboxOptions) {
    this.db = new Database(options.path)
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = NORMAL')
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL, payload TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    `)
    this.maxMessages = options.maxMessages ?? DEFAULT_MAX_MESSAGES
    this.seqOrigin = Math.floor((options.now ?? Date.now)())
  }

  /** Stores a batch of samples as the next telemetry message; returns its `seq`. */
  appendTelemetry(samples: Telemetry['samples']): number {
    return this.db.transaction(() => {
      const seq = this.nextSeq()
      this.insert('telemetry', JSON.stringify({ seq, samples }))
      return seq
    })()
  }

  /** Stores a signed meter reading. */
  appendMeter(payload: string): void {
    this.db.transaction(() => this.insert('meter', payload))()
  }

  /**
   * The oldest messages not already in flight, at most `limit`, now marked in flight: the publisher
   * sends them in this order and answers each with `acknowledge` (PUBACK) or `release` (not sent).
   */
  take(limit: number): OutboxMessage[] {
    const rows = this.db.prepare(`SELECT id, channel, payload FROM outbox ORDER BY id LIMIT ?`).all(limit + this.inFlight.size) as OutboxMessage[]
    const taken = rows.filter((r) => !this.inFlight.has(r.id)).slice(0, limit)
    for (const r of taken) this.inFlight.add(r.id)
    return taken
  }

  /** Forgets a message the broker has acknowledged. */
  acknowledge(id: number): void {
    this.inFlight.delete(id)
    this.db.prepare(`DELETE FROM outbox WHERE id = ?`).run(id)
  }

  /** A message that could not be sent: it stays, to be taken again. */
  release(id: number): void {
    this.inFlight.delete(id)
  }

  get inFlightCount(): number {
    return this.inFlight.size
  }

  get size(): number {
    return (this.db.prepare(`SELECT count(*) AS n FROM outbox`).get() as { n: number }).n
  }

  close(): void {
    this.db.close()
  }

  private nextSeq(): number {
    const row = this.db.prepare(`SELECT value FROM meta WHERE key = 'seq'`).get() as { value: number } | undefined
    const seq = (row?.value ?? this.seqOrigin) + 1
    this.db.prepare(`INSERT INTO meta (key, value) VALUES ('seq', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run(seq)
    return seq
  }

  private insert(channel: OutboxChannel, payload: string): void {
    this.db.prepare(`INSERT INTO outbox (channel, payload) VALUES (?, ?)`).run(channel, payload)
    while (this.size > this.maxMessages && this.downsampleOldest()) {
      // each pass merges the two oldest telemetry messages into one
    }
  }

  /**
   * Merges the two oldest telemetry messages not in flight, keeping every other sample; false when
   * there are not two. The merged message keeps the later `seq`: the sink drops a `seq` not above the
   * last it saw, so the order holds, and if the earlier one had reached it, samples repeat rather than vanish.
   */
  private downsampleOldest(): boolean {
    const rows = this.db.prepare(`SELECT id, payload FROM outbox WHERE channel = 'telemetry' ORDER BY id LIMIT ?`).all(2 + this.inFlight.size) as { id: number; payload: string }[]
    const [first, second] = rows.filter((r) => !this.inFlight.has(r.id))
    if (!first || !second) return false
    const a = JSON.parse(first.payload) as Telemetry
    const b = JSON.parse(second.payload) as Telemetry
    const samples = [...a.samples, ...b.samples].filter((_, i) => i % 2 === 0)
    this.db.prepare(`UPDATE outbox SET payload = ? WHERE id = ?`).run(JSON.stringify({ seq: b.seq, samples }), first.id)
    this.db.prepare(`DELETE FROM outbox WHERE id = ?`).run(second.id)
    return true
  }
}
