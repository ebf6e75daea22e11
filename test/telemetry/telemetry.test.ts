import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import { startBroker, type RunningBroker } from '../../broker/mqtt-broker.ts'
import { hashPassword } from '../../broker/credentials.ts'
import { InfluxTelemetryStore, parseInfluxUrl } from '../../telemetry/influx-telemetry-store.ts'
import { MemoryTelemetryStore, downsample } from '../../telemetry/memory-telemetry-store.ts'
import { TelemetrySink } from '../../telemetry/telemetry-sink.ts'
import { Counters } from '../../platform/counters.ts'
import { createLogger } from '../../platform/logger.ts'
import type { Snapshot } from '../../protocol/snapshot.ts'
import { topics } from '../../protocol/topics.ts'
import { INFLUXD, startInfluxd, type RunningInfluxd } from '../helpers/influxd.ts'
import { waitFor } from '../helpers/wait-for.ts'
import { missing } from '../helpers/requires.ts'

const community = 'street'
const snapshot = (tsMs: number, pvW: number): Snapshot => ({
  device: { manufacturer: null, model: null, serial: null, version: null },
  inverter_ac_w: pvW,
  pv_w: pvW,
  grid_w: 300 - pvW,
  battery_w: null,
  battery_soc_pct: null,
  load_w: 300,
  energy: { pv_total_wh: 1_000_000, grid_import_wh: null, grid_export_wh: null },
  models: [1, 103, 203],
  ts: new Date(tsMs).toISOString(),
})

describe('in-memory telemetry store', () => {
  it('keeps the newest samples per home and downsamples to bucket means', async () => {
    const store = new MemoryTelemetryStore(3)
    const t0 = Date.UTC(2026, 5, 1, 12, 0, 0)
    await store.write([1, 2, 3, 4].map((i) => ({ community, agentId: 'home-01', snapshot: snapshot(t0 + i * 20_000, i * 100) })))
    const raw = await store.history({ community, agentId: 'home-01', fromMs: 0, toMs: Infinity, resolution: 'raw' })
    expect(raw.map((s) => s.pv_w)).toEqual([200, 300, 400])
    const minute = await store.history({ community, agentId: 'home-01', fromMs: 0, toMs: Infinity, resolution: '1m' })
    expect(minute).toEqual(downsample(raw, 60_000))
    expect(minute.map((s) => [s.ts, s.pv_w])).toEqual([[new Date(t0).toISOString(), 200], [new Date(t0 + 60_000).toISOString(), 350]])
  })
})

describe('parseInfluxUrl', () => {
  it('reads host, port and database and explains a bad URL', () => {
    expect(parseInfluxUrl('http://127.0.0.1:8086/vpp')).toEqual({ host: '127.0.0.1', port: 8086, protocol: 'http', database: 'vpp' })
    expect(() => parseInfluxUrl('http://127.0.0.1:8086')).toThrow(/http:\/\/HOST:8086\/DATABASE/)
  })
})

describe.skipIf(missing('InfluxDB', INFLUXD, 'apt-get install -y influxdb'))('telemetry sink into a real InfluxDB 1.x', () => {
  let influxd: RunningInfluxd
  let store: InfluxTelemetryStore
  let broker: RunningBroker
  let sink: TelemetrySink
  const counters = new Counters()

  beforeAll(async () => {
    influxd = await startInfluxd()
    store = await InfluxTelemetryStore.open({ url: influxd.url('vpp') })
    sink = new TelemetrySink(store, { flushMs: 200, maxBatch: 100, logger: createLogger('sink', 'silent'), counters })
    broker = await startBroker({
      users: [{ username: 'home-01', passwordHash: hashPassword('pw1', 1024), role: 'agent', community }],
      telemetrySink: sink,
      logger: createLogger('test', 'silent'),
    })
  })
  afterAll(async () => {
    await broker?.close()
    await influxd?.stop()
  })

  const rawCount = async () => (await store.history({ community, agentId: 'home-01', fromMs: 0, toMs: Date.now() + 60_000, resolution: 'raw' })).length

  it('creates the retention policies and continuous queries', async () => {
    const response = await fetch(`http://127.0.0.1:${influxd.port}/query?q=${encodeURIComponent('SHOW CONTINUOUS QUERIES')}`)
    const text = await response.text()
    expect(text).toContain('cq_telemetry_1m')
    expect(text).toContain('cq_telemetry_15m')
    const policies = await (await fetch(`http://127.0.0.1:${influxd.port}/query?db=vpp&q=${encodeURIComponent('SHOW RETENTION POLICIES')}`)).text()
    for (const rp of ['raw', 'history_1m', 'history_15m']) expect(policies).toContain(rp)
  })

  it('writes every sample exactly once, dropping a redelivered message, and loses nothing over an outage', async () => {
    const agent = await mqtt.connectAsync(broker.url, { clientId: 'home-01', username: 'home-01', password: 'pw1', reconnectPeriod: 0 })
    const topic = topics.agent(community, 'home-01', 'telemetry')
    const base = Date.now() - 120_000
    const message = (seq: number) => JSON.stringify({ seq, samples: [snapshot(base + seq * 2000, seq * 10), snapshot(base + seq * 2000 + 1000, seq * 10 + 5)] })
    for (const seq of [1, 2, 3]) await agent.publishAsync(topic, message(seq), { qos: 1 })
    await agent.publishAsync(topic, message(2), { qos: 1 }) // a redelivery
    await waitFor('6 samples in InfluxDB', async () => (await rawCount()) === 6)
    expect(counters.get('telemetry_duplicates')).toBe(1)

    // InfluxDB goes away; telemetry keeps coming and waits in the sink.
    await influxd.kill()
    for (const seq of [4, 5, 6]) await agent.publishAsync(topic, message(seq), { qos: 1 })
    await waitFor('a failed write', () => counters.get('telemetry_write_failures') > 0, 20_000)
    expect(sink.pending).toBe(6)

    await influxd.restart()
    await waitFor('all 12 samples in InfluxDB', async () => (await rawCount()) === 12, 60_000, 500)
    const samples = await store.history({ community, agentId: 'home-01', fromMs: 0, toMs: Date.now() + 60_000, resolution: 'raw' })
    expect(samples.map((s) => s.pv_w)).toEqual([10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65])
    expect(sink.pending).toBe(0)
    await agent.endAsync()
  })

  it('serves downsampled history from the continuous queries', async () => {
    const minute = await waitFor('1-minute means', async () => {
      const rows = await store.history({ community, agentId: 'home-01', fromMs: 0, toMs: Date.now() + 60_000, resolution: '1m' })
      return rows.length > 0 ? rows : undefined
    }, 60_000, 500)
    const raw = await store.history({ community, agentId: 'home-01', fromMs: 0, toMs: Date.now() + 60_000, resolution: 'raw' })
    expect(minute).toEqual(downsample(raw, 60_000))
  })
})
