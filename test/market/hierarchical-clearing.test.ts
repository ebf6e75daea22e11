import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Address, Hex } from 'viem'
import { clearHierarchical, type NodeOrder, type PricingRule } from '../../market/engine/hierarchical-clearing.ts'
import { clearPayAsClear } from '../../market/engine/reference/clearing.ts'
import { singleNodeTopology, topologySchema, type Topology } from '../../market/engine/topology.ts'
import { arbitraryTopology } from '../helpers/arbitrary-community.ts'

const hash = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as Hex
const owner = (n: number) => `0x${n.toString(16).padStart(40, '0')}` as Address
let seq = 1
const order = (node: string, side: 0 | 1, energyWh: number, limitPrice: number): NodeOrder => {
  const id = seq++
  return { hash: hash(id), owner: owner(id), side, energyWh, limitPrice, seq: id, node }
}

/** Two transformers under one feeder. */
const street = (feederFee: number, t1CapacityKw: number | null = null): Topology => [
  { id: 'F', parent: null, level: 'feeder', capacityKw: null, feePerKwh: feederFee },
  { id: 'T1', parent: 'F', level: 'transformer', capacityKw: t1CapacityKw, feePerKwh: 0 },
  { id: 'T2', parent: 'F', level: 'transformer', capacityKw: null, feePerKwh: 0 },
]
const params = (pricing: PricingRule = 'pay-as-clear') => ({ intervalSeconds: 900, pricing })

describe('clearHierarchical: neighbours first', () => {
  it('matches a seller with the buyer on its own transformer before a higher bid further away', () => {
    const sell = order('T1', 1, 100, 100_000)
    const nearBuy = order('T1', 0, 100, 200_000)
    const farBuy = order('T2', 0, 100, 300_000)
    const result = clearHierarchical([sell, nearBuy, farBuy], street(20_000), params())
    expect(result.trades).toEqual([
      expect.objectContaining({ node: 'T1', buyOrder: nearBuy.hash, sellOrder: sell.hash, energyWh: 100, buyerPrice: 150_000, sellerPrice: 150_000, feePerKwh: 0 }),
    ])
  })

  it('moves what is left up a level, where the trade pays that level’s grid fee', () => {
    const sell = order('T1', 1, 200, 100_000)
    const nearBuy = order('T1', 0, 50, 200_000)
    const farBuy = order('T2', 0, 100, 300_000)
    const result = clearHierarchical([sell, nearBuy, farBuy], street(20_000), params())
    expect(result.trades).toHaveLength(2)
    expect(result.trades[1]).toMatchObject({ node: 'F', buyOrder: farBuy.hash, sellOrder: sell.hash, energyWh: 100, feePerKwh: 20_000 })
    // Buyer 300000 vs fee-inclusive ask 120000: midpoint 210000 for the buyer, 190000 for the seller.
    expect(result.trades[1]).toMatchObject({ buyerPrice: 210_000, sellerPrice: 190_000 })
    expect(result.nodes.find((n) => n.node === 'F')).toMatchObject({ buyerPrice: 210_000, sellerPrice: 190_000, volumeWh: 100 })
    expect(result.links.find((l) => l.node === 'T1')).toMatchObject({ upWh: 100, downWh: 0, congested: false })
    expect(result.links.find((l) => l.node === 'T2')).toMatchObject({ upWh: 0, downWh: 100 })
  })

  it('does not trade across a level whose fee eats the whole spread', () => {
    const result = clearHierarchical([order('T1', 1, 100, 100_000), order('T2', 0, 100, 115_000)], street(20_000), params())
    expect(result.trades).toEqual([])
  })

  it('never moves more than a link carries in an interval, and flags it congested', () => {
    // 1 kW × 900 s = 250 Wh up T1.
    const result = clearHierarchical([order('T1', 1, 400, 100_000), order('T2', 0, 400, 300_000)], street(0, 1), params())
    expect(result.volumeWh).toBe(250)
    expect(result.links.find((l) => l.node === 'T1')).toMatchObject({ capacityWh: 250, upWh: 250, congested: true })
  })

  it('trades each matched pair at its own midpoint under pay-as-bid', () => {
    const a = order('T1', 1, 10, 100_000)
    const b = order('T1', 1, 10, 140_000)
    const x = order('T1', 0, 10, 300_000)
    const y = order('T1', 0, 10, 200_000)
    const result = clearHierarchical([a, b, x, y], street(0), params('pay-as-bid'))
    expect(result.trades.map((t) => [t.buyOrder, t.sellOrder, t.buyerPrice])).toEqual([
      [x.hash, a.hash, 200_000],
      [y.hash, b.hash, 170_000],
    ])
  })
})

