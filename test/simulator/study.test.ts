import { describe, expect, it } from 'vitest'
import { fileURLToPath } from 'node:url'
import { loadScenario, scenarioHomes, type Scenario } from '../../simulator/scenario.ts'
import { runStudy } from '../../simulator/study.ts'
import type { StudyRun } from '../../simulator/study-run.ts'
import { homeSavings, studyKpis } from '../../simulator/study-kpis.ts'
import { CloudProcess } from '../../simulator/models/clouds.ts'
import { seasonalDayOfYear, standardLoadW, summerWeight } from '../../simulator/models/household-load.ts'

const shipped = (name: string) => loadScenario(fileURLToPath(new URL(`../../simulator/scenarios/${name}.yaml`, import.meta.url)))
const sum = (a: ArrayLike<number>) => Array.from(a).reduce((x, y) => x + y, 0)
const hourOf = (run: StudyRun, t: number) => (t % (1440 / run.intervalMinutes)) * (run.intervalMinutes / 60)

describe('weather and load models', () => {
  it('gives more clear sky in summer than in winter, always between overcast and clear, the same for a seed', () => {
    const sky = new CloudProcess(3, 52.5, 0)
    const mean = (days: number[]) => {
      let total = 0
      for (const d of days) {
        sky.startDay(d)
        for (let q = 0; q < 96; q++) {
          const k = sky.next()
          expect(k).toBeGreaterThanOrEqual(0.05)
          expect(k).toBeLessThanOrEqual(0.85)
          total += k
        }
      }
      return total / (days.length * 96)
    }
    const summer = mean(Array.from({ length: 200 }, (_, i) => 140 + (i % 60)))
    const winter = mean(Array.from({ length: 200 }, (_, i) => i % 40))
    expect(summer).toBeGreaterThan(winter + 0.05)
    const again = new CloudProcess(3, 52.5)
    const once = new CloudProcess(3, 52.5)
    again.startDay(10)
    once.startDay(10)
    expect(Array.from({ length: 20 }, () => again.next())).toEqual(Array.from({ length: 20 }, () => once.next()))
  })

  it('shapes household load with an evening peak, higher in winter than in summer, in either hemisphere', () => {
    expect(standardLoadW('weekday', 19, 0, 15)).toBeGreaterThan(standardLoadW('weekday', 4, 0, 15) * 3)
    expect(standardLoadW('weekday', 19, 0, 15)).toBeGreaterThan(standardLoadW('weekday', 19, 1, 200))
    // A January evening: winter in Berlin, summer in Sydney (shape and dynamisation both).
    const january = (lat: number) => standardLoadW('weekday', 19, summerWeight(15, lat), seasonalDayOfYear(15, lat))
    expect(january(52.5)).toBeGreaterThan(january(-33.9) * 1.2)
    expect(seasonalDayOfYear(15, 52.5)).toBe(15)
    expect(seasonalDayOfYear(15, -33.9)).toBe(197)
  })
})

