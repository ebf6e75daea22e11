import { expect, it } from 'vitest'
import { HomeModel, type HomeSite, type HomeSpec } from '../../simulator/home-model.ts'
import { loadScaleOf } from '../../simulator/models/household.ts'
import { mulberry32 } from '../../simulator/random.ts'
import { annualStandardKwh } from '../../simulator/study-calendar.ts'
import { stepHomes, type HomeState } from '../../simulator/study-homes.ts'

// The live homes of `npm start` (HomeModel, watts every few seconds) and the study's homes (stepHomes,
// whole Wh per interval over typed arrays) are one household model: the same inputs give the same energy.

const SITE: HomeSite = { latDeg: 52.52, lonDeg: 13.4, startDate: '2026-06-21', utcOffsetHours: 2, skySeed: 3 }
const SPEC: HomeSpec = { id: 'h1', pvKwp: 6, batteryWh: 8000, batteryMaxW: 3000, batteryEfficiency: 0.9, baseLoadW: 450, seed: 11 }
const QUARTER_HOURS = 0.25

/** One study home with the spec's equipment, as study.ts lays it out (no EV, no heat pump, not measured). */
function studyHome(spec: HomeSpec): HomeState {
  const one = (v: number) => Float64Array.of(v)
  return {
    orientationOf: Int32Array.of(0), kWp: one(spec.pvKwp), loadScale: one(loadScaleOf((spec.baseLoadW * 8760) / 1000, annualStandardKwh(SITE.startDate, 15, SITE.latDeg))),
    shiftQuarter: Int32Array.of(0), heatPumpKwh: one(0), evLeftWh: one(0), evArrivalHour: one(24),
    batteryWh: one(spec.batteryWh), batteryW: one(spec.batteryMaxW), batteryEfficiency: one(spec.batteryEfficiency), socWh: one(spec.batteryWh * 0.5), baselineSocWh: one(spec.batteryWh * 0.5),
    pvWh: one(0), loadWh: one(0), measuredLoadWh: one(0), measuredLoadHomes: 0, measuredPvWh: one(0), measuredPvHomes: 0,
  }
}

it('gives the same PV, load and battery energy live and in the study for the same sky, profile and draws', () => {
  const draw = mulberry32(2026)
  const live = new HomeModel(SPEC, SITE)
  const study = studyHome(SPEC)
  const poa = new Float64Array(1)
  const profileAtShift = new Float64Array(7)
  let batteryLimited = 0
  const socSeen: number[] = []
  for (let q = 0; q < 96; q++) {
    // Dark, then bright, then dark again: the battery runs down to its floor, fills to the top, and runs down.
    const bright = q >= 40 && q < 80
    const inputs = { planeIrradianceWm2: draw() * (bright ? 1000 : 40), profileW: 40 + draw() * 300, noiseU: draw() }
    poa[0] = inputs.planeIrradianceWm2
    profileAtShift[3] = inputs.profileW
    const reading = live.advance(inputs, QUARTER_HOURS * 3600)
    const socBefore = study.baselineSocWh[0]!
    socSeen.push(socBefore)
    // The study's home with no award: its battery in self-consumption, as the live home's without a setpoint.
    const records = { pvWh: Float64Array.of(0), loadWh: Float64Array.of(0), baselineImportWh: Float64Array.of(0), baselineExportWh: Float64Array.of(0) }
    stepHomes(study, records, { n: 1, localHour: 12, dtHours: QUARTER_HOURS, heatPumpDayShare: 0, heatPumpShape: 0, record: true, noise: () => inputs.noiseU, poa, profileAtShift })
    const studyPvWh = records.pvWh[0]!
    const studyLoadWh = records.loadWh[0]!
    const studyGridWh = records.baselineImportWh[0]! - records.baselineExportWh[0]!
    const studyBatteryWh = studyLoadWh - studyPvWh - studyGridWh

    // Live reports whole W for the quarter hour, the study whole Wh: they agree to the rounding of each.
    expect(Math.abs(reading.pvW * QUARTER_HOURS - studyPvWh), `PV, interval ${q}`).toBeLessThanOrEqual(0.5 + QUARTER_HOURS / 2)
    expect(Math.abs(reading.loadW * QUARTER_HOURS - studyLoadWh), `load, interval ${q}`).toBeLessThanOrEqual(0.5 + QUARTER_HOURS / 2)
    // The battery: the same energy while it is within its limits; at a limit, the two charges (kept in
    // whole Wh by the study) may differ by the rounding they have gathered, at most 1 Wh an interval.
    const stepWh = (SPEC.batteryMaxW * QUARTER_HOURS) / SPEC.batteryEfficiency
    const atLimit = socBefore <= SPEC.batteryWh * 0.05 + stepWh || socBefore >= SPEC.batteryWh - stepWh
    const tolerance = atLimit ? q + 2 : 2
    if (atLimit) batteryLimited++
    expect(Math.abs(reading.batteryW * QUARTER_HOURS - studyBatteryWh), `battery, interval ${q}`).toBeLessThanOrEqual(tolerance)
    expect(Math.abs(reading.socPct - (study.baselineSocWh[0]! / SPEC.batteryWh) * 100), `charge, interval ${q}`).toBeLessThanOrEqual(((q + 1) / SPEC.batteryWh) * 100 + 0.5)
  }
  // The day took the battery to both of its limits and kept it clear of them in between.
  expect(batteryLimited).toBeGreaterThan(20)
  expect(batteryLimited).toBeLessThan(96)
  expect(Math.min(...socSeen)).toBeLessThan(SPEC.batteryWh * 0.05 + 1)
  expect(Math.max(...socSeen)).toBeGreaterThan(SPEC.batteryWh - 2)
})

it('makes the planning figures worked by hand', () => {
  const live = new HomeModel({ ...SPEC, batteryWh: 0, batteryMaxW: 0 }, SITE)
  // 6 kWp under 800 W/m² at a performance ratio of 0.85: 4,080 W.
  expect(live.advance({ planeIrradianceWm2: 800, profileW: 0, noiseU: 0.5 }, 900).pvW).toBe(4080)
  // A 450 W mean home is 3,942 kWh a year; the profile's own year (its kWh over a year from the site's start date) is roughly 1,000 kWh, and the
  // middle draw (0.55 + 0.9 × 0.5 = 1) leaves the profile as it is: 114 W × 3,942 / that year.
  const standard = annualStandardKwh(SITE.startDate, 15, SITE.latDeg)
  expect(standard).toBeGreaterThan(850)
  expect(standard).toBeLessThan(1050)
  expect(live.advance({ planeIrradianceWm2: 0, profileW: 114, noiseU: 0.5 }, 900).loadW).toBe(Math.round((114 * 3942) / standard))
  // The lowest draw takes 55 % of it, the highest 145 %.
  expect(live.advance({ planeIrradianceWm2: 0, profileW: 1000, noiseU: 0 }, 900).loadW).toBe(Math.round((1000 * 3942 * 0.55) / standard))
})