describe('topologySchema', () => {
  it('accepts a tree and explains what is wrong with a broken one', () => {
    expect(topologySchema.parse(street(0))).toHaveLength(3)
    const twoRoots = topologySchema.safeParse([...street(0), { id: 'G', parent: null, level: 'feeder', capacityKw: null, feePerKwh: 0 }])
    expect(twoRoots.error?.issues[0]?.message).toMatch(/exactly one root/)
    const orphan = topologySchema.safeParse([...street(0), { id: 'T3', parent: 'X', level: 'transformer', capacityKw: null, feePerKwh: 0 }])
    expect(orphan.error?.issues[0]?.message).toMatch(/parent "X" is not a node/)
    const cycle = topologySchema.safeParse([
      { id: 'R', parent: null, level: 'substation', capacityKw: null, feePerKwh: 0 },
      { id: 'A', parent: 'B', level: 'feeder', capacityKw: null, feePerKwh: 0 },
      { id: 'B', parent: 'A', level: 'feeder', capacityKw: null, feePerKwh: 0 },
    ])
    expect(cycle.error?.issues.some((i) => /cycle/.test(i.message))).toBe(true)
  })
})

/** A random tree: a substation, 1–3 feeders, 1–3 transformers each, random fees and capacities. */
const arbitraryCommunity = arbitraryTopology({ rootFee: 50_000, feederFee: 30_000, feederCapKw: 20, transformerFee: 5_000, transformerCapKw: 10, transformers: 3 }).chain((topology) => {
  const leaves = topology.filter((n) => n.level === 'transformer').map((n) => n.id)
  const book = fc
    .array(fc.record({ node: fc.constantFrom(...leaves), side: fc.constantFrom<0 | 1>(0, 1), energyWh: fc.integer({ min: 1, max: 3000 }), limitPrice: fc.integer({ min: 0, max: 400_000 }) }), { maxLength: 40 })
    .map((rows) => rows.map((r, k): NodeOrder => ({ ...r, hash: hash(k + 1), owner: owner(k + 1), seq: k + 1 })))
  return fc.tuple(fc.constant(topology), book, fc.constantFrom<PricingRule>('pay-as-clear', 'pay-as-bid'))
})

