import { z } from 'zod'
import { Side } from '../protocol/order.ts'
import { energyWhFromPower } from '../protocol/units.ts'

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
 * Plans the orders for one interval: forecasts the home's net grid exchange from recent grid power
 * (positive = import) and offers the expected export, or bids for the expected import, as a step
 * curve between the feed-in tariff and the retail tariff. Any P2P price inside that band beats the
 * utility for both sides. Pure.
 *
 * @example
 * planOrders([-2000, -2200], 900, { feedInPrice: 80000, retailPrice: 300000, steps: 2, minOrderWh: 1 })
 * // [{ side: 1, energyWh: 262, limitPrice: 124000 }, { side: 1, energyWh: 263, limitPrice: 168000 }]
 */
export function planOrders(recentGridW: readonly number[], intervalSeconds: number, params: StrategyParams): PlannedOrder[] {
  if (recentGridW.length === 0) return []
  const meanW = recentGridW.reduce((a, b) => a + b, 0) / recentGridW.length
  const totalWh = energyWhFromPower(Math.abs(meanW), intervalSeconds)
  if (totalWh < params.minOrderWh) return []
  const side = meanW < 0 ? Side.sell : Side.buy
  const spread = params.retailPrice - params.feedInPrice
  const steps = Math.min(params.steps, Math.floor(totalWh / params.minOrderWh))
  const base = Math.floor(totalWh / steps)
  return Array.from({ length: steps }, (_, k) => {
    // A seller asks more for each further step, a buyer offers less: a monotone supply/demand curve.
    const fraction = (k + 1) / (steps + 3)
    const limitPrice = side === Side.sell ? params.feedInPrice + Math.round(spread * fraction) : params.retailPrice - Math.round(spread * fraction)
    const energyWh = k === steps - 1 ? totalWh - base * (steps - 1) : base
    return { side, energyWh, limitPrice }
  })
}
