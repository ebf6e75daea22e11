import { describe, expect, it } from 'vitest'
import { fitOrdersToEscrow } from '../../edge-agent/escrow-budget.ts'

// Holds worked by hand: a buy holds energy × limit / 1000 rounded up, a sell energy × imbalance price / 1000 rounded up.
const buys = [
  { side: 0 as const, energyWh: 10, limitPrice: 250_000 }, // holds 2,500
  { side: 0 as const, energyWh: 10, limitPrice: 200_000 }, // holds 2,000
]
const sells = [
  { side: 1 as const, energyWh: 3, limitPrice: 100_000 }, // holds 3 × 333,333 / 1000 = 999.999 → 1,000
  { side: 1 as const, energyWh: 3, limitPrice: 150_000 },
]

describe('fitting orders to the escrow (fitOrdersToEscrow)', () => {
  it('keeps the plan whole when the escrow covers it exactly', () => {
    const fit = fitOrdersToEscrow(buys, 4_500n, 400_000, 1)
    expect(fit).toEqual({ orders: buys, short: false, plannedHoldBaseUnits: 4_500n, keptHoldBaseUnits: 4_500n })
  })

  it('keeps the first orders and cuts the first that does not fit to the energy that does', () => {
    // 4,499 left after nothing: the first buy (2,500) fits, 1,999 is left, which at 200,000 covers 9 Wh (1,800).
    const fit = fitOrdersToEscrow(buys, 4_499n, 400_000, 1)
    expect(fit.orders).toEqual([buys[0], { side: 0, energyWh: 9, limitPrice: 200_000 }])
    expect(fit.short).toBe(true)
    expect(fit.keptHoldBaseUnits).toBe(4_300n)
  })

  it('drops a cut order below the smallest worth signing, and everything after it', () => {
    // 2,500 + 1,999: the second would be cut to 9 Wh, under 10.
    expect(fitOrdersToEscrow(buys, 4_499n, 400_000, 10).orders).toEqual([buys[0]])
    // 2,499 cannot back even the first buy whole: cut to 9 Wh (2,250) and nothing after it.
    expect(fitOrdersToEscrow(buys, 2_499n, 400_000, 1).orders).toEqual([{ side: 0, energyWh: 9, limitPrice: 250_000 }])
  })

  it('holds a sell at the imbalance price, rounded up as the contract charges it', () => {
    expect(fitOrdersToEscrow(sells, 2_000n, 333_333, 1)).toMatchObject({ orders: sells, short: false, keptHoldBaseUnits: 2_000n })
    // 1,999: the first sell (1,000) fits; 999 covers 2 Wh of the second (666.666 → 667), not 3.
    const fit = fitOrdersToEscrow(sells, 1_999n, 333_333, 1)
    expect(fit.orders).toEqual([sells[0], { ...sells[1], energyWh: 2 }])
    expect(fit.keptHoldBaseUnits).toBe(1_667n)
  })

  it('bids nothing with nothing free, and says so', () => {
    expect(fitOrdersToEscrow(buys, 0n, 400_000, 1)).toEqual({ orders: [], short: true, plannedHoldBaseUnits: 4_500n, keptHoldBaseUnits: 0n })
    expect(fitOrdersToEscrow([], 0n, 400_000, 1)).toMatchObject({ orders: [], short: false })
  })
})
