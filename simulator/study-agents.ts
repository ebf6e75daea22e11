import type { OrderColumns } from '../market/engine/clearing-types.ts'
import { DEFAULT_POLL_SECONDS } from '../edge-agent/agent-config.ts'
import { batteryCoverWh, clearSkyRatio, forecastLoadWh, forecastPvWh, observeUsualLoad, PROFILE_WEIGHT, usualLoadAt } from '../edge-agent/forecast.ts'
import { stepCount, stepEnergyWh, stepLimitPrice, type StrategyParams } from '../edge-agent/strategy.ts'
import { batteryEnergyWh } from './models/household.ts'
import type { HomeState } from './study-homes.ts'

// Every study home's agent at gate closure, over typed arrays: the edge agent's own forecast
// (edge-agent/forecast.ts) and step curve (edge-agent/strategy.ts), fed only with what a real agent
// knows then (docs/parts/simulator.md "Agents in the study").

/** Share of its capacity a battery keeps for its own home when selling to neighbours in the evening. */
const BATTERY_EVENING_RESERVE = 0.5

/** What each home's agent has seen: the last interval's mean PV and load, and its learned load by hour. */
export interface AgentMemory {
  recentPvW: Float64Array
  recentLoadW: Float64Array
  /** 24 hours per home, NaN until that hour is seen (forecast.ts `observeUsualLoad`). */
  usualLoadW: Float64Array
  /** The profile's weight for one interval's mean: the live agent's per-sample weight over the samples of an interval. */
  weight: number
}

export function agentMemory(n: number, intervalMinutes: number): AgentMemory {
  return {
    recentPvW: new Float64Array(n),
    recentLoadW: new Float64Array(n),
    usualLoadW: new Float64Array(24 * n).fill(Number.NaN),
    weight: 1 - (1 - PROFILE_WEIGHT) ** ((intervalMinutes * 60) / DEFAULT_POLL_SECONDS),
  }
}

/** The order book the agents write into, and which home each order is for. */
export interface AgentOrders {
  orders: OrderColumns
  homeOfOrder: Int32Array
}

export function agentOrders(n: number, maxStepsPerHome: number): AgentOrders {
  const slots = (maxStepsPerHome + 1) * n
  return {
    orders: {
      count: 0,
      side: new Uint8Array(slots),
      energyWh: new Float64Array(slots),
      limitPrice: new Float64Array(slots),
      seq: new Float64Array(slots),
      node: new Int32Array(slots),
      // Never read (sequence numbers are unique), but the engine's contract gives every order a hash.
      hash: Array.from({ length: slots }, (_, k) => `o${k}`),
    },
    homeOfOrder: new Int32Array(slots),
  }
}

export interface PlanInputs {
  n: number
  localHour: number
  dtHours: number
  /** Plan from the interval's actual PV and load (the study's "perfect foresight" mode) instead of the forecast. */
  perfectForesight: boolean
  /** Batteries also sell what they hold beyond their home's evening reserve (mode p2p-battery). */
  batterySale: boolean
  batteryAskPrice: number
  strategy: StrategyParams
  /** The agent's battery limits, % of capacity (agent-config.ts defaults). */
  socFloorPct: number
  socCeilingPct: number
  nodeOf: Int32Array
}

/**
 * Each home's orders for the interval about to start: its position from the agent's forecast (or,
 * with perfect foresight, from what its devices will actually do), as the agent's step curve.
 */
export function planAgentOrders(memory: AgentMemory, homes: HomeState, book: AgentOrders, p: PlanInputs): void {
  const { recentPvW, recentLoadW, usualLoadW } = memory
  const { batteryWh, batteryW, socWh, pvWh, loadWh } = homes
  const { orders, homeOfOrder } = book
  const { n, localHour, dtHours, strategy, nodeOf } = p
  const middle = localHour + dtHours / 2
  // The agent's telemetry is the last interval's: its middle is "now" for the clear-sky shape.
  const nowHour = localHour - dtHours / 2
  const evening = localHour >= 17 && localHour < 22
  // The clear-sky ratio is the same for every home at one moment.
  const pvRatio = clearSkyRatio(nowHour, middle)
  orders.count = 0
  for (let h = 0; h < n; h++) {
    const capacity = batteryWh[h]!
    let netWh: number
    let coverWh = 0
    if (p.perfectForesight) {
      const actual = pvWh[h]! - loadWh[h]!
      if (capacity > 0) coverWh = Math.trunc(batteryEnergyWh(-actual, socWh[h]!, batteryW[h]! * dtHours, (capacity * p.socFloorPct) / 100, (capacity * p.socCeilingPct) / 100, homes.batteryEfficiency[h]!))
      netWh = actual + coverWh
    } else {
      const pv = forecastPvWh(recentPvW[h]!, pvRatio, dtHours)
      const load = forecastLoadWh(recentLoadW[h]!, usualLoadAt(usualLoadW, 24 * h, middle), dtHours)
      if (capacity > 0) coverWh = batteryCoverWh(load - pv, (socWh[h]! / capacity) * 100, p.socFloorPct, capacity, batteryW[h]!, dtHours)
      netWh = Math.round(pv - load + coverWh)
    }
    const totalWh = Math.abs(netWh)
    const steps = stepCount(totalWh, strategy)
    const side = netWh > 0 ? 1 : 0
    for (let k = 0; k < steps; k++) addOrder(orders, homeOfOrder, h, side, stepEnergyWh(k, steps, totalWh), stepLimitPrice(k, steps, side, strategy), nodeOf[h]!)
    if (p.batterySale && evening && capacity > 0 && netWh >= 0) {
      // What the battery could still give beyond its home's own use and evening reserve, for the neighbours.
      const offerWh = Math.floor(Math.min(batteryW[h]! * dtHours - Math.max(0, coverWh), socWh[h]! - Math.max(0, coverWh) - Math.ceil(capacity * BATTERY_EVENING_RESERVE)))
      if (offerWh >= strategy.minOrderWh) addOrder(orders, homeOfOrder, h, 1, offerWh, p.batteryAskPrice, nodeOf[h]!)
    }
  }
}

/** What each agent saw of the interval that just ended: its recent telemetry and its learned profile. */
export function observeInterval(memory: AgentMemory, homes: HomeState, n: number, localHour: number, dtHours: number): void {
  const { recentPvW, recentLoadW, usualLoadW, weight } = memory
  const middle = localHour + dtHours / 2
  for (let h = 0; h < n; h++) {
    recentPvW[h] = homes.pvWh[h]! / dtHours
    recentLoadW[h] = homes.loadWh[h]! / dtHours
    observeUsualLoad(usualLoadW, 24 * h, middle, recentLoadW[h]!, weight)
  }
}

function addOrder(orders: OrderColumns, homeOf: Int32Array, home: number, side: 0 | 1, energyWh: number, limitPrice: number, node: number): void {
  const k = orders.count++
  orders.side[k] = side
  orders.energyWh[k] = energyWh
  orders.limitPrice[k] = limitPrice
  // Acceptance order within the interval: homes in turn as they come, so ties never reach the hash.
  orders.seq[k] = k
  orders.node[k] = node
  homeOf[k] = home
}

