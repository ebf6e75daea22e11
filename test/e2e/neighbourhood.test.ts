import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import type { Address } from 'viem'
import { startNeighbourhood, type RunningNeighbourhood } from '../../cli/neighbourhood.ts'
import { devStablecoinAbi, energySettlementAbi } from '../../contracts/generated/artifacts.ts'
import { createPublicClient, http } from 'viem'
import { ANVIL_DEV_KEYS } from '../../contracts/anvil.ts'
import { signOrder } from '../../edge-agent/order-signer.ts'
import { createLogger } from '../../platform/logger.ts'
import type { TradeView } from '../../protocol/api.ts'
import type { IntervalResult } from '../../protocol/messages.ts'
import { topics } from '../../protocol/topics.ts'
import { buyerPaysBaseUnits, sellerReceivesBaseUnits } from '../../protocol/units.ts'
import { buildSettlementBatch } from '../../market/service/settlement-batch.ts'
import { previewSettlement } from '../helpers/settlement-oracle.ts'
import { waitFor } from '../helpers/wait-for.ts'

let hood: RunningNeighbourhood
const api = async <T>(path: string): Promise<T> => (await fetch(hood.url + path)).json() as Promise<T>

beforeAll(async () => {
  hood = await startNeighbourhood({ homes: 4, intervalSeconds: 5, port: 0, logger: createLogger('e2e', 'silent') })
})
afterAll(async () => {
  await hood?.stop()
})

