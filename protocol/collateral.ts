import { buyerPaysBaseUnits } from './units.ts'

/**
 * What one order holds of its owner's escrow while it can still trade, in base units, as the contract
 * demands it at settlement (EnergySettlement.sol `_moveMoney`): a buy all of it filled at its limit, a
 * sell the imbalance charge of all of it (a seller that delivers nothing pays that), rounded up.
 * @example orderHoldBaseUnits({ side: 1, energyWh: 500, limitPrice: 90_000 }, 400_000) // 200000n
 */
export function orderHoldBaseUnits(order: { side: 0 | 1 | number; energyWh: number; limitPrice: number }, imbalancePrice: number): bigint {
  return buyerPaysBaseUnits(BigInt(order.energyWh), BigInt(order.side === 0 ? order.limitPrice : imbalancePrice))
}

/**
 * What an owner's escrow has left for new orders: what it holds less what its open business (this
 * interval's orders and awarded but unsettled trades) could still take; never below zero.
 */
export function freeBaseUnits(escrowBaseUnits: bigint, openExposureBaseUnits: bigint): bigint {
  return escrowBaseUnits > openExposureBaseUnits ? escrowBaseUnits - openExposureBaseUnits : 0n
}

/** Whether a new order can be accepted: its hold must fit in what the escrow has free. */
export function coversOrder(escrowBaseUnits: bigint, openExposureBaseUnits: bigint, newHoldBaseUnits: bigint): boolean {
  return newHoldBaseUnits <= freeBaseUnits(escrowBaseUnits, openExposureBaseUnits)
}
