import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import type { RunningBroker } from '../../broker/mqtt-broker.ts'
import type { EdgeAgent } from '../../edge-agent/edge-agent.ts'
import { intervalStart } from '../../protocol/units.ts'
import { demoHomes } from '../../simulator/home-model.ts'
import { LiveNeighbourhood } from '../../simulator/live-neighbourhood.ts'
import { waitFor } from '../helpers/wait-for.ts'
import { awardIntervals, testAgent, testBroker, marketClient } from '../helpers/agent.ts'

const community = 'street'
const INTERVAL_SECONDS = 20
// A battery home at 22:00 on an inverter that offers SunSpec 704 DER controls and no model 124.
const home = demoHomes(2)[1]!
let hood: LiveNeighbourhood
let broker: RunningBroker
let market: MqttClient
let agent: EdgeAgent | undefined

beforeAll(async () => {
  hood = new LiveNeighbourhood({ homes: [home], startSecondsOfDay: 22 * 3600, tickMs: 250, storageControl: 704 })
  await hood.start()
  broker = await testBroker(community, { 'home-02': 'pw-home-02' })
  market = await marketClient(broker)
})
afterAll(async () => {
  await agent?.stop()
  await market?.endAsync()
  await broker?.close()
  await hood?.stop()
})

describe('battery steering through SunSpec 704 when the inverter has no model 124', () => {
  it('sets the inverter’s AC output to deliver a sale, re-writes it before it reverts, and disables it when the market goes quiet', async () => {
    const device = hood.homes[0]!.device
    expect(() => device.image.get(124, 'StorCtl_Mod')).toThrow()
    agent = testAgent({
      agentId: 'home-02',
      community,
      mqtt: { url: broker.url, password: 'pw-home-02' },
      modbus: { transport: 'tcp', host: '127.0.0.1', port: device.port },
      battery: { maxW: 2500, socFloorPct: 10, socCeilingPct: 95, controlSeconds: 0.5 },
      marketSilenceSeconds: 8,
    })
    const startedAt = Date.now() / 1000
    await agent.start()
    const interval = await awardIntervals(market, { community, agentId: 'home-02', intervalSeconds: INTERVAL_SECONDS, startedAt, netWh: 5, count: 3 })
    expect(intervalStart(Date.now() / 1000, INTERVAL_SECONDS)).toBeGreaterThanOrEqual(interval)

    // WSetEna on, WSet in watts: no sun at 22:00, so the AC output is the battery discharging, and the home exports.
    await waitFor('WSet enabled', () => Number(device.image.get(704, 'WSetEna')) === 1, 25_000)
    expect(Number(device.image.get(704, 'WSetMod'))).toBe(1)
    expect(Number(device.image.get(704, 'WSet'))).toBeGreaterThan(0)
    await waitFor('the battery discharging', () => (device.batterySetpointW() ?? 0) > 0, 10_000)
    await waitFor('the home exporting', () => Number(device.image.get(203, 'W')) < 0, 10_000)
    // The reversion timer lapses 1.5 s after a write; the agent writes again in time.
    const writes = device.writes
    await new Promise((resolve) => setTimeout(resolve, 2500))
    expect(Number(device.image.get(704, 'WSetEna'))).toBe(1)
    expect(device.writes).toBeGreaterThan(writes)

    // No market for 8 s: the function is disabled and the inverter runs its own mode again.
    await waitFor('WSet disabled', () => Number(device.image.get(704, 'WSetEna')) === 0 && device.batterySetpointW() === undefined, 20_000)
    expect(agent.counters.get('battery_released')).toBeGreaterThan(0)
  }, 60_000)
})
