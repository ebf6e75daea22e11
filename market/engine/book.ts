import type { Address, Hex } from 'viem'

/** An accepted order as the engine sees it: already validated, integers only. */
export interface BookOrder {
  hash: Hex
  owner: Address
  side: 0 | 1
  energyWh: number
  limitPrice: number
  /** Acceptance sequence number: earlier acceptance wins a price tie. */
  seq: number
}

export interface EngineTrade {
  buyOrder: Hex
  sellOrder: Hex
  buyer: Address
  seller: Address
  energyWh: number
  price: number
}

export interface OrderFill {
  hash: Hex
  owner: Address
  side: 0 | 1
  filledWh: number
  price: number
}

export interface ClearingResult {
  clearingPrice: number | null
  volumeWh: number
  bestBid: number | null
  bestAsk: number | null
  trades: EngineTrade[]
  /** One entry per order with a non-zero fill, in book order. */
  fills: OrderFill[]
}

/** Bids: highest price first; then earlier acceptance; then order hash (docs/architecture.md tie-break). */
export function compareBids(a: BookOrder, b: BookOrder): number {
  return b.limitPrice - a.limitPrice || a.seq - b.seq || (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0)
}

/** Asks: lowest price first; then earlier acceptance; then order hash. */
export function compareAsks(a: BookOrder, b: BookOrder): number {
  return a.limitPrice - b.limitPrice || a.seq - b.seq || (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0)
}
