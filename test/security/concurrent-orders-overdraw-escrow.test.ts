import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCommunity, type TestCommunity } from '../helpers/community.ts'
import { waitFor } from '../helpers/wait-for.ts'

// Review finding 7: intake read the owner's exposure, awaited the escrow read over RPC, then stored
// the order, so ten buys sent at once, each worth the whole escrow, were all accepted; and sells held
// no collateral at all. Now each owner's intake runs under a lock (read, check, reserve, store), and a
// sell holds the imbalance charge of all of it, as the contract will demand.

let c: TestCommunity
beforeAll(async () => {
  // A long interval: every order of a test lands in the same open interval.
  c = await startCommunity({ homes: 3, intervalSeconds: 3600 })
})
afterAll(async () => {
  await c?.close()
})

describe('attack: concurrent orders that together overdraw one escrow', () => {
  it('ten buys sent at once over MQTT, each worth the whole escrow: exactly one is accepted', async () => {
    const home = c.homes[0]!
    // 1,000,000 Wh at 1,000,000 per kWh: 1e9 base units, the home's whole escrow.
    const orders = await Promise.all(Array.from({ length: 10 }, () => c.sign(c.orderOf(home, { side: 0, energyWh: 1_000_000, limitPrice: 1_000_000 }), home.key)))
    await Promise.all(orders.map((o) => c.publish(home, 'orders', o)))
    const interval = c.market.state().openInterval
    await waitFor('all ten orders handled', () => (c.market.counters.get('orders_accepted') ?? 0) + (c.market.counters.get('orders_rejected.insufficient_collateral') ?? 0) >= 10)
    expect(c.market.store.ordersFor(interval).filter((o) => o.owner === home.address)).toHaveLength(1)
    expect(c.market.counters.get('orders_rejected.insufficient_collateral')).toBe(9)
  })

  it('sells hold the imbalance collateral: of three sells each holding 0.4 of the escrow, two are accepted', async () => {
    const home = c.homes[1]!
    // 1,000,000 Wh at the imbalance price of 0.40/kWh: 4e8 of the home's 1e9 base units each.
    const results = await Promise.all(
      Array.from({ length: 3 }, async () => c.market.submitOrder(JSON.stringify(await c.sign(c.orderOf(home, { side: 1, energyWh: 1_000_000, limitPrice: 1 }), home.key)), { mqttAgentId: home.agentId })),
    )
    expect(results.filter((r) => r.ok)).toHaveLength(2)
    expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.reason)).toEqual(['insufficient_collateral'])
  })
})
