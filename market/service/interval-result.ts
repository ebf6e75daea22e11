import type { Address, Hex } from 'viem'
import type { HierarchicalResult } from '../engine/hierarchical-clearing.ts'
import type { Award, IntervalResult } from '../../protocol/messages.ts'
import type { Book } from '../../protocol/api.ts'
import { fillsOf } from './settlement-batch.ts'

/** What the interval result needs of each order of the book. */
export interface ResultOrder {
  hash: Hex
  owner: Address
  agentId: string
  side: 0 | 1
  energyWh: number
  limitPrice: number
}

/**
 * The published result of one cleared interval, from its book and the engine's outcome: the trades at
 * the buyer's price, the volume-weighted clearing price (rounded down; exact integer arithmetic, since
 * energy × price summed over a large interval passes 2^53), the best bid and ask, what was bid and
 * offered, and every grid line's flows. Settlement starts `pending`, or `nothing` with no trade. Pure,
 * and linear in the book: a book of a million orders is one pass, never a spread into Math.max.
 */
export function intervalResult(community: string, interval: number, orders: readonly ResultOrder[], outcome: HierarchicalResult): IntervalResult {
  const trades = outcome.trades.map((t) => ({
    interval,
    buyer: t.buyer,
    seller: t.seller,
    buyOrder: t.buyOrder,
    sellOrder: t.sellOrder,
    energyWh: t.energyWh,
    price: t.buyerPrice,
    sellerPrice: t.sellerPrice,
    node: t.node,
  }))
  let bestBid: number | null = null
  let bestAsk: number | null = null
  let demandWh = 0
  let supplyWh = 0
  for (const o of orders) {
    if (o.side === 0) {
      demandWh += o.energyWh
      if (bestBid === null || o.limitPrice > bestBid) bestBid = o.limitPrice
    } else {
      supplyWh += o.energyWh
      if (bestAsk === null || o.limitPrice < bestAsk) bestAsk = o.limitPrice
    }
  }
  let paid = 0n
  for (const t of trades) paid += BigInt(t.energyWh) * BigInt(t.price)
  return {
    community,
    interval,
    clearingPrice: outcome.volumeWh > 0 ? Number(paid / BigInt(outcome.volumeWh)) : null,
    volumeWh: outcome.volumeWh,
    bestBid,
    bestAsk,
    orders: orders.length,
    trades,
    nodes: outcome.nodes,
    congested: outcome.links.filter((l) => l.congested).map((l) => l.node),
    demandWh,
    supplyWh,
    links: outcome.links.map((l) => ({ node: l.node, capacityWh: l.capacityWh, upWh: l.upWh, downWh: l.downWh })),
    settlement: { status: trades.length ? 'pending' : 'nothing', tx: null, error: null },
  }
}

/**
 * Each agent's award for the interval: every one of its orders with what it filled and, per order, the
 * volume-weighted mean of its own fill prices (rounded down), and its net energy (sold − bought).
 * Pure; linear in orders plus fills.
 */
export function intervalAwards(result: IntervalResult, orders: readonly ResultOrder[]): Map<string, Award> {
  const filled = new Map<string, { wh: number; paid: bigint }>()
  for (const f of fillsOf(result, orders)) {
    const sum = filled.get(f.hash) ?? { wh: 0, paid: 0n }
    sum.wh += f.filledWh
    sum.paid += BigInt(f.filledWh) * BigInt(f.price)
    filled.set(f.hash, sum)
  }
  const awards = new Map<string, Award>()
  for (const o of orders) {
    let award = awards.get(o.agentId)
    if (!award) awards.set(o.agentId, (award = { interval: result.interval, fills: [], netWh: 0 }))
    const f = filled.get(o.hash)
    const filledWh = f?.wh ?? 0
    award.fills.push({ orderHash: o.hash, side: o.side, energyWh: o.energyWh, filledWh, price: f && filledWh ? Number(f.paid / BigInt(filledWh)) : null })
    award.netWh += o.side === 1 ? filledWh : -filledWh
  }
  return awards
}

/**
 * Most trades an interval result carries when broadcast (MQTT, socket.io). A trade is under 400 bytes
 * of JSON, so a result stays under the broker's default packet limit (256 KiB), which the broker
 * enforces by closing the sender's connection. The full list is on `GET /api/trades?interval=`.
 */
export const BROADCAST_MAX_TRADES = 500

/** The result as broadcast: whole, or without its trades (and how many there were) when it has too many. */
export function broadcastResult(result: IntervalResult): IntervalResult {
  return result.trades.length <= BROADCAST_MAX_TRADES ? result : { ...result, trades: [], tradesOmitted: result.trades.length }
}

/**
 * An interval's book as published, anonymised: side, energy and limit of every order once the
 * interval has cleared; while `sealed` (before its gate closes), only how many bids and asks it holds.
 */
export function publicBook(interval: number, orders: readonly { side: 0 | 1; energyWh: number; limitPrice: number }[], sealed: boolean): Book {
  const bids = orders.filter((o) => o.side === 0).length
  return { interval, sealed, bids, asks: orders.length - bids, orders: sealed ? [] : orders.map((o) => ({ side: o.side, energyWh: o.energyWh, limitPrice: o.limitPrice })) }
}
