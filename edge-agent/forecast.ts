/**
 * The home's energy over a coming interval, forecast from recent telemetry and the time of day, PV and
 * load apart. Pure: times, samples and the learned profile are passed in.
 */

/** Relative clear-sky PV at an hour of local solar time: a bell from 06:00 to 20:00 peaking at 13:00. */
export function clearSkyShape(hourOfDay: number): number {
  const x = (hourOfDay - 13) / 7
  return Math.abs(x) < 1 ? Math.cos((x * Math.PI) / 2) ** 2 : 0
}

/**
 * A household's usual load by hour of day, learned from its own telemetry: an exponentially weighted
 * mean per hour, so the evening peak is expected before it arrives.
 */
export class LoadProfile {
  private readonly meanW: (number | null)[] = Array(24).fill(null)

  constructor(private readonly weight = 0.02) {}

  observe(hourOfDay: number, loadW: number): void {
    const h = Math.floor(hourOfDay) % 24
    const prev = this.meanW[h]
    this.meanW[h] = prev === null || prev === undefined ? loadW : prev + this.weight * (loadW - prev)
  }

  at(hourOfDay: number): number | null {
    return this.meanW[Math.floor(hourOfDay) % 24] ?? null
  }
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
  const nowShape = clearSkyShape(input.nowHour)
  // Where the shape says night or dawn the ratio is unstable, and solar measured then means the clock
  // or the day is not the textbook one (a simulated day, an odd site): the measured solar is kept.
  const ratio = nowShape > 0.05 ? Math.min(3, clearSkyShape(middle) / nowShape) : 1
  const pvWh = Math.max(0, input.recentPvW * ratio * hours)
  const usual = input.profile?.at(middle)
  const loadW = usual === null || usual === undefined ? input.recentLoadW : (usual + input.recentLoadW) / 2
  const loadWh = Math.max(0, loadW * hours)
  const deficitWh = Math.max(0, loadWh - pvWh)
  let batteryWh = 0
  if (input.battery && deficitWh > 0) {
    const b = input.battery
    const aboveFloorWh = Math.max(0, ((b.socPct - b.floorPct) / 100) * b.capacityWh)
    batteryWh = Math.min(deficitWh, b.maxW * hours, aboveFloorWh)
  }
  return { pvWh: Math.round(pvWh), loadWh: Math.round(loadWh), batteryWh: Math.round(batteryWh), netWh: Math.round(pvWh - loadWh + batteryWh) }
}
