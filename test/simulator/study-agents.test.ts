import { expect, it } from 'vitest'
import { forecastInterval, LoadProfile } from '../../edge-agent/forecast.ts'
import { planOrders, strategyParamsSchema } from '../../edge-agent/strategy.ts'
import { mulberry32 } from '../../simulator/random.ts'
import { agentMemory, agentOrders, observeInterval, planAgentOrders } from '../../simulator/study-agents.ts'
import type { HomeState } from '../../simulator/study-homes.ts'

// The study's agents are the edge agent's code: for the same telemetry, time and battery, each study
// home bids exactly what forecastInterval and planOrders give a live agent.

it('bids what the live agent would, home by home, from the same telemetry, learned load and battery', () => {
  const n = 40
  const draw = mulberry32(18)
  const strategy = strategyParamsSchema.parse({ feedInPrice: 80_000, retailPrice: 320_000, steps: 3 })
  const capacity = Float64Array.from({ length: n }, (_, h) => (h % 3 === 0 ? 0 : 5000 + Math.floor(draw() * 10_000)))
  const homes = {
    batteryWh: capacity,
    batteryW: Float64Array.from(capacity, (c) => (c > 0 ? 2000 + Math.floor(draw() * 3000) : 0)),
    batteryEfficiency: new Float64Array(n).fill(0.9),
    socWh: Float64Array.from(capacity, (c) => Math.floor(c * draw())),
    pvWh: new Float64Array(n),
    loadWh: new Float64Array(n),
  } as unknown as HomeState
  const memory = agentMemory(n, 15)
  const live = Array.from({ length: n }, () => new LoadProfile(memory.weight))
  const dtHours = 0.25
  const localHour = 9 // morning: the clear-sky ratio moves fast, so "now" must be the same moment
  // A day and a morning of telemetry up to the interval planned for: each interval's PV and load, seen
  // by the study's agents and by live profiles alike.
  for (let q = 0; q < 96 + localHour / dtHours; q++) {
    const hour = (q * dtHours) % 24
    for (let h = 0; h < n; h++) {
      homes.pvWh[h] = hour > 7 && hour < 19 ? Math.floor(draw() * 1500) : 0
      homes.loadWh[h] = 50 + Math.floor(draw() * 600)
      live[h]!.observe(hour + dtHours / 2, homes.loadWh[h]! / dtHours)
    }
    observeInterval(memory, homes, n, hour, dtHours)
  }
  const book = agentOrders(n, strategy.steps)
  const nodeOf = new Int32Array(n)
  planAgentOrders(memory, homes, book, { n, localHour, dtHours, perfectForesight: false, batterySale: false, batteryAskPrice: 0, strategy, socFloorPct: 10, socCeilingPct: 95, nodeOf })

  let k = 0
  for (let h = 0; h < n; h++) {
    const forecast = forecastInterval({
      recentPvW: homes.pvWh[h]! / dtHours,
      recentLoadW: homes.loadWh[h]! / dtHours,
      nowHour: localHour - dtHours / 2,
      targetStartHour: localHour,
      intervalSeconds: 900,
      profile: live[h],
      battery: capacity[h]! > 0 ? { socPct: (homes.socWh[h]! / capacity[h]!) * 100, capacityWh: capacity[h]!, maxW: homes.batteryW[h]!, floorPct: 10 } : undefined,
    })
    for (const order of planOrders(forecast.netWh, strategy)) {
      expect({ home: book.homeOfOrder[k], side: book.orders.side[k], energyWh: book.orders.energyWh[k], limitPrice: book.orders.limitPrice[k] }, `home ${h}`).toEqual({ home: h, ...order })
      k++
    }
  }
  expect(book.orders.count).toBe(k)
  expect(k).toBeGreaterThan(n)
})
