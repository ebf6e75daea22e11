import type { OrderColumns } from '../market/engine/columnar-clearing.ts'
import { BATTERY_FLOOR_SHARE, batteryEnergyWh, loadPowerW, pvPowerW, socAfterWh } from './models/household.ts'

// Every study home's own devices for one interval, over typed arrays: the simulator's hot loop, on
// the one household model the live homes run too (models/household.ts), in whole Wh.

/** Share of its capacity a battery keeps for its own home when selling to neighbours in the evening. */
const BATTERY_EVENING_RESERVE = 0.5
const EV_CHARGER_W = 7400

/** One interval of every home's own devices: PV, load, EV, heat pump, its battery first; surplus and deficit become orders. */
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
  socWh: Float64Array
  batteryOffer: Float64Array
  surplus: Float64Array
  deficit: Float64Array
  homePvWh: Float64Array
  homeLoadWh: Float64Array
  askPrice: Float64Array
  bidPrice: Float64Array
  nodeOf: Int32Array
  orders: OrderColumns
  orderNames: readonly string[]
  homeOfOrder: Int32Array
  isBatteryOrder: Uint8Array
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

export interface IntervalInputs {
  n: number
  localHour: number
  dtHours: number
  heatPumpDayShare: number
  heatPumpShape: number
  record: boolean
  trading: boolean
  batteryStrategy: boolean
  batteryAskPrice: number
  noise: () => number
  poa: Float64Array
  profileAtShift: Float64Array
}

// A function of its own, with its arrays in locals: the simulator's hottest loop (350 million turns a year).
export function stepHomes(state: HomeState, p: IntervalInputs): { pvWh: number; loadWh: number } {
  const { orientationOf, kWp, loadScale, shiftQuarter, heatPumpKwh, evLeftWh, evArrivalHour, batteryWh, batteryW, batteryEfficiency, socWh, batteryOffer, surplus, deficit, homePvWh, homeLoadWh, askPrice, bidPrice, nodeOf, orders, orderNames, homeOfOrder, isBatteryOrder, measuredLoadWh, measuredLoadHomes, measuredPvWh, measuredPvHomes } = state
  const { n, localHour, dtHours, heatPumpDayShare, heatPumpShape, record, trading, noise, poa, profileAtShift } = p
  let pvTotal = 0
  let loadTotal = 0
  orders.count = 0
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
    // The home's own battery first (self-consumption): charge from surplus, cover deficit.
    let net = pvWh - loadWh
    if (batteryWh[h]! > 0) {
      // The shared model in whole Wh: its energy truncated toward zero, the charge stored rounded down.
      const capacity = batteryWh[h]!
      const charging = net > 0
      const energy = Math.trunc(batteryEnergyWh(-net, socWh[h]!, batteryW[h]! * dtHours, capacity * BATTERY_FLOOR_SHARE, capacity, batteryEfficiency[h]!))
      socWh[h] = Math.floor(socAfterWh(socWh[h]!, energy, batteryEfficiency[h]!))
      net += energy
      if (charging) batteryOffer[h] = 0
      else {
        // Evening: what the battery could still give beyond its home's own reserve, for the neighbours.
        const evening = localHour >= 17 && localHour < 22
        const reserve = Math.ceil(capacity * BATTERY_EVENING_RESERVE)
        batteryOffer[h] = p.batteryStrategy && evening && net === 0 ? Math.max(0, Math.min(Math.floor(batteryW[h]! * dtHours) - energy, socWh[h]! - reserve)) : 0
      }
    }
    surplus[h] = net > 0 ? net : 0
    deficit[h] = net < 0 ? -net : 0
    pvTotal += pvWh
    loadTotal += loadWh
    if (record) {
      homePvWh[h]! += pvWh
      homeLoadWh[h]! += loadWh
    }
    if (trading && net !== 0) addOrder(orders, orderNames, homeOfOrder, isBatteryOrder, h, net > 0 ? 1 : 0, Math.abs(net), net > 0 ? askPrice[h]! : bidPrice[h]!, nodeOf[h]!, 0)
    if (trading && batteryOffer[h]! > 0) addOrder(orders, orderNames, homeOfOrder, isBatteryOrder, h, 1, batteryOffer[h]!, p.batteryAskPrice, nodeOf[h]!, 1)
  }

  return { pvWh: pvTotal, loadWh: loadTotal }
}

function addOrder(orders: OrderColumns, orderNames: readonly string[], homeOf: Int32Array, isBattery: Uint8Array, home: number, side: 0 | 1, energyWh: number, limitPrice: number, node: number, battery: 0 | 1): void {
  const k = orders.count++
  orders.side[k] = side
  orders.energyWh[k] = energyWh
  orders.limitPrice[k] = limitPrice
  // Acceptance order within the interval: homes in turn, batteries after them; unique, so ties never reach the hash.
  orders.seq[k] = battery * homeOf.length + home
  orders.node[k] = node
  homeOf[k] = home
  isBattery[k] = battery
  // Never read (sequence numbers are unique), but the engine's contract gives every order a hash.
  ;(orders.hash as string[])[k] = orderNames[(battery * homeOf.length) / 2 + home]!
}
