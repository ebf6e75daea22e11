import type { Address, Hex } from 'viem'
import { clearPayAsClear, type BookOrder } from '../../market/engine/reference/clearing.ts'
import { compareAsks, compareBids } from '../../market/engine/book.ts'
import { mulberry32 } from '../../simulator/random.ts'
import { medianMs, type Benchmark } from '../bench-result.ts'

const ORDERS = 10_000

function book(count: number, seed: number): BookOrder[] {
  const random = mulberry32(seed)
  return Array.from({ length: count }, (_, i) => ({
    hash: `0x${i.toString(16).padStart(64, '0')}` as Hex,
    owner: `0x${(i % 5000).toString(16).padStart(40, '0')}` as Address,
    side: random() < 0.5 ? 0 : 1,
    energyWh: 1 + Math.floor(random() * 2000),
    limitPrice: 50_000 + Math.floor(random() * 300_000),
    seq: i,
  }))
}

/**
 * Uniform-price clearing of 10,000 orders. Baseline: sorting the same book by price and time, which
 * any call auction must do, so the ratio shows what matching adds on top.
 */
export const clearingBenchmark: Benchmark = {
  name: 'clearing',
  description: 'pay-as-clear clearing of 10,000 orders vs. sorting the same book',
  async run() {
    const orders = book(ORDERS, 7)
    const clearMs = medianMs(() => clearPayAsClear(orders))
    const sortMs = medianMs(() => {
      orders.filter((o) => o.side === 0).sort(compareBids)
      orders.filter((o) => o.side === 1).sort(compareAsks)
    })
    return {
      name: 'clearing',
      metrics: { clear_10k_orders_ms: clearMs, orders_per_s: Math.round(ORDERS / (clearMs / 1000)) },
      baseline: { name: 'sort-only', clear_10k_orders_ms: sortMs, orders_per_s: Math.round(ORDERS / (sortMs / 1000)) },
    }
  },
}
