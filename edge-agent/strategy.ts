import { z } from 'zod'
import { Side } from '../protocol/order.ts'

export const strategyParamsSchema = z
  .object({
    /** What the utility pays for export, base units per kWh: the least worth selling for. */
    feedInPrice: z.number().int().nonnegative(),
    /** What the utility charges for import, base units per kWh: the most worth paying. */
    retailPrice: z.number().int().positive(),
    /** How many limit orders make up the step curve. */
    steps: z.number().int().min(1).max(10).default(2),
    /** Orders smaller than this are not worth a signature. */
    minOrderWh: z.number().int().min(1).default(1),
  })
  .refine((p) => p.retailPrice > p.feedInPrice, { message: 'retailPrice must be above feedInPrice', path: ['retailPrice'] })
export type StrategyParams = z.infer<typeof strategyParamsSchema>

export interface PlannedOrder {
  side: 0 | 1
  energyWh: number
  limitPrice: number
}

/**
 * The orders for one interval from the home's forecast position (`netWh`: positive = surplus to sell,
 * negative = shortfall to buy): a step curve between the feed-in tariff and the retail tariff, a seller
 * asking more for each further step and a buyer offering less. Any P2P price inside that band beats
 * the utility for both sides. Pure.
 *
 * @example
 * planOrders(525, { feedInPrice: 80000, retailPrice: 300000, steps: 2, minOrderWh: 1 })
 * // [{ side: 1, energyWh: 262, limitPrice: 124000 }, { side: 1, energyWh: 263, limitPrice: 168000 }]
 */
export function planOrders(netWh: number, params: StrategyParams): PlannedOrder[] {
  const totalWh = Math.abs(Math.round(netWh))
  const steps = stepCount(totalWh, params)
  const side = netWh > 0 ? Side.sell : Side.buy
  return Array.from({ length: steps }, (_, k) => ({ side, energyWh: stepEnergyWh(k, steps, totalWh), limitPrice: stepLimitPrice(k, steps, side, params) }))
}

// The step curve's rules on plain numbers, so the study writes 10,000 homes' orders an interval
// straight into typed arrays with the agent's own rules.

/** How many orders `totalWh` (whole, not negative) makes: none below the smallest worth signing. */
export function stepCount(totalWh: number, params: StrategyParams): number {
  if (totalWh < params.minOrderWh) return 0
  return Math.min(params.steps, Math.floor(totalWh / params.minOrderWh))
}

/** Step `k`'s energy of `steps`: equal shares, the last taking what the division leaves. */
export function stepEnergyWh(k: number, steps: number, totalWh: number): number {
  const base = Math.floor(totalWh / steps)
  return k === steps - 1 ? totalWh - base * (steps - 1) : base
}

/** Step `k`'s limit: a seller asks more for each further step, a buyer offers less, inside the tariff band. */
export function stepLimitPrice(k: number, steps: number, side: 0 | 1, params: StrategyParams): number {
  const spread = params.retailPrice - params.feedInPrice
  const fraction = (k + 1) / (steps + 3)
  return side === Side.sell ? params.feedInPrice + Math.round(spread * fraction) : params.retailPrice - Math.round(spread * fraction)
}
