import { CloudProcess } from './models/clouds.ts'
import { dayTypeOf, seasonalDayOfYear, standardLoadW, summerWeight } from './models/household-load.ts'
import { BATTERY_FLOOR_SHARE, batteryEnergyWh, loadPowerW, loadScaleOf, pvPowerW, socAfterWh } from './models/household.ts'
import { mulberry32 } from './random.ts'
import { cloudyPlaneIrradiance, sunPosition } from './solar.ts'
import { annualStandardKwh } from './study-calendar.ts'

/** One household's equipment and habits. */
export interface HomeSpec {
  id: string
  pvKwp: number
  batteryWh: number
  batteryMaxW: number
  /** Round-trip efficiency, applied on charge. */
  batteryEfficiency: number
  baseLoadW: number
  seed: number
}

export interface HomeReading {
  pvW: number
  loadW: number
  /** Positive = discharging into the home. */
  batteryW: number
  /** Positive = import from the grid. */
  gridW: number
  socPct: number
}

/** Lifetime counters kept as fractional Wh and exposed as whole Wh by the device. */
export interface HomeCounters {
  pvWh: number
  importWh: number
  exportWh: number
}

/** Where and when the live neighbourhood's simulated clock runs. */
export interface HomeSite {
  latDeg: number
  lonDeg: number
  /** Local date of the first simulated day, YYYY-MM-DD. */
  startDate: string
  /** Local time − UTC, hours (2 for Berlin in summer). */
  utcOffsetHours: number
  /** Seeds the sky, which every home of the street shares. */
  skySeed: number
}

/**
 * Berlin at midsummer: the demo's sun is high and its days are long, and sky seed 3 starts the demo
 * with clear days (then the weather does what the cloud process says).
 */
export const DEFAULT_SITE: HomeSite = { latDeg: 52.52, lonDeg: 13.4, startDate: '2026-06-21', utcOffsetHours: 2, skySeed: 3 }

/** Roofs of the live homes: 30° facing south. */
const TILT_DEG = 30
const AZIMUTH_DEG = 180
const HOURS_PER_YEAR = 8760

/** What one step of a home is given: the sky on its modules, the standard profile's power now, a random draw. */
export interface HomeInputs {
  planeIrradianceWm2: number
  /** The standard load profile's power for 1,000 kWh/yr at this moment, W. */
  profileW: number
  /** Uniform in [0, 1): the household's own variation (models/household.ts). */
  noiseU: number
}

// The profile's kWh in the site's year, once per site: homes are scaled by it, as in the study.
const standardKwhBySite = new Map<string, number>()
function standardKwhOf(site: HomeSite): number {
  const key = `${site.startDate}/${site.latDeg}`
  let kwh = standardKwhBySite.get(key)
  if (kwh === undefined) standardKwhBySite.set(key, (kwh = annualStandardKwh(site.startDate, 15, site.latDeg)))
  return kwh
}

/**
 * One live household, on the one household model `vpp simulate` runs too (models/household.ts): PV
 * from the sun's position for the site and simulated moment, clear-sky irradiance on a south-facing
 * roof under the street's cloud process (advanced every 15 simulated minutes, one sky for every home),
 * household load on the BDEW H0 profile scaled to the home's base load (its mean, i.e. its kWh a year)
 * with the model's noise, and a battery in self-consumption mode (or following a setpoint when one is
 * given). Deterministic for its seeds.
 */
export class HomeModel {
  private readonly random: () => number
  private readonly sky: CloudProcess
  private clearness = 0.5
  private skySeconds = Number.POSITIVE_INFINITY
  private day = 0
  private lastSecondsOfDay = -1
  private socWh: number
  private readonly loadScale: number
  readonly counters: HomeCounters = { pvWh: 0, importWh: 0, exportWh: 0 }
  last: HomeReading

  constructor(readonly spec: HomeSpec, private readonly site: HomeSite = DEFAULT_SITE) {
    this.random = mulberry32(spec.seed)
    const start = new Date(`${site.startDate}T00:00:00Z`)
    this.sky = new CloudProcess(site.skySeed, site.latDeg, Math.floor((start.getTime() - Date.UTC(start.getUTCFullYear(), 0, 1)) / 86_400_000))
    this.socWh = spec.batteryWh * 0.5
    this.loadScale = loadScaleOf((spec.baseLoadW * HOURS_PER_YEAR) / 1000, standardKwhOf(site))
    this.last = { pvW: 0, loadW: spec.baseLoadW, batteryW: 0, gridW: spec.baseLoadW, socPct: spec.batteryWh ? 50 : 0 }
  }

