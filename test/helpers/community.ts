import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt, { type MqttClient } from 'mqtt'
import { privateKeyToAccount } from 'viem/accounts'
import type { Address, Hex } from 'viem'
import { startBroker, type RunningBroker } from '../../broker/mqtt-broker.ts'
import { hashPassword } from '../../broker/credentials.ts'
import { ANVIL_DEV_KEYS } from '../../contracts/anvil.ts'
import { signMeterReading } from '../../edge-agent/meter-reading-signer.ts'
import { signOrder } from '../../edge-agent/order-signer.ts'
import { MarketService, type MarketOptions } from '../../market/service/market-service.ts'
import { createLogger } from '../../platform/logger.ts'
import type { Order } from '../../protocol/order.ts'
import { topics } from '../../protocol/topics.ts'
import { startTestChain, type TestChain } from './chain.ts'
import { waitFor } from './wait-for.ts'

export interface CommunityHome {
  agentId: string
  key: Hex
  address: Address
}

export interface TestCommunity {
  chain: TestChain
  broker: RunningBroker
  market: MarketService
  homes: CommunityHome[]
  community: string
  /** An order of `home` for the open interval (a sell of 100 Wh at 100,000 unless patched), with a fresh nonce. */
  orderOf(home: CommunityHome, patch?: Partial<Order>): Order
  sign(order: Order, key: Hex): ReturnType<typeof signOrder>
  /** A meter reading of `home` signed by its own key (the dev chain's setting). */
  reading(home: CommunityHome, interval: number, exportedWh: number): ReturnType<typeof signMeterReading>
  /** `home`'s agent on the real broker, logged in with its own credentials. */
  connect(home: CommunityHome): Promise<MqttClient>
  publish(home: CommunityHome, channel: 'orders' | 'meter', payload: unknown): Promise<void>
  /** Waits for the next interval to open, so orders sent next have most of it before gate closure; its start. */
  freshInterval(): Promise<number>
  close(): Promise<void>
}

/**
 * A running community on real parts: anvil with the contracts (each home 1,000 dUSD in escrow), an
 * aedes broker with every home's credentials, and the market service clearing every
 * `intervalSeconds`. Agents are the test's own MQTT clients.
 */
export async function startCommunity(options: { homes: number; intervalSeconds: number; settlementWindow?: number; market?: Partial<MarketOptions> }): Promise<TestCommunity> {
  const community = 'street'
  const chain = await startTestChain(options.homes, { intervalLength: options.intervalSeconds, ...(options.settlementWindow ? { settlementWindow: options.settlementWindow, withdrawalDelay: options.settlementWindow * 2 } : {}) })
  const homes = chain.homeKeys.map((key, i) => ({ agentId: `home-${String(i + 1).padStart(2, '0')}`, key, address: privateKeyToAccount(key).address }))
  const broker = await startBroker({
    users: [
      ...homes.map((h) => ({ username: h.agentId, passwordHash: hashPassword(`pw-${h.agentId}`, 1024), role: 'agent' as const, community })),
      { username: 'market', passwordHash: hashPassword('pwm', 1024), role: 'market' as const, community },
    ],
    logger: createLogger('broker', 'silent'),
  })
  const market = new MarketService({
    community,
    intervalSeconds: options.intervalSeconds,
    mqtt: { url: broker.url, username: 'market', password: 'pwm' },
    members: homes.map((h) => ({ agentId: h.agentId, address: h.address })),
    chain: { rpcUrl: chain.anvil.rpcUrl, deployment: chain.deployment, operatorKey: ANVIL_DEV_KEYS[0] },
    dataDir: mkdtempSync(join(tmpdir(), 'vpp-community-')),
    priceFloor: 1,
    priceCap: 1_000_000,
    maxOrderWh: 1_000_000,
    logger: createLogger('market', process.env.VPP_TEST_LOG ?? 'silent'),
    ...options.market,
  })
  await market.start()
  const clients: MqttClient[] = []
  let nonce = 1
  const { chainId, settlement } = chain.deployment
  const connect = async (home: CommunityHome) => {
    const client = await mqtt.connectAsync(broker.url, { username: home.agentId, password: `pw-${home.agentId}`, clientId: home.agentId, protocolVersion: 4, reconnectPeriod: 0 })
    clients.push(client)
    return client
  }
  const connected = new Map<string, Promise<MqttClient>>()
  return {
    chain,
    broker,
    market,
    homes,
    community,
    orderOf: (home, patch = {}) => {
      const state = market.state()
      return { owner: home.address, community: state.communityKey, interval: state.openInterval, side: 1, energyWh: 100, limitPrice: 100_000, nonce: nonce++, ...patch }
    },
    sign: (order, key) => signOrder(privateKeyToAccount(key), order, chainId, settlement),
    reading: (home, interval, exportedWh) =>
      signMeterReading(privateKeyToAccount(home.key), { owner: home.address, community: market.communityKey, interval, exportedWh, importedWh: 0 }, chainId, settlement),
    connect,
    publish: async (home, channel, payload) => {
      let client = connected.get(home.agentId)
      if (!client) connected.set(home.agentId, (client = connect(home)))
      await (await client).publishAsync(topics.agent(community, home.agentId, channel), typeof payload === 'string' ? payload : JSON.stringify(payload), { qos: 1 })
    },
    freshInterval: () => {
      const start = market.state().openInterval
      return waitFor('the next interval to open', () => (market.state().openInterval > start ? market.state().openInterval : undefined), 3 * options.intervalSeconds * 1000, 50)
    },
    close: async () => {
      await Promise.all(clients.map((c) => c.endAsync(true)))
      await market.stop()
      await broker.close()
      await chain.anvil.stop()
    },
  }
}
