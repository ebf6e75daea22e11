import { describe, expect, it } from 'vitest'
import { LoadProfile, clearSkyShape, forecastInterval } from '../../edge-agent/forecast.ts'
import { planOrders } from '../../edge-agent/strategy.ts'

const tariffs = { feedInPrice: 80_000, retailPrice: 300_000, steps: 2, minOrderWh: 1 }

describe('interval forecast', () => {
  it('follows a clear-sky bell from 06:00 to 20:00, at its top at 13:00 and half of it 3.5 h either side', () => {
    expect(clearSkyShape(13)).toBe(1)
    expect(clearSkyShape(9.5)).toBeCloseTo(0.5, 12)
    expect(clearSkyShape(16.5)).toBeCloseTo(0.5, 12)
    for (const night of [0, 5, 6, 20, 23.5]) expect(clearSkyShape(night)).toBe(0)
  })

  it('carries the recent solar along the day: rising before noon, falling after', () => {
    const morning = forecastInterval({ recentPvW: 2000, recentLoadW: 0, nowHour: 9, targetStartHour: 10, intervalSeconds: 3600 })
    const afternoon = forecastInterval({ recentPvW: 2000, recentLoadW: 0, nowHour: 16, targetStartHour: 17, intervalSeconds: 3600 })
    expect(morning.pvWh).toBeGreaterThan(2000)
    expect(afternoon.pvWh).toBeLessThan(2000)
    // Worked by hand: the shape is cos²((h − 13)/7 · π/2), 0.71694 at 10:30 (the hour's middle) and
    // 0.38874 at 09:00, so 2000 W for an hour becomes 2000 × 1.84428 = 3688.5 Wh.
    expect(morning.pvWh).toBe(3689)
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
