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

  it('conserves energy in every interval: PV, batteries and load against the grid, trades delivered or short, in whole Wh', () => {
    const run = runStudy(street, { days: 10, mode: 'p2p' })
    const s = run.series
    for (let t = 0; t < run.intervalStartMs.length; t++) {
      for (const series of [s.pvWh, s.loadWh, s.batteryWh, s.tradedWh, s.deliveredWh, s.tradedPaid, s.imbalanceCharges]) expect(Number.isInteger(series[t]), `interval ${t}`).toBe(true)
      expect(s.pvWh[t]! + s.batteryWh[t]! - s.loadWh[t]!, `interval ${t}`).toBe(s.gridExportWh[t]! - s.gridImportWh[t]!)
      expect(s.deliveredWh[t]! + s.shortfallWh[t]!, `interval ${t}`).toBe(s.tradedWh[t])
    }
    expect(sum(run.homes.boughtWh)).toBe(sum(run.homes.soldWh))
    expect(sum(run.homes.soldWh)).toBe(sum(s.deliveredWh))
    expect(sum(run.homes.shortfallWh)).toBe(sum(s.shortfallWh))
    expect(sum(s.batteryWh)).not.toBe(0)
  })

  it('trades inside the tariff band, and without batteries delivers only while the sun shines', () => {
    const run = runStudy(noBatteries, { days: 14, mode: 'p2p' })
    const { retailPerKwh, feedInPerKwh } = street.tariffs
    let daytime = 0
    for (let t = 0; t < run.intervalStartMs.length; t++) {
      if (run.series.pvWh[t] === 0) expect(run.series.deliveredWh[t]).toBe(0)
      if (run.series.deliveredWh[t]! > 0) {
        daytime++
        const price = (run.series.tradedPaid[t]! * 1000) / run.series.deliveredWh[t]!
        expect(price).toBeLessThanOrEqual(retailPerKwh + 1000 / run.series.deliveredWh[t]!)
        expect(price).toBeGreaterThan(feedInPerKwh - 1)
      }
    }
    expect(daytime).toBeGreaterThan(14 * 8)
  })

  it('with the same weather and load, trading raises self-sufficiency and saves money; the no-trading twin is the no-trading run', () => {
    const base = runStudy(street, { days: 14, mode: 'no-trading' })
    const p2p = runStudy(street, { days: 14, mode: 'p2p' })
    expect(p2p.series.pvWh).toEqual(base.series.pvWh)
    expect(p2p.series.loadWh).toEqual(base.series.loadWh)
    const [k0, k1] = [studyKpis(base), studyKpis(p2p)]
    expect(k1.selfSufficiency).toBeGreaterThan(k0.selfSufficiency)
    expect(k1.selfConsumption).toBeGreaterThan(k0.selfConsumption)
    expect(k1.savingsBaseUnits).toBeGreaterThan(0)
    expect(k0.savingsBaseUnits).toBe(0)
    // The baseline every saving is measured against, kept inside the P2P run, is what the no-trading run metered, home by home.
    expect(Array.from(p2p.homes.baselineImportWh)).toEqual(Array.from(base.homes.importWh))
    expect(Array.from(p2p.homes.baselineExportWh)).toEqual(Array.from(base.homes.exportWh))
    // Each home's saving is its no-trading bill less its P2P bill, worked here from the runs' meters and payments;
    // a bill rounds as every payment does: what the home pays up, what it is paid down.
    const { retailPerKwh, feedInPerKwh } = street.tariffs
    const bill = (run: StudyRun, i: number) =>
      Math.ceil((run.homes.importWh[i]! * retailPerKwh) / 1000) - Math.floor((run.homes.exportWh[i]! * feedInPerKwh) / 1000) +
      run.homes.paid[i]! - run.homes.received[i]! + run.homes.imbalancePaid[i]! - run.homes.imbalanceReceived[i]!
    expect(Array.from(homeSavings(p2p))).toEqual(p2p.homes.ids.map((_, i) => bill(base, i) - bill(p2p, i)))
    expect(k1.netCostBaseUnits + k1.savingsBaseUnits).toBe(k0.netCostBaseUnits)
  })

  it('trades on forecasts: less delivered and less saved than with perfect foresight, and sellers pay for what they did not deliver', () => {
    for (const scenario of [street, noBatteries]) {
      const june: Scenario = { ...scenario, start: '2026-06-01' }
      const forecast = runStudy(june, { days: 14, mode: 'p2p' })
      const perfect = runStudy(june, { days: 14, mode: 'p2p-perfect' })
      const [kf, kp] = [studyKpis(forecast), studyKpis(perfect)]
      expect(kf.shortfallKwh).toBeGreaterThan(0)
      // One charge per trade at the contract's imbalance price, each rounded down (study-delivery.test.ts works single trades by hand).
      const shortfallWh = sum(forecast.series.shortfallWh)
      expect(kf.imbalanceChargesBaseUnits).toBeLessThanOrEqual(Math.floor((shortfallWh * june.market.imbalancePerKwh) / 1000))
      expect(kf.imbalanceChargesBaseUnits).toBeGreaterThan(Math.floor((shortfallWh * june.market.imbalancePerKwh) / 1000) * 0.99)
      expect(sum(forecast.homes.imbalancePaid)).toBe(sum(forecast.homes.imbalanceReceived))
      expect(kp.shortfallKwh).toBe(0)
      expect(kp.imbalanceChargesBaseUnits).toBe(0)
      expect(kf.deliveredKwh).toBeLessThan(kp.deliveredKwh)
      expect(kf.savingsBaseUnits).toBeLessThan(kp.savingsBaseUnits)
      expect(kf.savingsBaseUnits).toBeGreaterThan(0)
    }
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
    expect(studyKpis(battery).savingsBaseUnits).toBeGreaterThan(studyKpis(p2p).savingsBaseUnits)
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
