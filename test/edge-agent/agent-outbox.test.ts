import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generatePrivateKey } from 'viem/accounts'
import { hashPassword } from '../../broker/credentials.ts'
import { startBroker, type RunningBroker } from '../../broker/mqtt-broker.ts'
import { MemoryTelemetryStore } from '../../telemetry/memory-telemetry-store.ts'
import { TelemetrySink } from '../../telemetry/telemetry-sink.ts'
import { DurableOutbox } from '../../edge-agent/outbox.ts'
import { Counters } from '../../platform/counters.ts'
import { freePort } from '../../platform/free-port.ts'
import { createLogger } from '../../platform/logger.ts'
import { HomeModel, demoHomes } from '../../simulator/home-model.ts'
import { VirtualSunSpecDevice } from '../../simulator/virtual-device.ts'
import { waitFor } from '../helpers/wait-for.ts'
import { testAgent } from '../helpers/agent.ts'

const community = 'street'
const spec = demoHomes(1)[0]!
let device: VirtualSunSpecDevice
let brokerPort: number
let broker: RunningBroker | undefined
const sinkCounters = new Counters()
// One sink for both broker lives: it remembers each agent's last seq, as InfluxDB's sink does.
const store = new MemoryTelemetryStore(1_000_000)
const sink = new TelemetrySink(store, { flushMs: 100, maxBatch: 50, logger: createLogger('sink', 'silent'), counters: sinkCounters })
const dataDir = mkdtempSync(join(tmpdir(), 'vpp-agent-'))
const privateKey = generatePrivateKey()

const startOurBroker = () =>
  startBroker({
    users: [{ username: 'home-01', passwordHash: hashPassword('pw-home-01', 1024), role: 'agent', community }],
    port: brokerPort,
    telemetrySink: sink,
    logger: createLogger('broker', 'silent'),
  })

const newAgent = () =>
  testAgent({
    community,
    mqtt: { url: `mqtt://127.0.0.1:${brokerPort}`, password: 'pw-home-01' },
    modbus: { transport: 'tcp', host: '127.0.0.1', port: device.port },
    privateKey,
    pollMs: 100,
    telemetryMs: 300,
    dataDir,
  })

const stored = async () => store.history({ community, agentId: 'home-01', fromMs: 0, toMs: Number.POSITIVE_INFINITY, resolution: 'raw' })

beforeAll(async () => {
  const model = new HomeModel(spec)
  device = new VirtualSunSpecDevice({ spec, port: await freePort() })
  device.update(model.step(12 * 3600, 60), model.counters)
  await device.start()
  brokerPort = await freePort()
  broker = await startOurBroker()
})
afterAll(async () => {
  await broker?.close()
  await device?.stop()
})

describe('agent outbox through a broker outage and an agent restart', () => {
  it('delivers every sample to the sink exactly once', async () => {
    const first = newAgent()
    await first.start()
    await waitFor('telemetry at the sink', async () => (await stored()).length >= 3)

    // The broker goes away; the home keeps measuring.
    await broker!.close()
    broker = undefined
    const atOutage = first.counters.get('telemetry_samples_stored')
    await waitFor('samples taken during the outage', () => first.counters.get('telemetry_samples_stored') >= atOutage + 10)
    expect(first.outboxSize).toBeGreaterThan(0)
    // The Pi reboots during the outage: the outbox is on disk.
    await first.stop()
    const second = newAgent()
    await second.start()
    await waitFor('more samples after the restart', () => second.counters.get('telemetry_samples_stored') >= 3)

    broker = await startOurBroker()
    await waitFor('the outbox drained', () => second.outboxSize === 0 && second.counters.get('telemetry_acknowledged') > 0)
    await second.stop()
    const left = new DurableOutbox({ path: join(dataDir, 'outbox.sqlite') })
    expect(left.size, 'messages left in the outbox after a clean stop').toBe(0)
    left.close()

    await sink.flush()
    const samples = await stored()
    const produced = first.counters.get('telemetry_samples_stored') + second.counters.get('telemetry_samples_stored')
    expect(new Set(samples.map((s) => s.ts)).size).toBe(samples.length) // no sample twice
    expect(samples.length).toBe(produced) // and none missing
  })
})
