import { describe, expect, it } from 'vitest'
import { fileURLToPath } from 'node:url'
import { loadScenario, scenarioHomes, scenarioSchema, type Scenario } from '../../simulator/scenario.ts'
import { runStudy } from '../../simulator/study.ts'
import { studyKpis } from '../../simulator/study-kpis.ts'
import { homePhases } from '../../simulator/study-grid.ts'
import { lowVoltageSchema, type LowVoltage } from '../../simulator/grid/lv-network.ts'

const street = loadScenario(fileURLToPath(new URL('../../simulator/scenarios/street-10.yaml', import.meta.url)))
/** The street in June, its ten homes all with PV, on the given cables. */
const june = (lowVoltage: Partial<LowVoltage>): Scenario => ({
  ...street,
  start: '2026-06-10',
  homes: { ...street.homes, pv: { ...street.homes.pv, share: 1 } },
  grid: { ...street.grid, lowVoltage: lowVoltageSchema.parse(lowVoltage) },
})

describe('the study with a low-voltage power flow', () => {
  it('conserves energy every interval: what the transformer delivers is the homes’ net plus the cable losses', () => {
    const run = runStudy(june({}), { days: 3, mode: 'p2p' })
    const lv = run.lowVoltage!
    expect(lv.notConverged).toBe(0)
    for (let t = 0; t < run.series.loadWh.length; t++) {
      const homesNet = run.series.gridImportWh[t]! - run.series.gridExportWh[t]!
      expect(Math.abs(lv.series.deliveredWh[t]! - (homesNet + lv.series.lossesWh[t]!)), `interval ${t}`).toBeLessThan(1e-6 * (1 + Math.abs(homesNet)))
      expect(lv.series.lossesWh[t]).toBeGreaterThanOrEqual(0)
    }
    expect(lv.series.lossesWh.reduce((a, b) => a + b, 0)).toBeGreaterThan(0)
  })

  it('sees the voltage rise where PV feeds in at noon and sag in the evening peak', () => {
    const run = runStudy(june({}), { days: 3, mode: 'no-trading' })
    const lv = run.lowVoltage!
    const perDay = 1440 / run.intervalMinutes
    const at = (hour: number) => Array.from({ length: 3 }, (_, d) => d * perDay + (hour * 60) / run.intervalMinutes)
    for (const t of at(13)) expect(lv.series.maxPu[t]!, `interval ${t}`).toBeGreaterThan(1)
    for (const t of at(20)) expect(lv.series.minPu[t]!, `interval ${t}`).toBeLessThan(1)
    expect(Math.max(...lv.homes.maxRisePu)).toBeGreaterThan(0)
  })

  it('moves no electrons by trading alone: without batteries to steer, voltages are the same with and without the market', () => {
    const noBatteries = (s: Scenario): Scenario => ({ ...s, homes: { ...s.homes, battery: { ...s.homes.battery, share: 0 } } })
    const noTrading = runStudy(noBatteries(june({})), { days: 2, mode: 'no-trading' })
    const p2p = runStudy(noBatteries(june({})), { days: 2, mode: 'p2p' })
    expect(p2p.series.tradedWh.some((wh) => wh > 0)).toBe(true)
    expect(Array.from(p2p.lowVoltage!.series.minPu)).toEqual(Array.from(noTrading.lowVoltage!.series.minPu))
    expect(Array.from(p2p.lowVoltage!.homes.maxPu)).toEqual(Array.from(noTrading.lowVoltage!.homes.maxPu))
  })

  it('finds the limits a weak, long feeder breaks and a strong one keeps', () => {
    const strongRun = runStudy(june({ lines: 4, mainCable: 'NAYY 4x240', homeSpacingM: 20 }), { days: 3, mode: 'no-trading' })
    const weakRun = runStudy(june({ lines: 1, mainCable: 'NAYY 4x50', serviceCable: 'NYY 4x16', homeSpacingM: 120, serviceLengthM: 40 }), { days: 3, mode: 'no-trading' })
    const strong = strongRun.lowVoltage!
    const weak = weakRun.lowVoltage!
    expect(Math.max(...strong.homes.maxRisePu)).toBeLessThan(0.03)
    expect(Math.max(...weak.homes.maxRisePu)).toBeGreaterThan(0.03)
    expect(weak.homes.intervalsRiseOver3Pct.reduce((a, b) => a + b, 0)).toBeGreaterThan(0)
    expect(strong.homes.intervalsRiseOver3Pct.reduce((a, b) => a + b, 0)).toBe(0)
    expect(weak.series.lossesWh.reduce((a, b) => a + b, 0)).toBeGreaterThan(strong.series.lossesWh.reduce((a, b) => a + b, 0))
    // The report's figures say the same: hours and homes above the limit on the weak feeder only.
    const weakKpis = studyKpis(weakRun).lowVoltage!
    const strongKpis = studyKpis(strongRun).lowVoltage!
    expect(weakKpis.hoursRiseOver3Pct).toBeGreaterThan(0)
    expect(weakKpis.homesRiseOver3Pct).toBeGreaterThan(0)
    expect(weakKpis.homesRiseOver3Pct).toBeLessThanOrEqual(10)
    expect(strongKpis.hoursRiseOver3Pct).toBe(0)
    expect(strongKpis.homesRiseOver3Pct).toBe(0)
    expect(weakKpis.maxRisePct).toBeGreaterThan(3)
    expect(weakKpis.lossesShare).toBeGreaterThan(strongKpis.lossesShare)
  })

  it('names the cable key that is wrong', () => {
    const parsed = lowVoltageSchema.safeParse({ mainCable: 'NAYY 4x999' })
    expect(parsed.success).toBe(false)
    expect(parsed.error!.issues[0]).toMatchObject({ path: ['mainCable'], message: expect.stringMatching(/cable type \(NAYY 4x240, NAYY 4x150/) })
  })

  it('wires a named transformer its own way: its homes see the weak street, the others do not', () => {
    const suburb = loadScenario(fileURLToPath(new URL('../../simulator/scenarios/suburb-200.yaml', import.meta.url)))
    const oldStreet = { lines: 1, mainCable: 'NAYY 4x50', serviceCable: 'NYY 4x16', homeSpacingM: 60, serviceLengthM: 30 }
    const scenario = scenarioSchema.parse({ ...suburb, start: '2026-06-10', grid: { ...suburb.grid, lowVoltage: { ...suburb.grid.lowVoltage, transformers: { 'tx-1-2': oldStreet } } } })
    const even = runStudy({ ...scenario, grid: { ...scenario.grid, lowVoltage: { ...scenario.grid.lowVoltage!, transformers: {} } } }, { days: 2, mode: 'no-trading' })
    const run = runStudy(scenario, { days: 2, mode: 'no-trading' })
    const homes = scenarioHomes(scenario)
    const under = (id: string) => homes.flatMap((h, i) => (h.transformer === id ? [i] : []))
    const worstRise = (r: typeof run, id: string) => Math.max(...under(id).map((i) => r.lowVoltage!.homes.maxRisePu[i]!))
    // The homes on tx-1-1 are wired as before, bit for bit; those on tx-1-2 see a larger rise.
    expect(under('tx-1-1').map((i) => run.lowVoltage!.homes.maxPu[i])).toEqual(under('tx-1-1').map((i) => even.lowVoltage!.homes.maxPu[i]))
    expect(worstRise(run, 'tx-1-2')).toBeGreaterThan(2 * worstRise(even, 'tx-1-2'))
    // A transformer the grid does not have is named.
    const typo = scenarioSchema.safeParse({ ...suburb, grid: { ...suburb.grid, lowVoltage: { ...suburb.grid.lowVoltage, transformers: { 'tx-1-3': oldStreet } } } })
    expect(typo.success).toBe(false)
    expect(typo.error!.issues[0]).toMatchObject({ path: ['grid', 'lowVoltage', 'transformers', 'tx-1-3'], message: expect.stringMatching(/no transformer "tx-1-3".*tx-1-1 … tx-1-2/) })
  })

  it('solves each phase on its own where homes are connected on one phase: energy still balances, the worst rise grows', () => {
    const balanced = runStudy(june({}), { days: 3, mode: 'no-trading' })
    const run = runStudy(june({ singlePhaseShare: 1 }), { days: 3, mode: 'no-trading' })
    const lv = run.lowVoltage!
    expect(lv.notConverged).toBe(0)
    for (let t = 0; t < run.series.loadWh.length; t++) {
      const homesNet = run.series.gridImportWh[t]! - run.series.gridExportWh[t]!
      expect(Math.abs(lv.series.deliveredWh[t]! - (homesNet + lv.series.lossesWh[t]!)), `interval ${t}`).toBeLessThan(1e-6 * (1 + Math.abs(homesNet)))
    }
    // A home's whole export on one phase drives three times the current through that phase's cables.
    expect(Math.max(...lv.homes.maxRisePu)).toBeGreaterThan(1.5 * Math.max(...balanced.lowVoltage!.homes.maxRisePu))
    expect(lv.series.lossesWh.reduce((a, b) => a + b, 0)).toBeGreaterThan(balanced.lowVoltage!.series.lossesWh.reduce((a, b) => a + b, 0))
  })

  it('spreads single-phase homes over L1, L2 and L3 in turn, and leaves the rest three-phase', () => {
    expect(Array.from(homePhases(6, 0, 1))).toEqual([-1, -1, -1, -1, -1, -1])
    expect(Array.from(homePhases(6, 1, 1))).toEqual([0, 1, 2, 0, 1, 2])
    const half = Array.from(homePhases(3000, 0.5, 7))
    const count = (p: number) => half.filter((x) => x === p).length
    expect(count(-1)).toBeGreaterThan(1400)
    expect(count(-1)).toBeLessThan(1600)
    expect(Math.max(count(0), count(1), count(2)) - Math.min(count(0), count(1), count(2))).toBeLessThanOrEqual(1)
  })

  it('connects each home where the scenario says: the default layout written out is the same network, a far home sees more rise', () => {
    const suburb = loadScenario(fileURLToPath(new URL('../../simulator/scenarios/suburb-200.yaml', import.meta.url)))
    const lv = suburb.grid.lowVoltage!
    // tx-1-1's 100 homes as the default puts them: in turn over the lines, 20 m apart.
    const asDefault = Array.from({ length: 100 }, (_, h) => ({ line: (h % lv.lines) + 1, distanceM: (Math.floor(h / lv.lines) + 1) * lv.homeSpacingM }))
    const withHomes = (homes: unknown[]) => scenarioSchema.parse({ ...suburb, start: '2026-06-10', grid: { ...suburb.grid, lowVoltage: { ...lv, transformers: { 'tx-1-1': { homes } } } } })
    const plain = runStudy({ ...suburb, start: '2026-06-10' }, { days: 1, mode: 'no-trading' })
    const written = runStudy(withHomes(asDefault), { days: 1, mode: 'no-trading' })
    expect(Array.from(written.lowVoltage!.homes.maxPu)).toEqual(Array.from(plain.lowVoltage!.homes.maxPu))
    // A home with PV and no battery moved to the end of a line of its own, 600 m out: alone there, its
    // noon export raises its own voltage more than it rose 20 m from the busbar.
    const k = scenarioHomes(suburb).findIndex((h, i) => i < 100 && h.pv && !h.battery)
    const far = runStudy(withHomes(asDefault.map((c, i) => (i === k ? { line: 5, distanceM: 600, serviceLengthM: 20 } : c))), { days: 1, mode: 'no-trading' })
    expect(far.lowVoltage!.homes.maxRisePu[k]!).toBeGreaterThan(plain.lowVoltage!.homes.maxRisePu[k]! + 0.002)
    // A list that does not name every home under the transformer is refused, naming the key.
    const short = scenarioSchema.safeParse({ ...suburb, grid: { ...suburb.grid, lowVoltage: { ...lv, transformers: { 'tx-1-2': { homes: asDefault.slice(0, 10) } } } } })
    expect(short.success).toBe(false)
    expect(short.error!.issues[0]).toMatchObject({ path: ['grid', 'lowVoltage', 'transformers', 'tx-1-2', 'homes'], message: expect.stringMatching(/lists 10 connections, but 100 homes are under tx-1-2/) })
  })
})
