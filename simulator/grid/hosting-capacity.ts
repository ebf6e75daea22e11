import { solveRadialNetwork, PowerFlowWorkspace } from './power-flow.ts'
import type { TransformerNetwork } from './lv-network.ts'

/** The voltage band a network must keep: rise from feed-in above the busbar, and the band around nominal. */
export interface VoltageLimits {
  busbarPu: number
  /** VDE-AR-N 4105: generation may raise the voltage by this much (0.03). */
  maxRisePu: number
  /** EN 50160: 0.9 … 1.1 pu. */
  minPu: number
  maxPu: number
}

/**
 * How much power the network under one transformer can take in (export, from its homes' feed-in)
 * and give out (import, to its homes' load), W, with every home exchanging the same share, before a
 * home's voltage leaves the limits: the largest such power, found by the power flow (doubling, then
 * bisection to 1 W). The study's clearing can take the smaller of the two as the transformer's
 * capacity, so trades across it never ask for more than its cables hold in the voltage band.
 *
 * @example hostingCapacityW(transformerNetwork(100, lv), limits) // { exportW: 182_000, importW: 240_000 }
 */
export function hostingCapacityW(grid: TransformerNetwork, limits: VoltageLimits): { exportW: number; importW: number } {
  const workspace = new PowerFlowWorkspace()
  const load = new Float64Array(grid.network.parent.length)
  /** Whether every home keeps its voltage with `totalW` shared evenly (positive: import, negative: export). */
  const keeps = (totalW: number) => {
    load.fill(0)
    for (const bus of grid.homeBus) load[bus] = totalW / grid.homeBus.length
    const flow = solveRadialNetwork(grid.network, load, null, { slackPu: limits.busbarPu, workspace, tolerancePu: 1e-9, maxIterations: 200 })
    if (!flow.converged) return false
    for (const bus of grid.homeBus) {
      const v = flow.vPu[bus]!
      if (v < limits.minPu || v > limits.maxPu || v - limits.busbarPu > limits.maxRisePu) return false
    }
    return true
  }
  const largest = (sign: 1 | -1) => {
    if (grid.homeBus.length === 0 || !keeps(0)) return 0
    let low = 0
    let high = 1000
    while (keeps(sign * high)) {
      low = high
      high *= 2
      // Beyond 100 MW no low-voltage network is the limit any more.
      if (high > 1e8) return Number.POSITIVE_INFINITY
    }
    while (high - low > 1) {
      const mid = (low + high) / 2
      if (keeps(sign * mid)) low = mid
      else high = mid
    }
    return Math.floor(low)
  }
  return { exportW: largest(-1), importW: largest(1) }
}
