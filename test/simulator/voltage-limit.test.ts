import { describe, expect, it } from 'vitest'
import { fileURLToPath } from 'node:url'
import { loadScenario, type Scenario } from '../../simulator/scenario.ts'
import { hostingCapacityW } from '../../simulator/grid/hosting-capacity.ts'
import { lowVoltageSchema } from '../../simulator/grid/lv-network.ts'
import { runStudy } from '../../simulator/study.ts'
import { voltageLimitedTopology } from '../../simulator/study-grid.ts'

const suburb = loadScenario(fileURLToPath(new URL('../../simulator/scenarios/suburb-200.yaml', import.meta.url)))

describe('hosting capacity', () => {
  it('matches a two-bus feeder worked by hand: export to a 3 % rise, import to 90 %', () => {
    // One home on 0.1 Ω (no reactance) from a 230 V busbar. Per phase, constant power p into the home's
    // voltage V: V = Vs + R p / V, so p = V (V − Vs) / R at the voltage the limit allows.
    const network = { parent: Int32Array.of(-1, 0), rOhm: Float64Array.of(0, 0.1), xOhm: Float64Array.of(0, 0), nominalV: 230 }
    const grid = { network, homeBus: Int32Array.of(1), ampacityA: Float64Array.of(0, 1000), isService: Uint8Array.of(0, 1) }
    const { exportW, importW } = hostingCapacityW(grid, { busbarPu: 1, maxRisePu: 0.03, minPu: 0.9, maxPu: 1.1 })
    const exportByHand = (3 * (230 * 1.03) * (230 * 0.03)) / 0.1 // 49,038.3 W over three phases
    const importByHand = (3 * (230 * 0.9) * (230 * 0.1)) / 0.1 // 142,830 W
    expect(Math.abs(exportW - exportByHand)).toBeLessThanOrEqual(2)
    expect(Math.abs(importW - importByHand)).toBeLessThanOrEqual(2)
  })

  it('is smaller on a weak, long feeder than on a strong one', () => {
    const strong = voltageLimitedTopology({ ...suburb, grid: { ...suburb.grid, transformerKw: null } })
    const weak = voltageLimitedTopology(weakSuburb())
    const transformerKw = (t: typeof strong) => t.filter((n) => n.level === 'transformer').map((n) => n.capacityKw!)
    for (const [s, w] of transformerKw(strong).map((kw, i) => [kw, transformerKw(weak)[i]!])) {
      expect(w).toBeGreaterThan(0)
      expect(w).toBeLessThan(s!)
    }
  })
})

/**
 * The suburb in January on one thin street main per transformer, homes far apart: little room for
 * feed-in, and winter days on which one transformer's homes spare what the other's lack.
 */
function weakSuburb(): Scenario {
  return { ...suburb, start: '2026-01-10', grid: { ...suburb.grid, lowVoltage: lowVoltageSchema.parse({ lines: 1, mainCable: 'NAYY 4x50', serviceCable: 'NYY 4x16', homeSpacingM: 80, serviceLengthM: 40 }) } }
}

describe('the voltage limit in clearing', () => {
  it('trades less where the cables cannot carry trades across a transformer, and still trades under each', () => {
    const scenario = weakSuburb()
    const free = runStudy(scenario, { days: 5, mode: 'p2p' })
    const limited = runStudy(scenario, { days: 5, mode: 'p2p-voltage-limit' })
    const sum = (a: Float64Array) => a.reduce((x, y) => x + y, 0)
    expect(sum(limited.series.tradedWh)).toBeGreaterThan(0)
    expect(sum(limited.series.tradedWh)).toBeLessThan(sum(free.series.tradedWh))
    // Same weather and households either way.
    expect(limited.series.pvWh).toEqual(free.series.pvWh)
  })

  it('says what the mode needs when the scenario has no cables', () => {
    expect(() => runStudy({ ...suburb, grid: { ...suburb.grid, lowVoltage: undefined } }, { days: 1, mode: 'p2p-voltage-limit' })).toThrow(/grid\.lowVoltage/)
  })
})