  /**
   * Advances the home by `dtSeconds` ending at `secondsOfDay` (local time); a time of day earlier than
   * the last one starts the next day. `batterySetpointW` overrides self-consumption (positive =
   * discharge), within the battery's limits; `reserves` bound self-consumption's state of charge
   * (the battery model 802's SoCRsvMin and SocRsvMax).
   */
  step(secondsOfDay: number, dtSeconds: number, batterySetpointW?: number, reserves?: { minPct: number; maxPct: number }): HomeReading {
    const newDay = secondsOfDay < this.lastSecondsOfDay
    if (newDay) this.day++
    const firstStep = this.lastSecondsOfDay < 0
    this.lastSecondsOfDay = secondsOfDay
    const localMidnightUtcMs = Date.parse(`${this.site.startDate}T00:00:00Z`) + this.day * 86_400_000 - this.site.utcOffsetHours * 3_600_000
    const at = new Date(localMidnightUtcMs + secondsOfDay * 1000)
    const local = new Date(at.getTime() + this.site.utcOffsetHours * 3_600_000)
    const dayOfYear = Math.floor((local.getTime() - Date.UTC(local.getUTCFullYear(), 0, 1)) / 86_400_000)
    if (firstStep || newDay) this.sky.startDay(this.day)
    this.skySeconds += dtSeconds
    if (this.skySeconds >= 900) {
      this.clearness = this.sky.next()
      this.skySeconds = 0
    }

    const sun = sunPosition(at, this.site.latDeg, this.site.lonDeg)
    const planeIrradianceWm2 = cloudyPlaneIrradiance(sun, this.clearness, TILT_DEG, AZIMUTH_DEG)
    const weekday = local.getUTCDay()
    const profileW = standardLoadW(dayTypeOf(weekday), secondsOfDay / 3600, summerWeight(dayOfYear, this.site.latDeg), seasonalDayOfYear(dayOfYear, this.site.latDeg))
    return this.advance({ planeIrradianceWm2, profileW, noiseU: this.random() }, dtSeconds, batterySetpointW, reserves)
  }

  /**
   * One step of `dtSeconds` from given inputs (what `step` computes from the clock, the sky and the
   * profile): power in whole W, as the devices report it, and the lifetime counters.
   */
  advance(inputs: HomeInputs, dtSeconds: number, batterySetpointW?: number, reserves?: { minPct: number; maxPct: number }): HomeReading {
    const pvW = Math.round(pvPowerW(this.spec.pvKwp, inputs.planeIrradianceWm2))
    const loadW = Math.round(loadPowerW(this.loadScale, inputs.profileW, inputs.noiseU))
    const batteryW = this.batteryPower(pvW, loadW, dtSeconds, batterySetpointW, reserves)
    const gridW = loadW - pvW - batteryW
    const hours = dtSeconds / 3600
    this.counters.pvWh += pvW * hours
    if (gridW > 0) this.counters.importWh += gridW * hours
    else this.counters.exportWh += -gridW * hours
    this.last = { pvW, loadW, batteryW, gridW, socPct: this.spec.batteryWh ? (this.socWh / this.spec.batteryWh) * 100 : 0 }
    return this.last
  }

  private batteryPower(pvW: number, loadW: number, dtSeconds: number, setpointW?: number, reserves?: { minPct: number; maxPct: number }): number {
    const { batteryWh, batteryMaxW, batteryEfficiency } = this.spec
    if (batteryWh <= 0) return 0
    const hours = dtSeconds / 3600
    const wanted = clamp(setpointW ?? loadW - pvW, -batteryMaxW, batteryMaxW)
    // A setpoint may use all but the floor; the battery's own mode stays within the reserves as well.
    const own = setpointW === undefined && reserves
    const floorWh = batteryWh * Math.max(BATTERY_FLOOR_SHARE, own ? reserves.minPct / 100 : 0)
    const ceilingWh = batteryWh * (own ? Math.min(1, reserves.maxPct / 100) : 1)
    const w = Math.round(batteryEnergyWh(wanted * hours, this.socWh, batteryMaxW * hours, floorWh, ceilingWh, batteryEfficiency) / hours)
    this.socWh = clamp(socAfterWh(this.socWh, w * hours, batteryEfficiency), 0, batteryWh)
    return w
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v))
}

/**
 * The demo neighbourhood: most homes have PV, some a battery, the rest only consume, so at midday there
 * are both sellers and buyers.
 */
const PV_PATTERN = [true, false, true, false, true, true, false, true, false, true]

export function demoHomes(count: number, seed = 42): HomeSpec[] {
  const random = mulberry32(seed)
  return Array.from({ length: count }, (_, i) => {
    // Six in ten homes have PV, interleaved with consumers so even a small street has buyers and sellers.
    const hasPv = PV_PATTERN[i % 10]!
    const hasBattery = i % 10 === 1 || i % 10 === 4 || i % 10 === 8
    return {
      id: `home-${String(i + 1).padStart(2, '0')}`,
      pvKwp: hasPv ? Math.round((3 + random() * 5) * 10) / 10 : 0,
      batteryWh: hasBattery ? 5000 + Math.round(random() * 5) * 1000 : 0,
      batteryMaxW: hasBattery ? 2500 : 0,
      batteryEfficiency: 0.92,
      // Homes without PV here run a heat pump or a home office through the day.
      baseLoadW: hasPv ? 250 + Math.round(random() * 400) : 900 + Math.round(random() * 1200),
      seed: seed * 1000 + i,
    }
  })
}
