import mqtt, { type MqttClient } from 'mqtt'
import { hashPassword } from '../../broker/credentials.ts'
import { startBroker, type RunningBroker } from '../../broker/mqtt-broker.ts'
import { generatePrivateKey } from 'viem/accounts'
import { EdgeAgent, type EdgeAgentOptions } from '../../edge-agent/edge-agent.ts'
import { createLogger } from '../../platform/logger.ts'
import type { MarketState } from '../../protocol/messages.ts'
import { communityKey } from '../../protocol/order.ts'
import { topics } from '../../protocol/topics.ts'
import { intervalStart } from '../../protocol/units.ts'
import { waitFor } from './wait-for.ts'

/** The tariffs test agents trade between. */
export const TEST_TARIFFS = { feedInPrice: 80_000, retailPrice: 300_000, steps: 2, minOrderWh: 1 }

/**
 * An edge agent for a test: home-01 of "street" on unit 1 with a fresh key, test tariffs and a silent
 * log, polling every 250 ms; the test gives the broker, the device and whatever it is about.
 */
export function testAgent(options: Partial<EdgeAgentOptions> & Pick<EdgeAgentOptions, 'mqtt' | 'modbus'>): EdgeAgent {
  return new EdgeAgent({
    agentId: 'home-01',
    community: 'street',
    unitId: 1,
    privateKey: generatePrivateKey(),
    pollMs: 250,
    telemetryMs: 1000,
    strategy: TEST_TARIFFS,
    logger: createLogger('agent', 'silent'),
    ...options,
  })
}

/** The market state a market publishes for the interval now open, on a local test chain. */
export function testMarketState(community: string, intervalSeconds: number): MarketState {
  const open = intervalStart(Date.now() / 1000, intervalSeconds) + intervalSeconds
  return {
    community, communityKey: communityKey(community), openInterval: open, gateClosure: open, intervalSeconds, chainId: 31337,
    settlement: '0x5FbDB2315678afecb367f032d93F642f64180aa3', token: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512', tokenDecimals: 6, tokenSymbol: 'dUSD',
    priceFloor: 0, priceCap: 1_000_000, ts: new Date().toISOString(),
  }
}

/**
 * Waits for an interval that began at least a second after `startedAt` (unix seconds), so an agent
 * started then has metered it from its start; with `minLeftSeconds`, only one with that long still to run.
 */
export function intervalBegunAfter(startedAt: number, intervalSeconds: number, minLeftSeconds = 0): Promise<number> {
  return waitFor('an interval begun after the agent started', () => {
    const now = Date.now() / 1000
    const start = intervalStart(now, intervalSeconds)
    const left = start + intervalSeconds - now
    return start > startedAt + 1 && now - start > 0.5 && (minLeftSeconds === 0 || left > minLeftSeconds) ? start : undefined
  }, 60_000, 100)
}

/**
 * A real broker for agent tests: the given agents of `community` with their passwords, and the market's
 * service account (password "pwm"); `marketClient` connects as the market.
 */
export async function testBroker(community: string, agentPasswords: Record<string, string>): Promise<RunningBroker> {
  return startBroker({
    users: [
      ...Object.entries(agentPasswords).map(([username, password]) => ({ username, passwordHash: hashPassword(password, 1024), role: 'agent' as const, community })),
      { username: 'market', passwordHash: hashPassword('pwm', 1024), role: 'market', community },
    ],
    logger: createLogger('broker', 'silent'),
  })
}

/** The market's own MQTT connection to a `testBroker`. */
export function marketClient(broker: RunningBroker): Promise<MqttClient> {
  return mqtt.connectAsync(broker.url, { username: 'market', password: 'pwm', clientId: 'market', reconnectPeriod: 0 })
}

/**
 * As a market would: publishes the market state, waits for an interval begun after `startedAt` (so
 * an agent started then meters it from its start), and awards `agentId` a net `netWh` (positive =
 * sold, negative = bought) in that interval and the `count − 1` after it. Returns the first one.
 */
export async function awardIntervals(
  market: MqttClient,
  award: { community: string; agentId: string; intervalSeconds: number; startedAt: number; netWh: number; count?: number; minLeftSeconds?: number },
): Promise<number> {
  const { community, agentId, intervalSeconds, netWh } = award
  const state = () => JSON.stringify(testMarketState(community, intervalSeconds))
  await market.publishAsync(topics.marketState(community), state(), { qos: 1, retain: true })
  const interval = await intervalBegunAfter(award.startedAt, intervalSeconds, award.minLeftSeconds)
  await market.publishAsync(topics.marketState(community), state(), { qos: 1, retain: true })
  for (let k = 0; k < (award.count ?? 1); k++) {
    const energyWh = Math.abs(netWh)
    const fills = [{ orderHash: `0x${'ab'.repeat(32)}`, side: netWh > 0 ? 1 : 0, energyWh, filledWh: energyWh, price: 150_000 }]
    await market.publishAsync(topics.agent(community, agentId, 'awards'), JSON.stringify({ interval: interval + k * intervalSeconds, fills, netWh }), { qos: 1 })
  }
  return interval
}