describe('a neighbourhood trading end to end on real parts', () => {
  it('rejects and counts a forged order and a malformed payload without stopping the market', async () => {
    const home = hood.homes[0]!
    const client = await mqtt.connectAsync(hood.broker.url, { clientId: `${home.agentId}:test`, username: home.agentId, password: home.mqttPassword, protocolVersion: 4, reconnectPeriod: 0 })
    // Well before gate closure, so the order cannot arrive after its interval closed (which would be
    // refused as interval_not_open before its signature is even looked at).
    const state = await waitFor('an interval with time left', () => {
      const s = hood.market.state()
      return s.gateClosure * 1000 - Date.now() > 2500 ? s : undefined
    }, 20_000, 50)
    const forger = privateKeyToAccount(generatePrivateKey())
    const owner = privateKeyToAccount(home.privateKey).address
    // Claims to be the home's order, but is signed by another key.
    const forged = await signOrder(forger, { owner, community: state.communityKey, interval: state.openInterval, side: 1, energyWh: 100, limitPrice: 1, nonce: 999_999 }, state.chainId, state.settlement)
    const ordersTopic = topics.agent(hood.community, home.agentId, 'orders')
    await client.publishAsync(ordersTopic, JSON.stringify(forged), { qos: 1 })
    await client.publishAsync(ordersTopic, '{"order": {"owner": 42', { qos: 1 })
    await client.endAsync()

    // The malformed payload never gets past the broker's schema check; the forged order is well-formed,
    // so it reaches the market, whose signature check refuses it.
    await waitFor('the malformed payload counted at the broker', () => hood.broker.counters.get(`payload_invalid.${home.agentId}`) === 1, 15_000)
    const counters = await waitFor('the forged order counted at the market', async () => {
      const health = await api<{ counters: Record<string, number> }>('/api/health')
      return health.counters['orders_rejected.bad_signature'] ? health.counters : undefined
    }, 15_000)
    expect(counters['orders_rejected.bad_signature']).toBe(1)
    expect(counters['orders_rejected.malformed_json']).toBeUndefined()
    const cleared = counters.intervals_cleared ?? 0
    await waitFor('the market to clear another interval', async () => ((await api<{ counters: Record<string, number> }>('/api/health')).counters.intervals_cleared ?? 0) > cleared, 15_000)
  }, 60_000)

  it('clears between the best bid and ask, settles on anvil, and moves escrow by exactly the settled amounts', async () => {
    const settled = await waitFor(
      'an interval with trades settled on chain',
      async () => (await api<IntervalResult[]>('/api/intervals?limit=50')).find((r) => r.settlement.status === 'settled' && r.trades.length > 0 && r.settlement.tx),
      90_000,
    )
    expect(settled.orders).toBeGreaterThan(0)
    expect(settled.clearingPrice).not.toBeNull()
    expect(settled.clearingPrice!).toBeGreaterThanOrEqual(settled.bestAsk!)
    expect(settled.clearingPrice!).toBeLessThanOrEqual(settled.bestBid!)

    const client = createPublicClient({ transport: http(hood.chain.rpcUrl) })
    const receipt = await client.getTransactionReceipt({ hash: settled.settlement.tx! })
    expect(receipt.status).toBe('success')
    expect(receipt.to?.toLowerCase()).toBe(hood.deployment.settlement.toLowerCase())
    expect(settled.settlement.receipt).toEqual({ blockNumber: Number(receipt.blockNumber), gasUsed: Number(receipt.gasUsed) })

    // Expected escrow movements, computed from the published trades with docs/architecture.md's rounding per fill:
    // one fill per order and grid node, buyers at `price`, sellers at `sellerPrice`.
    const perFill = new Map<string, { owner: Address; side: 0 | 1; wh: bigint; price: bigint }>()
    for (const t of settled.trades) {
      for (const [hash, owner, side, price] of [[t.buyOrder, t.buyer, 0, t.price], [t.sellOrder, t.seller, 1, t.sellerPrice]] as const) {
        const key = `${hash}@${t.node}@${price}`
        const entry = perFill.get(key) ?? { owner, side, wh: 0n, price: BigInt(price) }
        entry.wh += BigInt(t.energyWh)
        perFill.set(key, entry)
      }
    }
    const expected = new Map<string, bigint>()
    let fees = 0n
    for (const { owner, side, wh, price } of perFill.values()) {
      const amount = side === 0 ? -buyerPaysBaseUnits(wh, price) : sellerReceivesBaseUnits(wh, price)
      fees -= amount
      expected.set(owner.toLowerCase(), (expected.get(owner.toLowerCase()) ?? 0n) + amount)
    }
    const feeRecipient = privateKeyToAccount(ANVIL_DEV_KEYS[1]).address
    expected.set(feeRecipient.toLowerCase(), (expected.get(feeRecipient.toLowerCase()) ?? 0n) + fees)

    const escrow = (owner: string, blockNumber: bigint) =>
      client.readContract({ address: hood.deployment.settlement, abi: energySettlementAbi, functionName: 'balanceOf', args: [owner as Address], blockNumber })

    // Every seller's agent signed a meter reading for the interval, and the market has it.
    const orders = hood.market.store.ordersFor(settled.interval)
    const readings = hood.market.store.meterReadingsFor(settled.interval)
    for (const t of settled.trades) {
      const home = hood.homes.find((h) => h.agent.account.address.toLowerCase() === t.seller.toLowerCase())!
      const why = JSON.stringify({ interval: settled.interval, agent: home.agent.counters.toJSON(), market: hood.market.counters.toJSON(), readingsOfSeller: [...Array(6).keys()].map((k) => hood.market.store.meterReadingsFor(settled.interval + (k - 3) * hood.market.intervalSeconds).has(t.seller.toLowerCase())) })
      expect(readings.has(t.seller.toLowerCase()), `meter reading of ${home.agentId}: ${why}`).toBe(true)
    }
    // A seller that exported less than it sold is paid for what it delivered and charged the rest;
    // the market's preview (tied to the contract by the property tests) says exactly how much.
    const before = new Map(await Promise.all([...expected.keys()].map(async (o) => [o, await escrow(o, receipt.blockNumber - 1n)] as const)))
    const batch = buildSettlementBatch(settled.trades, new Map(orders.map((o) => [o.hash as string, o])), readings)
    const preview = previewSettlement(batch, BigInt(hood.deployment.imbalancePrice))
    const short = new Set(preview.deliveries.filter((d) => d.shortfallWh > 0).map((d) => d.owner.toLowerCase()))
    // The market reports shortfalls from the contract's ImbalanceCharged events; worked here from the
    // published trades and the signed readings alone: a seller is short by what it sold beyond its export.
    const soldBy = new Map<string, number>()
    for (const t of settled.trades) soldBy.set(t.seller.toLowerCase(), (soldBy.get(t.seller.toLowerCase()) ?? 0) + t.energyWh)
    const byHand = [...soldBy]
      .map(([seller, soldWh]) => ({ seller, soldWh, deliveredWh: Math.min(soldWh, Number(readings.get(seller)!.reading.exportedWh)) }))
      .filter((d) => d.deliveredWh < d.soldWh)
      .sort((a, b) => a.seller.localeCompare(b.seller))
    const reported = (settled.settlement.shortfalls ?? []).map((d) => ({ seller: d.seller.toLowerCase(), soldWh: d.soldWh, deliveredWh: d.deliveredWh })).sort((a, b) => a.seller.localeCompare(b.seller))
    expect(reported).toEqual(byHand)
    expect([...short].sort()).toEqual(byHand.map((d) => d.seller))
    const buyers = new Set(settled.trades.map((t) => t.buyer.toLowerCase()))
    for (const [owner, delta] of expected) {
      const moved = (await escrow(owner, receipt.blockNumber)) - before.get(owner)!
      expect(moved, `escrow of ${owner}`).toBe(owner === feeRecipient.toLowerCase() ? preview.fees : preview.deltas.get(owner))
      // Independently of the preview: the per-fill amounts of the published trades, for everyone when
      // nobody fell short, else for the sellers that delivered in full (shortfall credits go to buyers).
      if (short.size === 0 || (!short.has(owner) && !buyers.has(owner) && owner !== feeRecipient.toLowerCase())) expect(moved, `per-fill amounts of ${owner}`).toBe(delta)
    }

    // The contract holds exactly the sum of everyone's escrow.
    const holders = [...hood.homes.map((h) => privateKeyToAccount(h.privateKey).address), feeRecipient]
    const total = (await Promise.all(holders.map((h) => escrow(h, receipt.blockNumber)))).reduce((a, b) => a + b, 0n)
    const held = await client.readContract({ address: hood.deployment.token, abi: devStablecoinAbi, functionName: 'balanceOf', args: [hood.deployment.settlement], blockNumber: receipt.blockNumber })
    expect(total).toBe(held)

    // Each trading home was awarded exactly its net trade: sold minus bought.
    const netByOwner = new Map<string, number>()
    for (const t of settled.trades) {
      netByOwner.set(t.seller.toLowerCase(), (netByOwner.get(t.seller.toLowerCase()) ?? 0) + t.energyWh)
      netByOwner.set(t.buyer.toLowerCase(), (netByOwner.get(t.buyer.toLowerCase()) ?? 0) - t.energyWh)
    }
    for (const [owner, netWh] of netByOwner) {
      const home = hood.homes.find((h) => h.agent.account.address.toLowerCase() === owner)!
      const award = home.agent.awards.get(settled.interval)
      expect(award, `award of ${home.agentId}`).toBeDefined()
      expect(award!.netWh).toBe(netWh)
      expect(award!.fills.every((f) => f.filledWh <= f.energyWh)).toBe(true)
    }
    const health = await api<{ counters: Record<string, number> }>('/api/health')
    expect(health.counters.orders_accepted).toBeGreaterThan(0)
    expect(health.counters.meter_readings).toBeGreaterThan(0)
    expect(health.counters.meter_rejected, `meter readings refused: ${JSON.stringify(health.counters)}`).toBeUndefined()

    // The API reports the trades with their settlement transaction.
    const trades = await api<TradeView[]>('/api/trades?limit=500')
    const ofInterval = trades.filter((t) => t.interval === settled.interval)
    expect(ofInterval).toHaveLength(settled.trades.length)
    for (const t of ofInterval) {
      expect(t).toMatchObject({ settlementTx: settled.settlement.tx, settlementStatus: 'settled' })
      expect(t.buyerAgent).toMatch(/^home-\d\d$/)
      expect(t.sellerAgent).toMatch(/^home-\d\d$/)
      expect(Number.isInteger(t.energyWh) && Number.isInteger(t.price)).toBe(true)
    }
  })

  it('reports every home online with live telemetry', async () => {
    const agents = await waitFor('telemetry from every home', async () => {
      const list = await api<{ agentId: string; online: boolean; snapshot: unknown }[]>('/api/agents')
      return list.every((a) => a.online && a.snapshot) ? list : undefined
    })
    expect(agents.map((a) => a.agentId)).toEqual(['home-01', 'home-02', 'home-03', 'home-04'])
  })
})
