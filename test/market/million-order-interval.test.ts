import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import type { Address, Hex } from 'viem'
import { ANVIL_DEV_KEYS } from '../../contracts/anvil.ts'
import type { RunningBroker } from '../../broker/mqtt-broker.ts'
import { MarketService } from '../../market/service/market-service.ts'
import { createLogger } from '../../platform/logger.ts'
import { awardSchema, intervalResultSchema, type Award, type IntervalResult } from '../../protocol/messages.ts'
import type { SignedOrder } from '../../protocol/order.ts'
import { topics } from '../../protocol/topics.ts'
import { testBroker } from '../helpers/agent.ts'
import { startTestChain, type TestChain } from '../helpers/chain.ts'
import { waitFor } from '../helpers/wait-for.ts'

// A million-order interval through the market service itself (store, clearing, result, awards,
// MQTT), not just the engine: it used to throw RangeError spreading 500,000 bids into Math.max, so
// the interval silently never cleared, and the awards walked every fill for every order.

const community = 'street'
const AGENTS = 1000
const PER_AGENT = 1000
const INTERVAL = 20
/** Every 100th order of each side crosses: bids at 250,000 against asks at 50,000, 500 Wh each. */
const CROSSING_WH = 500
let chain: TestChain
let broker: RunningBroker
let market: MarketService
const address = (a: number) => `0x${(a + 1).toString(16).padStart(40, '0')}` as Address
const agentId = (a: number) => `home-${String(a).padStart(4, '0')}`
/** The agents whose awards the test reads over MQTT, as those agents. */
const WATCHED = [0, 1, 999]

beforeAll(async () => {
  chain = await startTestChain(0, { intervalLength: INTERVAL })
  broker = await testBroker(community, Object.fromEntries(WATCHED.map((a) => [agentId(a), `pw-${a}`])))
  market = new MarketService({
    community,
    intervalSeconds: INTERVAL,
    mqtt: { url: broker.url, username: 'market', password: 'pwm' },
    members: Array.from({ length: AGENTS }, (_, a) => ({ agentId: agentId(a), address: address(a) })),
    chain: { rpcUrl: chain.anvil.rpcUrl, deployment: chain.deployment, operatorKey: ANVIL_DEV_KEYS[0] },
    dataDir: mkdtempSync(join(tmpdir(), 'vpp-million-')),
    priceFloor: 0,
    priceCap: 1_000_000,
    maxOrderWh: 1_000_000,
    logger: createLogger('market', process.env.VPP_TEST_LOG ?? 'silent'),
  })
  await market.start()
}, 60_000)
afterAll(async () => {
  await market?.stop()
  await broker?.close()
  await chain?.anvil.stop()
})

describe('an interval of 1,000,000 orders through the market service', () => {
  it('clears, publishes a result that fits the broker, and awards every agent its own orders', { timeout: 240_000 }, async () => {
    // The interval after the open one: the book is in before its gate closes.
    const interval = market.state().openInterval + INTERVAL
    const { communityKey } = market.state()
    let bestBid = 0
    let bestAsk = Number.POSITIVE_INFINITY
    let demandWh = 0
    let supplyWh = 0
    const netOf = new Map<number, number>()
    function* book() {
      for (let a = 0; a < AGENTS; a++) {
        for (let k = 0; k < PER_AGENT; k++) {
          const n = a * PER_AGENT + k
          const side = (n % 2) as 0 | 1
          const crossing = n % 200 < 2
          // Bids 100,000–119,999 and asks 160,000–199,999 never meet; the crossing ones all do.
          const limitPrice = crossing ? (side === 0 ? 250_000 : 50_000) : side === 0 ? 100_000 + (n % 20_000) : 160_000 + (n % 40_000)
          const energyWh = crossing ? CROSSING_WH : 1 + (n % 3000)
          if (side === 0) (demandWh += energyWh), (bestBid = Math.max(bestBid, limitPrice))
          else (supplyWh += energyWh), (bestAsk = Math.min(bestAsk, limitPrice))
          if (crossing) netOf.set(a, (netOf.get(a) ?? 0) + (side === 1 ? energyWh : -energyWh))
          const signed: SignedOrder = { order: { owner: address(a), community: communityKey, interval, side, energyWh, limitPrice, nonce: n }, signature: `0x${'11'.repeat(65)}` as Hex }
          yield { agentId: agentId(a), hash: `0x${n.toString(16).padStart(64, '0')}` as Hex, signed }
        }
      }
    }
    expect(market.store.insertOrders(book())).toBe(AGENTS * PER_AGENT)
    // Stored while the interval is still open to orders (else the test proves nothing).
    expect(market.state().openInterval).toBeLessThanOrEqual(interval)

    const watchers = await Promise.all(
      WATCHED.map(async (a) => {
        const client = await mqtt.connectAsync(broker.url, { clientId: agentId(a), username: agentId(a), password: `pw-${a}`, reconnectPeriod: 0 })
        const awards: Award[] = []
        client.on('message', (_t, payload) => awards.push(awardSchema.parse(JSON.parse(payload.toString()))))
        await client.subscribeAsync(topics.agent(community, agentId(a), 'awards'), { qos: 1 })
        return { a, client, awards }
      }),
    )
    const observer = await mqtt.connectAsync(broker.url, { clientId: `${agentId(WATCHED[0]!)}:results`, username: agentId(WATCHED[0]!), password: `pw-${WATCHED[0]}`, reconnectPeriod: 0, clean: true })
    const published: IntervalResult[] = []
    observer.on('message', (_t, payload) => payload.length && published.push(intervalResultSchema.parse(JSON.parse(payload.toString()))))
    await observer.subscribeAsync(topics.marketInterval(community, interval), { qos: 1 })

    const cleared = await waitFor('the million-order interval to clear', () => market.store.interval(interval), 200_000, 250)

    const crossingPerSide = (AGENTS * PER_AGENT) / 200
    expect(cleared).toMatchObject({ orders: AGENTS * PER_AGENT, bestBid, bestAsk, demandWh, supplyWh, volumeWh: crossingPerSide * CROSSING_WH })
    expect(cleared.clearingPrice).toBeGreaterThanOrEqual(50_000)
    expect(cleared.clearingPrice).toBeLessThanOrEqual(250_000)

    // The MQTT result leaves the trades out (they would pass the broker's 256 KiB packet limit) and
    // says how many; the market's own connection survived to publish the awards after it.
    await waitFor('the published result', () => published.length > 0 || undefined, 30_000, 100)
    expect(published[0]).toMatchObject({ interval, orders: AGENTS * PER_AGENT, trades: [], tradesOmitted: cleared.trades.length })
    for (const w of watchers) {
      await waitFor(`the award of ${agentId(w.a)}`, () => w.awards.find((x) => x.interval === interval), 30_000, 100)
      const award = w.awards.find((x) => x.interval === interval)!
      expect(award.fills).toHaveLength(PER_AGENT)
      expect(award.netWh).toBe(netOf.get(w.a) ?? 0)
      for (const f of award.fills) {
        const n = Number(BigInt(f.orderHash))
        expect(f.filledWh, `order ${n}`).toBe(n % 200 < 2 ? CROSSING_WH : 0)
      }
    }
    await Promise.all([...watchers.map((w) => w.client.endAsync()), observer.endAsync()])
    // Before its settlement is tried at the next gate closure: these orders carry no real signatures.
    await market.stop()
  })
})