describe('runStudy', () => {
  const street = shipped('street-10')
  const noBatteries: Scenario = { ...street, homes: { ...street.homes, battery: { ...street.homes.battery, share: 0 } } }

  it('gives the same run for the same scenario', () => {
    expect(runStudy(street, { days: 3, mode: 'p2p' })).toEqual(runStudy(street, { days: 3, mode: 'p2p' }))
  })

  it('scales each home to its yearly consumption, north and south of the equator', () => {
    const sydney: Scenario = { ...noBatteries, location: { lat: -33.87, lon: 151.21, timeZone: 'Australia/Sydney' } }
    for (const scenario of [noBatteries, sydney]) {
      const run = runStudy(scenario, { days: 365, mode: 'no-trading' })
      const homes = scenarioHomes(scenario)
      // Within half a percent: what is left is the per-interval noise, not the seasons.
      homes.forEach((h, i) => expect(run.homes.loadWh[i]! / 1000 / h.annualLoadKwh).toBeCloseTo(1, 2))
    }
  })

  it('conserves energy in every interval: what the homes lack or spare goes to neighbours or the grid, in whole Wh', () => {
    const run = runStudy(noBatteries, { days: 10, mode: 'p2p' })
    for (let t = 0; t < run.intervalStartMs.length; t++) {
      const s = run.series
      expect(Number.isInteger(s.pvWh[t]) && Number.isInteger(s.tradedWh[t]) && Number.isInteger(s.tradedPaid[t])).toBe(true)
      expect(s.pvWh[t]! - s.loadWh[t]!).toBe(s.gridExportWh[t]! - s.gridImportWh[t]!)
    }
    expect(sum(run.homes.boughtWh)).toBe(sum(run.homes.soldWh))
    expect(sum(run.series.tradedWh)).toBe(sum(run.homes.boughtWh))
  })

  it('trades only while the sun gives someone a surplus, never above retail or below the feed-in tariff', () => {
    const run = runStudy(noBatteries, { days: 14, mode: 'p2p' })
    const { retailPerKwh, feedInPerKwh } = street.tariffs
    let daytime = 0
    for (let t = 0; t < run.intervalStartMs.length; t++) {
      if (run.series.pvWh[t] === 0) expect(run.series.tradedWh[t]).toBe(0)
      if (run.series.tradedWh[t]! > 0) {
        daytime++
        const price = (run.series.tradedPaid[t]! * 1000) / run.series.tradedWh[t]!
        expect(price).toBeLessThanOrEqual(retailPerKwh)
        expect(price).toBeGreaterThan(feedInPerKwh - 1)
      }
    }
    expect(daytime).toBeGreaterThan(14 * 8)
    run.homes.ids.forEach((_, i) => expect(run.homes.paid[i]!).toBeLessThanOrEqual((run.homes.boughtWh[i]! * retailPerKwh) / 1000))
  })

  it('with the same weather and load, trading raises self-sufficiency and saves money without changing transformer flows', () => {
    const base = runStudy(street, { days: 14, mode: 'no-trading' })
    const p2p = runStudy(street, { days: 14, mode: 'p2p' })
    expect(p2p.series.pvWh).toEqual(base.series.pvWh)
    expect(p2p.series.loadWh).toEqual(base.series.loadWh)
    const [k0, k1] = [studyKpis(base), studyKpis(p2p)]
    expect(k1.selfSufficiency).toBeGreaterThan(k0.selfSufficiency)
    expect(k1.selfConsumption).toBeGreaterThan(k0.selfConsumption)
    expect(k1.savingsBaseUnits).toBeGreaterThan(0)
    expect(k0.savingsBaseUnits).toBe(0)
    // Money moves, electrons do not: the same physical peaks.
    expect(p2p.transformers.peakImportW).toEqual(base.transformers.peakImportW)
    // The no-trading counterfactual derived from the P2P run is the no-trading run itself: home by home,
    // what it bought from neighbours it would have imported, what it sold it would have exported...
    p2p.homes.ids.forEach((id, i) => {
      expect(p2p.homes.importWh[i]! + p2p.homes.boughtWh[i]!, id).toBe(base.homes.importWh[i])
      expect(p2p.homes.exportWh[i]! + p2p.homes.soldWh[i]!, id).toBe(base.homes.exportWh[i])
    })
    // ...and each home's saving is its no-trading bill less its P2P bill, worked here from the runs' meters and payments.
    const { retailPerKwh, feedInPerKwh } = street.tariffs
    // A bill rounds as every payment does: what the home pays up, what it is paid down.
    const bill = (run: StudyRun, i: number) =>
      Math.ceil((run.homes.importWh[i]! * retailPerKwh) / 1000) - Math.floor((run.homes.exportWh[i]! * feedInPerKwh) / 1000) + run.homes.paid[i]! - run.homes.received[i]!
    expect(Array.from(homeSavings(p2p))).toEqual(p2p.homes.ids.map((_, i) => bill(base, i) - bill(p2p, i)))
    expect(k1.netCostBaseUnits + k1.savingsBaseUnits).toBe(k0.netCostBaseUnits)
  })

  it('lets batteries sell to neighbours in the evening under the battery strategy, lowering evening imports', () => {
    // June: batteries fill up by day and have energy to spare in the evening.
    const june: Scenario = { ...street, start: '2026-06-01' }
    const base = runStudy(june, { days: 21, mode: 'no-trading' })
    const p2p = runStudy(june, { days: 21, mode: 'p2p' })
    const battery = runStudy(june, { days: 21, mode: 'p2p-battery' })
    const evening = (run: StudyRun, series: Float64Array) => sum(Array.from(series).filter((_, t) => hourOf(run, t) >= 17 && hourOf(run, t) < 22))
    expect(evening(battery, battery.series.tradedWh)).toBeGreaterThan(evening(p2p, p2p.series.tradedWh))
    expect(evening(battery, battery.series.gridImportWh)).toBeLessThan(evening(p2p, p2p.series.gridImportWh))
    expect(() => studyKpis(battery)).toThrow(/baseline/)
    expect(studyKpis(battery, base).savingsBaseUnits).toBeGreaterThan(studyKpis(p2p).savingsBaseUnits)
  })
})

describe('runStudyOnThreads', () => {
  it('gives the same study as one thread, bit for bit, however the chunks fall on the threads', async () => {
    const { runStudyOnThreads } = await import('../../simulator/study-threads.ts')
    const scenario: Scenario = { ...shipped('street-10'), start: '2026-06-01' }
    const options = { days: 7, mode: 'p2p-battery' as const, chunkDays: 2 }
    const single = runStudy(scenario, options)
    let days = 0
    const threaded = await runStudyOnThreads(scenario, { ...options, threads: 2, onDay: (d) => (days = d) })
    expect(days).toBe(7)
    expect(threaded).toEqual(single)
    expect(Array.from(single.series.tradedWh).some((wh) => wh > 0)).toBe(true)
  })
})
