import { describe, expect, it } from 'vitest'
import { planIntervalOrders } from '../../edge-agent/interval-orders.ts'
import { testMarketState } from '../helpers/agent.ts'

const strategy = { feedInPrice: 80_000, retailPrice: 300_000, steps: 2, minOrderWh: 1 }
const owner = '0x00000000000000000000000000000000000000a1' as const

describe('the orders of an interval (planIntervalOrders)', () => {
  it('signs for the open interval with nonces unique and growing per interval, limits inside the price band', () => {
    const market = { ...testMarketState('street', 900), priceFloor: 130_000, priceCap: 150_000 }
    const { orders, fit } = planIntervalOrders({ netWh: 525, strategy, market, owner })
    // The step curve asks 124,000 and 168,000 (strategy.ts); the band lifts the first and caps the second.
    expect(orders.map((o) => [o.side, o.energyWh, o.limitPrice])).toEqual([
      [1, 262, 130_000],
      [1, 263, 150_000],
    ])
    expect(orders.map((o) => o.nonce)).toEqual([market.openInterval * 1000, market.openInterval * 1000 + 1])
    expect(orders.every((o) => o.interval === market.openInterval && o.community === market.communityKey && o.owner === owner)).toBe(true)
    expect(fit).toBeUndefined()
    const next = planIntervalOrders({ netWh: 525, strategy, market: { ...market, openInterval: market.openInterval + 900 }, owner })
    expect(Math.min(...next.orders.map((o) => o.nonce))).toBeGreaterThan(Math.max(...orders.map((o) => o.nonce)))
  })

  it('bids only what the escrow has free, when it is known', () => {
    const market = testMarketState('street', 900)
    // A 100 Wh shortfall: bids of 50 Wh at 300,000 − 220,000·1/5 = 256,000 and − 220,000·2/5 = 212,000.
    // The first holds 12,800 of the 15,000 free; 2,200 left covers 10 Wh at 212,000 (2,120).
    const { orders, fit } = planIntervalOrders({ netWh: -100, strategy, market, owner, escrow: { freeBaseUnits: 15_000n, imbalancePrice: 400_000 } })
    expect(orders.map((o) => [o.energyWh, o.limitPrice])).toEqual([
      [50, 256_000],
      [10, 212_000],
    ])
    expect(fit?.short).toBe(true)
  })
})
