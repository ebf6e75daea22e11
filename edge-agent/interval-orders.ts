import type { Address } from 'viem'
import type { MarketState } from '../protocol/messages.ts'
import type { Order } from '../protocol/order.ts'
import { fitOrdersToEscrow, type EscrowFit } from './escrow-budget.ts'
import { planOrders, type StrategyParams } from './strategy.ts'

/** Nonces are interval × this + order index: unique per owner and growing, as on-chain cancellation (cancelUpTo) needs. */
export const NONCES_PER_INTERVAL = 1000

/**
 * The orders to sign for the open interval, from the home's forecast position (`netWh`: positive =
 * surplus): the strategy's step curve, cut to what the escrow has free when that is known
 * (escrow-budget.ts), each limit kept inside the market's price band, numbered so that every nonce is
 * unique and grows. Pure: what a real agent knows at gate closure in, orders out; the study runs it too.
 * @example planIntervalOrders({ netWh: 525, strategy, market, owner }).orders.length // 2
 */
export function planIntervalOrders(input: {
  netWh: number
  strategy: StrategyParams
  market: MarketState
  owner: Address
  /** What the escrow has free and the imbalance price, when the market could be asked. */
  escrow?: { freeBaseUnits: bigint; imbalancePrice: number }
}): { orders: Order[]; fit: EscrowFit | undefined } {
  const { market, strategy } = input
  const planned = planOrders(input.netWh, strategy)
  const fit = input.escrow && planned.length ? fitOrdersToEscrow(planned, input.escrow.freeBaseUnits, input.escrow.imbalancePrice, strategy.minOrderWh) : undefined
  const orders = (fit?.orders ?? planned).map((p, i) => ({
    owner: input.owner,
    community: market.communityKey,
    interval: market.openInterval,
    side: p.side,
    energyWh: p.energyWh,
    limitPrice: Math.min(market.priceCap, Math.max(market.priceFloor, p.limitPrice)),
    nonce: market.openInterval * NONCES_PER_INTERVAL + i,
  }))
  return { orders, fit }
}
