import { compareAsks, compareBids, type BookOrder, type ClearingResult, type EngineTrade, type OrderFill } from '../book.ts'

export type { BookOrder, ClearingResult, EngineTrade, OrderFill } from '../book.ts'

/**
 * Clears one interval as a uniform-price (pay-as-clear) double auction. Pure and deterministic:
 * the same orders in any input order give the same result.
 *
 * Bids (highest first) are matched against asks (lowest first) while the bid is at least the ask,
 * which trades the welfare-maximising volume. The price is the midpoint of the marginal matched bid
 * and ask, rounded down, so every matched buyer pays at most its limit and every matched seller
 * receives at least its limit. At the margin the earlier-accepted order is filled first.
 *
 * @example
 * const result = clearPayAsClear(orders)
 * result.clearingPrice // 150000 (base units per kWh)
 */
export function clearPayAsClear(orders: readonly BookOrder[]): ClearingResult {
  const bids = orders.filter((o) => o.side === 0).sort(compareBids)
  const asks = orders.filter((o) => o.side === 1).sort(compareAsks)
  const bestBid = bids[0]?.limitPrice ?? null
  const bestAsk = asks[0]?.limitPrice ?? null

  const pairs: Omit<EngineTrade, 'price'>[] = []
  let marginalBid = 0
  let marginalAsk = 0
  let i = 0
  let j = 0
  let bidLeft = bids[0]?.energyWh ?? 0
  let askLeft = asks[0]?.energyWh ?? 0
  while (i < bids.length && j < asks.length && bids[i]!.limitPrice >= asks[j]!.limitPrice) {
    const bid = bids[i]!
    const ask = asks[j]!
    const energyWh = Math.min(bidLeft, askLeft)
    pairs.push({ buyOrder: bid.hash, sellOrder: ask.hash, buyer: bid.owner, seller: ask.owner, energyWh })
    marginalBid = bid.limitPrice
    marginalAsk = ask.limitPrice
    bidLeft -= energyWh
    askLeft -= energyWh
    if (bidLeft === 0) bidLeft = bids[++i]?.energyWh ?? 0
    if (askLeft === 0) askLeft = asks[++j]?.energyWh ?? 0
  }

  if (pairs.length === 0) return { clearingPrice: null, volumeWh: 0, bestBid, bestAsk, trades: [], fills: [] }

  const price = Math.floor((marginalBid + marginalAsk) / 2)
  const trades = pairs.map((p) => ({ ...p, price }))
  const filled = new Map<string, number>()
  for (const t of trades) {
    filled.set(t.buyOrder, (filled.get(t.buyOrder) ?? 0) + t.energyWh)
    filled.set(t.sellOrder, (filled.get(t.sellOrder) ?? 0) + t.energyWh)
  }
  const fills: OrderFill[] = [...bids, ...asks]
    .filter((o) => filled.has(o.hash))
    .map((o) => ({ hash: o.hash, owner: o.owner, side: o.side, filledWh: filled.get(o.hash)!, price }))
  const volumeWh = trades.reduce((sum, t) => sum + t.energyWh, 0)
  return { clearingPrice: price, volumeWh, bestBid, bestAsk, trades, fills }
}
