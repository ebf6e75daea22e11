import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Address, Hex } from 'viem'
import { clearPayAsClear, type BookOrder } from '../../market/engine/reference/clearing.ts'

const owner = (n: number) => `0x${n.toString(16).padStart(40, '0')}` as Address
const hash = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as Hex
let nextSeq = 1
const order = (side: 0 | 1, energyWh: number, limitPrice: number, id = nextSeq): BookOrder => ({
  hash: hash(id),
  owner: owner(id),
  side,
  energyWh,
  limitPrice,
  seq: nextSeq++,
})

describe('clearPayAsClear', () => {
  it('matches crossing orders at the midpoint of the marginal bid and ask', () => {
    const result = clearPayAsClear([order(0, 100, 300_000), order(1, 100, 100_000)])
    expect(result.clearingPrice).toBe(200_000)
    expect(result.volumeWh).toBe(100)
    expect(result.trades).toHaveLength(1)
    expect(result.trades[0]).toMatchObject({ energyWh: 100, price: 200_000 })
  })

  it('does not trade when the best bid is below the best ask', () => {
    const result = clearPayAsClear([order(0, 100, 90_000), order(1, 100, 100_000)])
    expect(result).toMatchObject({ clearingPrice: null, volumeWh: 0, bestBid: 90_000, bestAsk: 100_000, trades: [] })
  })

  it('trades the welfare-maximising volume and leaves extra-marginal orders out', () => {
    const result = clearPayAsClear([
      order(0, 50, 300_000),
      order(0, 50, 150_000),
      order(0, 50, 90_000), // below every ask: out
      order(1, 60, 100_000),
      order(1, 60, 140_000),
      order(1, 60, 200_000), // above the second bid: out
    ])
    expect(result.volumeWh).toBe(100)
    // marginal bid 150000, marginal ask 140000
    expect(result.clearingPrice).toBe(145_000)
    expect(result.fills.map((f) => f.filledWh).sort()).toEqual([40, 50, 50, 60])
  })

  it('fills the earlier-accepted order first at a price tie', () => {
    const early = order(1, 50, 100_000)
    const late = order(1, 50, 100_000)
    const result = clearPayAsClear([late, order(0, 60, 200_000), early])
    const byHash = new Map(result.fills.map((f) => [f.hash, f.filledWh]))
    expect(byHash.get(early.hash)).toBe(50)
    expect(byHash.get(late.hash)).toBe(10)
  })
})

const arbitraryBook = fc.array(
  fc.record({ side: fc.constantFrom<0 | 1>(0, 1), energyWh: fc.integer({ min: 1, max: 5000 }), limitPrice: fc.integer({ min: 0, max: 1_000_000 }) }),
  { maxLength: 60 },
).map((rows) => rows.map((r, i): BookOrder => ({ ...r, hash: hash(i + 1), owner: owner(i + 1), seq: i + 1 })))

describe('clearing properties', () => {
  it('conserves energy and never fills an order beyond its quantity or outside its limit', () => {
    fc.assert(
      fc.property(arbitraryBook, (book) => {
        const result = clearPayAsClear(book)
        const byHash = new Map(book.map((o) => [o.hash, o]))
        let bought = 0
        let sold = 0
        for (const f of result.fills) {
          const o = byHash.get(f.hash)!
          expect(f.filledWh).toBeGreaterThan(0)
          expect(f.filledWh).toBeLessThanOrEqual(o.energyWh)
          if (o.side === 0) {
            expect(f.price).toBeLessThanOrEqual(o.limitPrice)
            bought += f.filledWh
          } else {
            expect(f.price).toBeGreaterThanOrEqual(o.limitPrice)
            sold += f.filledWh
          }
        }
        expect(bought).toBe(sold)
        expect(bought).toBe(result.volumeWh)
        expect(result.trades.reduce((n, t) => n + t.energyWh, 0)).toBe(result.volumeWh)
        if (result.clearingPrice !== null) {
          expect(result.clearingPrice).toBeGreaterThanOrEqual(result.bestAsk!)
          expect(result.clearingPrice).toBeLessThanOrEqual(result.bestBid!)
        }
      }),
    )
  })

  it('gives the same result whatever order the book arrives in', () => {
    fc.assert(
      fc.property(arbitraryBook, fc.integer(), (book, seed) => {
        const shuffled = [...book].sort((a, b) => ((a.seq * 2654435761) ^ seed) - ((b.seq * 2654435761) ^ seed))
        expect(clearPayAsClear(shuffled)).toEqual(clearPayAsClear(book))
      }),
    )
  })

  it('trades exactly the volume where demand still meets supply (checked by brute force over prices)', () => {
    fc.assert(
      fc.property(arbitraryBook, (book) => {
        // The largest volume tradable at one price p: min(demand at p, supply at p), maximised over the limit prices.
        let best = 0
        for (const p of book.map((o) => o.limitPrice)) {
          const demand = book.filter((o) => o.side === 0 && o.limitPrice >= p).reduce((n, o) => n + o.energyWh, 0)
          const supply = book.filter((o) => o.side === 1 && o.limitPrice <= p).reduce((n, o) => n + o.energyWh, 0)
          best = Math.max(best, Math.min(demand, supply))
        }
        expect(clearPayAsClear(book).volumeWh).toBe(best)
      }),
    )
  })
})
