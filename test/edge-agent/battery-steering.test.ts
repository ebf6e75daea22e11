import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import type { RunningBroker } from '../../broker/mqtt-broker.ts'
import { EdgeAgent } from '../../edge-agent/edge-agent.ts'
import type { Award } from '../../protocol/messages.ts'
import { topics } from '../../protocol/topics.ts'
import { intervalStart } from '../../protocol/units.ts'
import { demoHomes } from '../../simulator/home-model.ts'
import { LiveNeighbourhood } from '../../simulator/live-neighbourhood.ts'
import { waitFor } from '../helpers/wait-for.ts'
import { intervalBegunAfter, testAgent, testMarketState, testBroker, marketClient } from '../helpers/agent.ts'

const community = 'street'
const INTERVAL_SECONDS = 20
// Two battery homes at 22:00: no sun, so whatever they export has to come from the battery.
const [, steered, , , readOnlyHome] = demoHomes(5)
let hood: LiveNeighbourhood
let broker: RunningBroker
let market: MqttClient
const agents: EdgeAgent[] = []

function agentFor(index: number, agentId: string, readOnly: boolean) {
  const agent = testAgent({
    agentId,
    community,
    mqtt: { url: broker.url, password: `pw-${agentId}` },
    modbus: { transport: 'tcp', host: '127.0.0.1', port: hood.homes[index]!.device.port },
    battery: { maxW: 2500, socFloorPct: 10, socCeilingPct: 95, controlSeconds: 0.5 },
    readOnly,
    marketSilenceSeconds: 8,
  })
  agents.push(agent)
  return agent
}

const marketState = () => testMarketState(community, INTERVAL_SECONDS)
/** The award of a sale of `soldWh` in the interval under way, as the market would publish it. */
const saleAward = (soldWh: number): Award => ({
  interval: intervalStart(Date.now() / 1000, INTERVAL_SECONDS),
  fills: [{ orderHash: `0x${'ab'.repeat(32)}`, side: 1, energyWh: soldWh, filledWh: soldWh, price: 150_000 }],
  netWh: soldWh,
})

beforeAll(async () => {
  hood = new LiveNeighbourhood({ homes: [demoHomes(5)[0]!, steered!, demoHomes(5)[2]!, demoHomes(5)[3]!, readOnlyHome!], startSecondsOfDay: 22 * 3600, tickMs: 250 })
  await hood.start()
  broker = await testBroker(community, { 'home-02': 'pw-home-02', 'home-05': 'pw-home-05' })
  market = await marketClient(broker)
})
afterAll(async () => {
  for (const a of agents) await a.stop()
  await market?.endAsync()
  await broker?.close()
  await hood?.stop()
})

describe('battery steering through SunSpec 124', () => {
  it('discharges to deliver a sale, keeps the setpoint alive past its revert timer, and hands the battery back when the market goes quiet', async () => {
    expect(steered!.batteryWh).toBeGreaterThan(0)
    const device = hood.homes[1]!.device
    const agent = agentFor(1, 'home-02', false)
    const startedAt = Date.now() / 1000
    await market.publishAsync(topics.marketState(community), JSON.stringify(marketState()), { qos: 1, retain: true })
    await agent.start()
    // An interval that began after the agent was up, so its meter saw the start.
    const interval = await intervalBegunAfter(startedAt, INTERVAL_SECONDS)
    await market.publishAsync(topics.marketState(community), JSON.stringify(marketState()), { qos: 1, retain: true })
    // Awards for this interval and the next two: the battery is handed back only because the market goes quiet.
    for (let k = 0; k < 3; k++) await market.publishAsync(topics.agent(community, 'home-02', 'awards'), JSON.stringify({ ...saleAward(5), interval: interval + k * INTERVAL_SECONDS }), { qos: 1 })

    // 5 Wh in what is left of 20 s: the battery discharges and the home exports.
    await waitFor('the battery discharging on a setpoint', () => (device.batterySetpointW() ?? 0) > 0)
    await waitFor('the home exporting', () => Number(device.image.get(203, 'W')) < 0)
    expect(Number(device.image.get(802, 'W'))).toBeGreaterThan(0)
    // The setpoint lapses on the device 1.5 s after a write; the agent writes it again in time.
    const firstWrites = device.writes
    await new Promise((resolve) => setTimeout(resolve, 2500))
    expect(device.batterySetpointW()).toBeGreaterThan(0)
    expect(device.writes).toBeGreaterThan(firstWrites)

    // No new market state for 8 s: the market is out of reach, and the inverter gets its battery back.
    await waitFor('the battery back in self-consumption', () => Number(device.image.get(124, 'StorCtl_Mod')) === 0 && device.batterySetpointW() === undefined, 20_000)
    expect(agent.counters.get('battery_released')).toBeGreaterThan(0)
  })

  it('never writes a register with readOnly: true, award or not', async () => {
    const device = hood.homes[4]!.device
    expect(readOnlyHome!.batteryWh).toBeGreaterThan(0)
    const agent = agentFor(4, 'home-05', true)
    const startedAt = Date.now() / 1000
    await market.publishAsync(topics.marketState(community), JSON.stringify(marketState()), { qos: 1, retain: true })
    await agent.start()
    // The same situation in which the other agent steered: an interval metered from its start, and a sale.
    const interval = await intervalBegunAfter(startedAt, INTERVAL_SECONDS, 4)
    await market.publishAsync(topics.marketState(community), JSON.stringify(marketState()), { qos: 1, retain: true })
    await market.publishAsync(topics.agent(community, 'home-05', 'awards'), JSON.stringify({ ...saleAward(5), interval }), { qos: 1 })
    await waitFor('the award received', () => agent.counters.get('awards') > 0)
    await new Promise((resolve) => setTimeout(resolve, 2000)) // four control periods
    expect(device.writes).toBe(0)
    expect(Number(device.image.get(124, 'StorCtl_Mod'))).toBe(0)
  })
})
