import { describe, expect, it } from 'vitest'
import { LoadProfile, clearSkyShape, forecastInterval } from '../../edge-agent/forecast.ts'
import { planOrders } from '../../edge-agent/strategy.ts'

const tariffs = { feedInPrice: 80_000, retailPrice: 300_000, steps: 2, minOrderWh: 1 }

describe('interval forecast', () => {
  it('carries the recent solar along the day: rising before noon, falling after', () => {
    const morning = forecastInterval({ recentPvW: 2000, recentLoadW: 0, nowHour: 9, targetStartHour: 10, intervalSeconds: 3600 })
    const afternoon = forecastInterval({ recentPvW: 2000, recentLoadW: 0, nowHour: 16, targetStartHour: 17, intervalSeconds: 3600 })
    expect(morning.pvWh).toBeGreaterThan(2000)
    expect(afternoon.pvWh).toBeLessThan(2000)
    expect(morning.pvWh).toBe(Math.round(2000 * (clearSkyShape(10.5) / clearSkyShape(9))))
    // Solar measured when the textbook day says night (a simulated day, a clock off): kept as measured.
    expect(forecastInterval({ recentPvW: 1200, recentLoadW: 0, nowHour: 2, targetStartHour: 2, intervalSeconds: 900 }).pvWh).toBe(300)
  })

  it("expects the household's usual load for that hour, learned from its telemetry", () => {
    const profile = new LoadProfile(0.5)
    for (let i = 0; i < 10; i++) profile.observe(19.2, 2400)
    const evening = forecastInterval({ recentPvW: 0, recentLoadW: 400, nowHour: 18.9, targetStartHour: 19, intervalSeconds: 900, profile })
    expect(evening.loadWh).toBe(Math.round(((2400 + 400) / 2) * 0.25))
    expect(forecastInterval({ recentPvW: 0, recentLoadW: 400, nowHour: 18.9, targetStartHour: 19, intervalSeconds: 900 }).loadWh).toBe(100)
  })

  it('lets the battery cover a deficit within its power and the energy above its floor', () => {
    const base = { recentPvW: 0, recentLoadW: 2000, nowHour: 21, targetStartHour: 21, intervalSeconds: 3600 }
    expect(forecastInterval({ ...base, battery: { socPct: 80, capacityWh: 10_000, maxW: 1500, floorPct: 10 } })).toEqual({ pvWh: 0, loadWh: 2000, batteryWh: 1500, netWh: -500 })
    expect(forecastInterval({ ...base, battery: { socPct: 15, capacityWh: 10_000, maxW: 5000, floorPct: 10 } }).batteryWh).toBe(500)
    expect(forecastInterval(base).netWh).toBe(-2000)
  })
})

describe('orders from the forecast', () => {
  it('offers a surplus and bids for a shortfall as step curves inside the tariff band', () => {
    expect(planOrders(525, tariffs)).toEqual([{ side: 1, energyWh: 262, limitPrice: 124_000 }, { side: 1, energyWh: 263, limitPrice: 168_000 }])
    const bids = planOrders(-301, tariffs)
    expect(bids.map((o) => o.side)).toEqual([0, 0])
    expect(bids.reduce((n, o) => n + o.energyWh, 0)).toBe(301)
    expect(bids.every((o) => o.limitPrice > tariffs.feedInPrice && o.limitPrice < tariffs.retailPrice)).toBe(true)
    expect(bids[0]!.limitPrice).toBeGreaterThan(bids[1]!.limitPrice)
    expect(planOrders(0, tariffs)).toEqual([])
  })
})
