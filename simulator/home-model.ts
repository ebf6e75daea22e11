import { mulberry32 } from './random.ts'

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

/**
 * A simple, deterministic household: a clear-sky PV bell between 06:00 and 20:00 under a random-walk
 * cloud factor, a base load with morning and evening peaks, and a battery in self-consumption mode
 * (or following a setpoint when one is given). Pure apart from its own seeded random stream.
 */
export class HomeModel {
  private readonly random: () => number
  private cloud = 1
  private socWh: number
  readonly counters: HomeCounters = { pvWh: 0, importWh: 0, exportWh: 0 }
  last: HomeReading

  constructor(readonly spec: HomeSpec) {
    this.random = mulberry32(spec.seed)
    this.socWh = spec.batteryWh * 0.5
    this.last = { pvW: 0, loadW: spec.baseLoadW, batteryW: 0, gridW: spec.baseLoadW, socPct: spec.batteryWh ? 50 : 0 }
  }

  /**
   * Advances the home by `dtSeconds` ending at `secondsOfDay` (local solar time).
   * `batterySetpointW` overrides self-consumption (positive = discharge), within the battery's limits.
   */
  step(secondsOfDay: number, dtSeconds: number, batterySetpointW?: number): HomeReading {
    const hour = (secondsOfDay / 3600) % 24
    this.cloud = clamp(this.cloud + (this.random() - 0.5) * 0.08, 0.35, 1)
    const x = (hour - 13) / 7
    const clearSky = Math.abs(x) < 1 ? Math.cos((x * Math.PI) / 2) ** 2 : 0
    const pvW = Math.round(this.spec.pvKwp * 1000 * 0.85 * clearSky * this.cloud)

    const morning = bump(hour, 7.5, 1) * 900
    const evening = bump(hour, 19.5, 1.8) * 1500
    const loadW = Math.round(this.spec.baseLoadW + morning + evening + this.random() * 250)

    const batteryW = this.batteryPower(pvW, loadW, dtSeconds, batterySetpointW)
    const gridW = loadW - pvW - batteryW
    const hours = dtSeconds / 3600
    this.counters.pvWh += pvW * hours
    if (gridW > 0) this.counters.importWh += gridW * hours
    else this.counters.exportWh += -gridW * hours
    this.last = { pvW, loadW, batteryW, gridW, socPct: this.spec.batteryWh ? (this.socWh / this.spec.batteryWh) * 100 : 0 }
    return this.last
  }

  private batteryPower(pvW: number, loadW: number, dtSeconds: number, setpointW?: number): number {
    const { batteryWh, batteryMaxW, batteryEfficiency } = this.spec
    if (batteryWh <= 0) return 0
    const hours = dtSeconds / 3600
    const wanted = clamp(setpointW ?? loadW - pvW, -batteryMaxW, batteryMaxW)
    const reserveWh = batteryWh * 0.05
    let w: number
    if (wanted >= 0) w = Math.min(wanted, Math.max(0, (this.socWh - reserveWh) / hours))
    else w = -Math.min(-wanted, Math.max(0, (batteryWh - this.socWh) / (hours * batteryEfficiency)))
    w = Math.round(w)
    this.socWh -= w >= 0 ? w * hours : w * hours * batteryEfficiency
    this.socWh = clamp(this.socWh, 0, batteryWh)
    return w
  }
}

function bump(hour: number, centre: number, width: number): number {
  return Math.exp(-(((hour - centre) / width) ** 2))
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
