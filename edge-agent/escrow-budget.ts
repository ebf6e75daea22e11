import { orderHoldBaseUnits } from '../protocol/collateral.ts'
import { WH_PER_KWH } from '../protocol/units.ts'
import type { PlannedOrder } from './strategy.ts'

export interface EscrowFit {
  /** The orders the escrow covers, in the planned order, the last one cut down to what is left. */
  orders: PlannedOrder[]
  /** True when the plan was cut: the escrow could not cover all of it. */
  short: boolean
  /** What the whole plan would hold, and what the orders kept hold, in base units. */
  plannedHoldBaseUnits: bigint
  keptHoldBaseUnits: bigint
}

/**
 * Cuts an interval's planned orders to what the escrow has free, so the market accepts every order
 * sent rather than refusing them one by one. Each order holds what protocol/collateral.ts says the
 * contract demands (a buy its energy at its limit, a sell its energy at the imbalance price). Orders
 * are kept in the strategy's order, its most likely to trade first; the first that does not fit is cut
 * to the most energy that does, and dropped when that is under `minOrderWh`. Pure.
 * @example fitOrdersToEscrow([{ side: 0, energyWh: 10, limitPrice: 250_000 }], 1_000n, 400_000, 1).orders // [{ side: 0, energyWh: 4, limitPrice: 250000 }]
 */
export function fitOrdersToEscrow(planned: readonly PlannedOrder[], freeBaseUnits: bigint, imbalancePrice: number, minOrderWh: number): EscrowFit {
  const holdOf = (o: PlannedOrder) => orderHoldBaseUnits(o, imbalancePrice)
  const plannedHoldBaseUnits = planned.reduce((sum, o) => sum + holdOf(o), 0n)
  const orders: PlannedOrder[] = []
  let left = freeBaseUnits
  for (const order of planned) {
    const hold = holdOf(order)
    if (hold <= left) {
      orders.push(order)
      left -= hold
      continue
    }
    // The hold is energy × price / 1000 rounded up, so this much energy holds at most `left` (the
    // price is not zero: the order did not fit).
    const energyWh = Number((left * WH_PER_KWH) / BigInt(order.side === 0 ? order.limitPrice : imbalancePrice))
    if (energyWh >= Math.max(1, minOrderWh)) {
      const cut = { ...order, energyWh }
      orders.push(cut)
      left -= holdOf(cut)
    }
    break
  }
  return { orders, short: orders.length < planned.length || orders.some((o, i) => o.energyWh < planned[i]!.energyWh), plannedHoldBaseUnits, keptHoldBaseUnits: freeBaseUnits - left }
}
