import { buyerPaysBaseUnits } from '../../protocol/units.ts'

/**
 * The most a buy order can cost its owner: all of it filled at its limit price, rounded as the
 * contract rounds the buyer (DESIGN.md).
 */
export function maxCostBaseUnits(energyWh: number, limitPrice: number): bigint {
  return buyerPaysBaseUnits(BigInt(energyWh), BigInt(limitPrice))
}

/**
 * Whether a new buy can be accepted: the owner's escrow must cover it at its limit on top of what its
 * other open buys (this interval's orders and awarded but unsettled trades) could still cost.
 */
export function coversBuy(escrowBaseUnits: bigint, openExposureBaseUnits: bigint, newBuyBaseUnits: bigint): boolean {
  return escrowBaseUnits >= openExposureBaseUnits + newBuyBaseUnits
}
