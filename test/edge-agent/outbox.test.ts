import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DurableOutbox } from '../../edge-agent/outbox.ts'
import { TelemetrySink } from '../../telemetry/telemetry-sink.ts'
import { MemoryTelemetryStore } from '../../telemetry/memory-telemetry-store.ts'
import { Counters } from '../../platform/counters.ts'
import { createLogger } from '../../platform/logger.ts'
import type { Snapshot } from '../../protocol/snapshot.ts'

const sample = (i: number): Snapshot => ({
  device: { manufacturer: null, model: null, serial: null, version: null },
  inverter_ac_w: i,
  pv_w: i,
  grid_w: -i,
  battery_w: null,
  battery_soc_pct: null,
  load_w: 0,
  energy: { pv_total_wh: null, grid_import_wh: null, grid_export_wh: null },
  models: [1],
  ts: new Date(1_800_000_000_000 + i * 1000).toISOString(),
})
const file = () => join(mkdtempSync(join(tmpdir(), 'vpp-outbox-')), 'outbox.sqlite')

describe('DurableOutbox', () => {
  it('keeps unacknowledged messages and the seq counter across a restart', () => {
    const path = file()
    let outbox = new DurableOutbox({ path, now: () => 0 })
    expect([outbox.appendTelemetry([sample(1)]), outbox.appendTelemetry([sample(2)])]).toEqual([1, 2])
    outbox.appendMeter('{"reading":1}')
    const [first] = outbox.take(1)
    outbox.acknowledge(first!.id)
    outbox.close()

    outbox = new DurableOutbox({ path, now: () => 0 })
    expect(outbox.take(10).map((m) => [m.channel, m.channel === 'telemetry' ? JSON.parse(m.payload).seq : m.payload])).toEqual([
      ['telemetry', 2],
      ['meter', '{"reading":1}'],
    ])
    expect(outbox.appendTelemetry([sample(3)])).toBe(3) // never reuses a seq the sink may have seen
    outbox.close()
  })

  it('hands each message out once until it is acknowledged or released', () => {
    const outbox = new DurableOutbox({ path: ':memory:', now: () => 0 })
    for (let i = 1; i <= 3; i++) outbox.appendTelemetry([sample(i)])
    const [a, b] = outbox.take(2)
    expect(outbox.take(5).map((m) => m.id)).toEqual([3]) // the first two are in flight
    outbox.release(a!.id)
    outbox.acknowledge(b!.id)
    expect(outbox.take(5).map((m) => m.id)).toEqual([a!.id])
    expect(outbox.size).toBe(2)
  })

  it('when full, thins the oldest telemetry first, never a meter reading or a message in flight, and keeps seq order', () => {
    const outbox = new DurableOutbox({ path: ':memory:', maxMessages: 4, now: () => 0 })
    outbox.appendTelemetry([sample(1), sample(2)]) // seq 1
    const [inFlight] = outbox.take(1)
    outbox.appendMeter('{"reading":"a"}')
    outbox.appendTelemetry([sample(3), sample(4)]) // seq 2
    outbox.appendTelemetry([sample(5), sample(6)]) // seq 3
    outbox.appendTelemetry([sample(7), sample(8)]) // seq 4: over the bound, seq 2 and 3 merge
    expect(outbox.size).toBe(4)
    outbox.release(inFlight!.id)
    const messages = outbox.take(10)
    expect(messages.map((m) => m.channel)).toEqual(['telemetry', 'meter', 'telemetry', 'telemetry'])
    const telemetry = messages.filter((m) => m.channel === 'telemetry').map((m) => JSON.parse(m.payload) as { seq: number; samples: Snapshot[] })
    expect(telemetry.map((t) => t.seq)).toEqual([1, 3, 4])
    expect(telemetry.map((t) => t.samples.map((s) => s.inverter_ac_w))).toEqual([[1, 2], [3, 5], [7, 8]])
  })

  it("numbers a fresh outbox's telemetry above an earlier run's, so the sink keeps a restarted agent's samples", async () => {
    const store = new MemoryTelemetryStore()
    const counters = new Counters()
    const sink = new TelemetrySink(store, { flushMs: 1, logger: createLogger('test', 'silent'), counters })
    const send = (outbox: DurableOutbox, i: number) => {
      outbox.appendTelemetry([sample(i)])
      const [message] = outbox.take(1)
      outbox.acknowledge(message!.id)
      sink.accept('street', 'home-1', JSON.parse(message!.payload))
    }
    // An agent without a data directory runs three messages' worth, then restarts four seconds later.
    const first = new DurableOutbox({ path: ':memory:', now: () => 1_000 })
    for (const i of [1, 2, 3]) send(first, i)
    first.close()
    const second = new DurableOutbox({ path: ':memory:', now: () => 5_000 })
    send(second, 4)
    second.close()
    await sink.close()
    expect(counters.get('telemetry_duplicates')).toBe(0)
    const kept = await store.history({ community: 'street', agentId: 'home-1', fromMs: 0, toMs: 2_000_000_000_000, resolution: 'raw' })
    expect(kept.map((s) => s.pv_w)).toEqual([1, 2, 3, 4])
  })
})
