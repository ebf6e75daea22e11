import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCommunity, type TestCommunity } from '../helpers/community.ts'
import { waitFor } from '../helpers/wait-for.ts'

// Review findings 8 and 9: nothing bounded the orders one agent could have in an interval (so one
// member could make an interval too large to settle in a block), and meter readings had no rate
// limit, were taken for any past interval, and each cost a signature recovery and an fsync. Now an
// agent has at most 24 open orders per interval, and a reading is rate-limited, must be for an
// aligned interval the agent sold in that has not settled, and a duplicate is refused before any
// signature work.

const INTERVAL = 4
let c: TestCommunity
beforeAll(async () => {
  c = await startCommunity({ homes: 3, intervalSeconds: INTERVAL, market: { rateLimit: { agent: { burst: 100, perSecond: 50 } } } })
})
afterAll(async () => {
  await c?.close()
})

describe('attack: one agent floods an interval with orders', () => {
  it('accepts 24 open orders of the agent in the interval and refuses the rest; another agent still trades', async () => {
    const [flooder, neighbour] = c.homes as [typeof c.homes[number], typeof c.homes[number]]
    const interval = await c.freshInterval()
    const orders = await Promise.all(Array.from({ length: 30 }, () => c.sign(c.orderOf(flooder, { side: 1, energyWh: 1, limitPrice: 100_000 }), flooder.key)))
    // All at once: the cap must hold for concurrent orders too.
    const outcomes = await Promise.all(orders.map((o) => c.market.submitOrder(JSON.stringify(o), { mqttAgentId: flooder.agentId })))
    expect(outcomes.filter((o) => o.ok)).toHaveLength(24)
    expect(new Set(outcomes.filter((o) => !o.ok).map((o) => !o.ok && o.reason))).toEqual(new Set(['too_many_orders']))
    const mine = await c.market.submitOrder(JSON.stringify(await c.sign(c.orderOf(neighbour, { side: 0, energyWh: 10, limitPrice: 200_000 }), neighbour.key)), { mqttAgentId: neighbour.agentId })
    expect(mine.ok).toBe(true)
    expect(c.market.store.ordersFor(interval)).toHaveLength(25)
  })
})

describe('attack: one agent floods the market with meter readings', () => {
  it('refuses unaligned, duplicate and flooding readings, and sets aside readings nobody needs before checking their signature', async () => {
    const [seller, buyer] = c.homes as [typeof c.homes[number], typeof c.homes[number]]
    const interval = await c.freshInterval()
    await c.market.submitOrder(JSON.stringify(await c.sign(c.orderOf(seller, { side: 1, energyWh: 20, limitPrice: 100_000 }), seller.key)), { mqttAgentId: seller.agentId })
    await c.market.submitOrder(JSON.stringify(await c.sign(c.orderOf(buyer, { side: 0, energyWh: 20, limitPrice: 200_000 }), buyer.key)), { mqttAgentId: buyer.agentId })
    await waitFor('the interval cleared with a trade', () => (c.market.store.interval(interval)?.trades.length ?? 0) > 0, 3 * INTERVAL * 1000, 50)
    await waitFor('the interval delivered', () => Date.now() / 1000 >= interval + INTERVAL + 0.2, 3 * INTERVAL * 1000, 50)
    const count = (name: string) => c.market.counters.get(name)

    // Not on the interval grid.
    await c.publish(seller, 'meter', await c.reading(seller, interval + 1, 20))
    // An interval the buyer did not sell in, with a signature that would not even verify: set aside, unchecked.
    const forged = await c.reading(seller, interval, 20)
    await c.publish(buyer, 'meter', { ...forged, reading: { ...forged.reading, owner: buyer.address } })
    // The real reading, then the same again.
    await c.publish(seller, 'meter', await c.reading(seller, interval, 20))
    await c.publish(seller, 'meter', await c.reading(seller, interval, 19))
    await waitFor('four readings handled', () => count('meter_rejected') + count('meter_ignored') + count('meter_readings') >= 4, 5000, 20)
    expect(count('meter_rejected.not_aligned')).toBe(1)
    expect(count('meter_ignored.not_a_seller')).toBe(1)
    expect(count('meter_rejected.bad_signature')).toBe(0)
    expect(count('meter_readings')).toBe(1)
    expect(count('meter_rejected.duplicate')).toBe(1)
    expect(c.market.store.meterReadingsFor(interval).get(seller.address.toLowerCase())?.reading.exportedWh).toBe(20)

    // A burst: the agent's bucket (4, then 1 a second) has no room left for most of it.
    for (let i = 0; i < 20; i++) await c.publish(seller, 'meter', await c.reading(seller, interval, 20))
    await waitFor('the burst handled', () => count('meter_rejected') + count('meter_ignored') + count('meter_readings') >= 24, 5000, 20)
    expect(count('meter_rejected.rate_limited')).toBeGreaterThanOrEqual(15)
  })
})