describe('clearHierarchical properties', () => {
  it('conserves energy, respects every limit and link, and charges exactly each level’s fee', () => {
    fc.assert(
      fc.property(arbitraryCommunity, ([topology, book, pricing]) => {
        const result = clearHierarchical(book, topology, { intervalSeconds: 900, pricing })
        const byHash = new Map(book.map((o) => [o.hash, o]))
        const filled = new Map<string, number>()
        for (const t of result.trades) {
          const buy = byHash.get(t.buyOrder)!
          const sell = byHash.get(t.sellOrder)!
          expect(buy.side).toBe(0)
          expect(sell.side).toBe(1)
          expect(t.energyWh).toBeGreaterThan(0)
          expect(t.buyerPrice).toBeLessThanOrEqual(buy.limitPrice)
          expect(t.sellerPrice).toBeGreaterThanOrEqual(sell.limitPrice)
          expect(t.buyerPrice - t.sellerPrice).toBe(topology.find((n) => n.id === t.node)!.feePerKwh)
          filled.set(t.buyOrder, (filled.get(t.buyOrder) ?? 0) + t.energyWh)
          filled.set(t.sellOrder, (filled.get(t.sellOrder) ?? 0) + t.energyWh)
        }
        for (const [h, wh] of filled) expect(wh).toBeLessThanOrEqual(byHash.get(h as Hex)!.energyWh)
        for (const link of result.links) {
          if (link.capacityWh !== null) {
            expect(link.upWh).toBeLessThanOrEqual(link.capacityWh)
            expect(link.downWh).toBeLessThanOrEqual(link.capacityWh)
          }
        }
        const bought = result.trades.reduce((n, t) => n + t.energyWh, 0)
        expect(bought).toBe(result.volumeWh)
        expect(result.nodes.reduce((n, s) => n + s.volumeWh, 0)).toBe(bought)
      }),
    )
  })

  it('gives the same result whatever order the book arrives in', () => {
    fc.assert(
      fc.property(arbitraryCommunity, fc.integer(), ([topology, book, pricing], salt) => {
        const shuffled = [...book].sort((a, b) => ((a.seq * 2654435761) ^ salt) - ((b.seq * 2654435761) ^ salt))
        const p = { intervalSeconds: 900, pricing }
        expect(clearHierarchical(shuffled, topology, p)).toEqual(clearHierarchical(book, topology, p))
      }),
    )
  })

  it('on one node equals the flat pay-as-clear engine', () => {
    fc.assert(
      fc.property(arbitraryCommunity, ([, book]) => {
        const flat = book.map((o) => ({ ...o, node: 'community' }))
        const result = clearHierarchical(flat, singleNodeTopology(), { intervalSeconds: 900, pricing: 'pay-as-clear' })
        const reference = clearPayAsClear(flat)
        expect(result.volumeWh).toBe(reference.volumeWh)
        expect(result.nodes[0]!.buyerPrice).toBe(reference.clearingPrice)
      }),
    )
  })
})

describe('welfare against a brute-force reference', () => {
  /** Tries every integer fill of every order: the most welfare any feasible allocation achieves. */
  function bruteForceWelfare(book: NodeOrder[], fee: number): number {
    let best = 0
    const fills = new Array<number>(book.length).fill(0)
    const walk = (i: number) => {
      if (i === book.length) {
        let bought = 0
        let sold = 0
        let welfare = 0
        book.forEach((o, k) => {
          if (o.side === 0) {
            bought += fills[k]!
            welfare += fills[k]! * o.limitPrice
          } else {
            sold += fills[k]!
            welfare -= fills[k]! * (o.limitPrice + fee)
          }
        })
        if (bought === sold) best = Math.max(best, welfare)
        return
      }
      for (let q = 0; q <= book[i]!.energyWh; q++) {
        fills[i] = q
        walk(i + 1)
      }
    }
    walk(0)
    return best
  }

  it.each<PricingRule>(['pay-as-clear', 'pay-as-bid'])('%s on one node reaches the maximum welfare', (pricing) => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ side: fc.constantFrom<0 | 1>(0, 1), energyWh: fc.integer({ min: 1, max: 3 }), limitPrice: fc.integer({ min: 0, max: 20 }) }), { maxLength: 6 }),
        fc.integer({ min: 0, max: 5 }),
        (rows, fee) => {
          const book = rows.map((r, k): NodeOrder => ({ ...r, hash: hash(k + 1), owner: owner(k + 1), seq: k + 1, node: 'n' }))
          const result = clearHierarchical(book, [{ id: 'n', parent: null, level: 'transformer', capacityKw: null, feePerKwh: fee }], { intervalSeconds: 900, pricing })
          const byHash = new Map(book.map((o) => [o.hash, o]))
          const welfare = result.trades.reduce((n, t) => n + t.energyWh * (byHash.get(t.buyOrder)!.limitPrice - byHash.get(t.sellOrder)!.limitPrice - fee), 0)
          expect(welfare).toBe(bruteForceWelfare(book, fee))
        },
      ),
    )
  })
})
