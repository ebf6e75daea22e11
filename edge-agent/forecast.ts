/**
 * The home's energy over a coming interval, forecast from recent telemetry and the time of day, PV and
 * load apart. Pure: times, samples and the learned profile are passed in.
 */

/** Relative clear-sky PV at an hour of local solar time: a bell from 06:00 to 20:00 peaking at 13:00. */
export function clearSkyShape(hourOfDay: number): number {
  const x = (hourOfDay - 13) / 7
  return Math.abs(x) < 1 ? Math.cos((x * Math.PI) / 2) ** 2 : 0
}

/** How much of each new sample the learned profile takes in (an exponentially weighted mean). */
export const PROFILE_WEIGHT = 0.02

/**
 * A household's usual load by hour of day, learned from its own telemetry: an exponentially weighted
 * mean per hour, so the evening peak is expected before it arrives. The table lives in a typed array
 * (NaN = no sample yet for that hour) so the study keeps every home's profile in one array and runs
 * the same two functions over it (`observeUsualLoad`, `usualLoadAt`).
 */
export class LoadProfile {
  private readonly meanW = new Float64Array(24).fill(Number.NaN)

  constructor(private readonly weight = PROFILE_WEIGHT) {}

  observe(hourOfDay: number, loadW: number): void {
    observeUsualLoad(this.meanW, 0, hourOfDay, loadW, this.weight)
  }

  at(hourOfDay: number): number | null {
    const w = usualLoadAt(this.meanW, 0, hourOfDay)
    return Number.isNaN(w) ? null : w
  }
}

/** Takes one load sample into the 24-hour profile stored at `table[offset … offset + 23]`. */
export function observeUsualLoad(table: Float64Array, offset: number, hourOfDay: number, loadW: number, weight: number): void {
  const k = offset + (Math.floor(hourOfDay) % 24)
  const prev = table[k]!
  table[k] = Number.isNaN(prev) ? loadW : prev + weight * (loadW - prev)
}

/** The profile's usual load at that hour, W; NaN while that hour has no sample. */
export function usualLoadAt(table: Float64Array, offset: number, hourOfDay: number): number {
  return table[offset + (Math.floor(hourOfDay) % 24)]!
}

export interface BatteryState {
  socPct: number
  capacityWh: number
  maxW: number
  /** Never planned below this state of charge. */
  floorPct: number
}

export interface IntervalForecast {
  pvWh: number
  loadWh: number
  /** What the battery will give (positive) to cover the home's own deficit in the interval. */
  batteryWh: number
  /** What the home can sell (positive) or has to buy (negative) after that. */
  netWh: number
}

/**
 * Forecasts one interval: PV is the recent solar scaled along the clear-sky shape from now to the
 * interval's middle (a cloudy moment stays cloudy, the afternoon still falls), load is the learned
 * profile for that hour blended evenly with the recent load (or the recent load alone while the
 * profile is empty), and a deficit is first covered by the battery within its power and the energy
 * above its floor. What remains is the home's position in the market.
 *
 * @example
 * forecastInterval({ recentPvW: 3000, recentLoadW: 500, nowHour: 12, targetStartHour: 12.25, intervalSeconds: 900 })
 * // { pvWh: ≈750, loadWh: 125, batteryWh: 0, netWh: ≈625 }
 */
export function forecastInterval(input: {
  recentPvW: number
  recentLoadW: number
  nowHour: number
  targetStartHour: number
  intervalSeconds: number
  profile?: LoadProfile
  battery?: BatteryState
}): IntervalForecast {
  const hours = input.intervalSeconds / 3600
  const middle = input.targetStartHour + hours / 2
  const pvWh = forecastPvWh(input.recentPvW, clearSkyRatio(input.nowHour, middle), hours)
  const loadWh = forecastLoadWh(input.recentLoadW, input.profile?.at(middle) ?? Number.NaN, hours)
  const b = input.battery
  const batteryWh = b ? batteryCoverWh(loadWh - pvWh, b.socPct, b.floorPct, b.capacityWh, b.maxW, hours) : 0
  return { pvWh: Math.round(pvWh), loadWh: Math.round(loadWh), batteryWh: Math.round(batteryWh), netWh: Math.round(pvWh - loadWh + batteryWh) }
}

// The three parts of the forecast on plain numbers, so the study runs them for 10,000 homes an
// interval over typed arrays without building an object per home.

/** PV over the interval, Wh (unrounded): the recent solar scaled by the clear-sky shape (`clearSkyRatio`). */
export function forecastPvWh(recentPvW: number, clearSkyRatioToMiddle: number, hours: number): number {
  return Math.max(0, recentPvW * clearSkyRatioToMiddle * hours)
}

/**
 * How much stronger the sun will be at `middleHour` than now, by the clear-sky shape (the same for
 * every home at one moment, so the study works it out once an interval).
 */
export function clearSkyRatio(nowHour: number, middleHour: number): number {
  const nowShape = clearSkyShape(nowHour)
  // Where the shape says night or dawn the ratio is unstable, and solar measured then means the clock
  // or the day is not the textbook one (a simulated day, an odd site): the measured solar is kept.
  return nowShape > 0.05 ? Math.min(3, clearSkyShape(middleHour) / nowShape) : 1
}

/** Load over the interval, Wh (unrounded): the usual load (NaN = not learned yet) blended evenly with the recent. */
export function forecastLoadWh(recentLoadW: number, usualLoadW: number, hours: number): number {
  const loadW = Number.isNaN(usualLoadW) ? recentLoadW : (usualLoadW + recentLoadW) / 2
  return Math.max(0, loadW * hours)
}

/** What the battery will give toward the home's own deficit (`deficitWh`, ≤ 0 = none), Wh: within its power and its energy above the floor. */
export function batteryCoverWh(deficitWh: number, socPct: number, floorPct: number, capacityWh: number, maxW: number, hours: number): number {
  if (deficitWh <= 0) return 0
  const aboveFloorWh = Math.max(0, ((socPct - floorPct) / 100) * capacityWh)
  return Math.min(deficitWh, maxW * hours, aboveFloorWh)
}
