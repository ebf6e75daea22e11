import { BATTERY_FLOOR_SHARE, batteryEnergyWh, loadPowerW, pvPowerW, socAfterWh } from './models/household.ts'

// Every study home's own devices for one interval, over typed arrays: the simulator's hot loop, on
// the one household model the live homes run too (models/household.ts), in whole Wh.

const EV_CHARGER_W = 7400

/** Every home's equipment and this interval's PV and load, Wh; the battery's charge and its no-trading twin. */
export interface HomeState {
  orientationOf: Int32Array
  kWp: Float64Array
  loadScale: Float64Array
  shiftQuarter: Int32Array
  heatPumpKwh: Float64Array
  evLeftWh: Float64Array
  evArrivalHour: Float64Array
  batteryWh: Float64Array
  batteryW: Float64Array
  batteryEfficiency: Float64Array
  /** The battery's charge, Wh, as the run's trading leaves it. */
  socWh: Float64Array
  /**
   * The same battery in the same weather had the home never traded (self-consumption only): the
   * baseline every mode's savings are measured against, kept in the same run.
   */
  baselineSocWh: Float64Array
  /** This interval's PV and load, Wh. */
  pvWh: Float64Array
  loadWh: Float64Array
  /**
   * Measured load and PV of this interval, Wh, for the first `measuredLoadHomes` / `measuredPvHomes`
   * homes (from the operator's CSV files, study-measured.ts); the rest are modelled. A measured load
   * is the household's whole consumption, EV and heat pump included.
   */
  measuredLoadWh: Float64Array
  measuredLoadHomes: number
  measuredPvWh: Float64Array
  measuredPvHomes: number
}

/** The run's records this step adds to (per home, whole Wh). */
export interface HomeRecords {
  pvWh: Float64Array
  loadWh: Float64Array
  baselineImportWh: Float64Array
  baselineExportWh: Float64Array
}

export interface IntervalInputs {
  n: number
  localHour: number
  dtHours: number
  heatPumpDayShare: number
  heatPumpShape: number
  record: boolean
  noise: () => number
  poa: Float64Array
  profileAtShift: Float64Array
}

// A function of its own, with its arrays in locals: the simulator's hottest loop (350 million turns a year).
/** Every home's PV and load for the interval, and its no-trading twin's battery and meter. */
export function stepHomes(state: HomeState, records: HomeRecords, p: IntervalInputs): { pvWh: number; loadWh: number } {
  const { orientationOf, kWp, loadScale, shiftQuarter, heatPumpKwh, evLeftWh, evArrivalHour, batteryWh, baselineSocWh, pvWh: pvNow, loadWh: loadNow, measuredLoadWh, measuredLoadHomes, measuredPvWh, measuredPvHomes } = state
  const { n, localHour, dtHours, heatPumpDayShare, heatPumpShape, record, noise, poa, profileAtShift } = p
  let pvTotal = 0
  let loadTotal = 0
  for (let h = 0; h < n; h++) {
    const pvWh = h < measuredPvHomes ? Math.round(measuredPvWh[h]!) : orientationOf[h]! >= 0 ? Math.round(pvPowerW(kWp[h]!, poa[orientationOf[h]!]!) * dtHours) : 0
    // The noise is drawn for measured homes too, so every modelled home gets the same draws either way.
    let loadWh = Math.round(loadPowerW(loadScale[h]!, profileAtShift[shiftQuarter[h]! + 3]!, noise()) * dtHours)
    if (h < measuredLoadHomes) loadWh = Math.round(measuredLoadWh[h]!)
    else {
      if (heatPumpKwh[h]! > 0) loadWh += Math.round(((heatPumpKwh[h]! * 1000 * heatPumpDayShare) / 24) * heatPumpShape * dtHours)
      if (evLeftWh[h]! > 0 && localHour + dtHours > evArrivalHour[h]!) {
        const evWh = Math.min(evLeftWh[h]!, Math.round(EV_CHARGER_W * dtHours))
        evLeftWh[h]! -= evWh
        loadWh += evWh
      }
    }
    pvNow[h] = pvWh
    loadNow[h] = loadWh
    pvTotal += pvWh
    loadTotal += loadWh
    if (record) {
      records.pvWh[h]! += pvWh
      records.loadWh[h]! += loadWh
    }
    const net = pvWh - loadWh + (batteryWh[h]! > 0 ? selfConsumptionWh(state, baselineSocWh, h, pvWh - loadWh, dtHours) : 0)
    if (record) {
      if (net > 0) records.baselineExportWh[h]! += net
      else records.baselineImportWh[h]! -= net
    }
  }
  return { pvWh: pvTotal, loadWh: loadTotal }
}

/**
 * The battery in its own self-consumption mode for one interval, in whole Wh: it charges from the
 * home's surplus (`netWh` > 0) and covers its deficit, within its power, its floor and its room. Moves
 * `soc[h]` and returns what it gave (positive) or took (negative). The run's battery when no award
 * steers it and the no-trading twin both step here, so a home that never trades is its own baseline.
 */
export function selfConsumptionWh(state: HomeState, soc: Float64Array, h: number, netWh: number, dtHours: number): number {
  const capacity = state.batteryWh[h]!
  return batteryWholeWh(state, soc, h, -netWh, capacity * BATTERY_FLOOR_SHARE, capacity, dtHours)
}

/**
 * The battery toward `wantedWh` (positive: give) for one interval between `floorWh` and
 * `ceilingWh` of charge: the shared model in whole Wh, its energy truncated toward zero and
 * the charge stored rounded down. Moves `soc[h]`; returns what it gave (positive) or took.
 */
export function batteryWholeWh(state: HomeState, soc: Float64Array, h: number, wantedWh: number, floorWh: number, ceilingWh: number, dtHours: number): number {
  const efficiency = state.batteryEfficiency[h]!
  const energy = Math.trunc(batteryEnergyWh(wantedWh, soc[h]!, state.batteryW[h]! * dtHours, floorWh, ceilingWh, efficiency))
  soc[h] = Math.floor(socAfterWh(soc[h]!, energy, efficiency))
  return energy
}
