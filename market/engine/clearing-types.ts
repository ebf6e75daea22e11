/** The shapes the clearing engines share (TypeScript and C), apart from both so neither imports the other. */

export type PricingRule = 'pay-as-clear' | 'pay-as-bid'

export interface ClearingParams {
  intervalSeconds: number
  pricing: PricingRule
}

/** One interval's book as columns: order k is `side[k]`, `energyWh[k]`, … Integers only. */
export interface OrderColumns {
  count: number
  /** 0 = buy, 1 = sell. */
  side: Uint8Array
  energyWh: Float64Array
  limitPrice: Float64Array
  /** Acceptance sequence: the earlier order wins a price tie. */
  seq: Float64Array
  /** Node number (CompiledTopology) the order's home is connected to. */
  node: Int32Array
  /** Only read to break a tie on price and sequence. */
  hash: ArrayLike<string>
}

/** The clearing result as columns; trade t is `tradeBuy[t]` (order number) buying from `tradeSell[t]`. */
export interface ColumnarResult {
  tradeCount: number
  tradeBuy: Int32Array
  tradeSell: Int32Array
  /** Node where the trade cleared: the lowest common node of buyer and seller. */
  tradeNode: Int32Array
  tradeEnergyWh: Float64Array
  /** What the buyer pays per kWh; the seller receives this minus the node's fee. */
  tradeBuyerPrice: Float64Array
  /** Per node: pay-as-clear buyer price where something cleared, else NaN. */
  nodeBuyerPrice: Float64Array
  nodeVolumeWh: Float64Array
  /** Per node, for the link to its parent: capacity this interval (Infinity = unconstrained), flows, congestion. */
  linkCapacityWh: Float64Array
  linkUpWh: Float64Array
  linkDownWh: Float64Array
  linkCongested: Uint8Array
  volumeWh: number
}
