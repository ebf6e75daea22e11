import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Address, Hex } from 'viem'
import { clearHierarchical, type NodeOrder, type PricingRule } from '../../market/engine/hierarchical-clearing.ts'
import { clearHierarchicalReference } from '../../market/engine/reference/reference-clearing.ts'
import { priorityKey, priorityKeyScheme } from '../../market/engine/priority-keys.ts'
import type { Topology } from '../../market/engine/topology.ts'
import { arbitraryTopology, TIGHT_TREES } from '../helpers/arbitrary-community.ts'
import { randomBook, suburbTopology } from '../../bench/benchmarks/market.ts'

const hash = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as Hex
const owner = (n: number) => `0x${n.toString(16).padStart(40, '0')}` as Address

/**
 * Trees with tight links (so congestion happens often), orders at every level (homes may hang off a
 * feeder), few distinct prices and repeated sequence numbers (so every tie-break rule is exercised).
 */
const arbitraryCase = arbitraryTopology(TIGHT_TREES).chain((topology) => {
  const nodes = topology.map((n) => n.id)
  const book = fc
    .array(fc.record({ node: fc.constantFrom(...nodes), side: fc.constantFrom<0 | 1>(0, 1), energyWh: fc.oneof(fc.integer({ min: 1, max: 1500 }), fc.constant(0)), limitPrice: fc.integer({ min: 0, max: 12 }), seq: fc.integer({ min: 1, max: 8 }) }), { maxLength: 80 })
    .map((rows) => rows.map((r, k): NodeOrder => ({ ...r, hash: hash(k + 1), owner: owner(k + 1) })))
  return fc.tuple(fc.constant(topology), book, fc.constantFrom<PricingRule>('pay-as-clear', 'pay-as-bid'))
})

describe('columnar engine against the readable specification', () => {
  it('gives the same trades, node prices, link flows and congestion, bit for bit', () => {
    fc.assert(
      fc.property(arbitraryCase, ([topology, book, pricing]) => {
        const params = { intervalSeconds: 900, pricing }
        expect(clearHierarchical(book, topology, params)).toEqual(clearHierarchicalReference(book, topology, params))
      }),
      { numRuns: 400 },
    )
  })

  it.each<PricingRule>(['pay-as-clear', 'pay-as-bid'])('agrees on a 20,000-order suburb book (%s)', (pricing) => {
    const topology = suburbTopology(4, 10, { feeder: 300, transformer: 40 })
    const book = randomBook(20_000, topology, 7)
    const params = { intervalSeconds: 900, pricing }
    const result = clearHierarchical(book, topology, params)
    expect(result.volumeWh).toBeGreaterThan(0)
    expect(result.links.some((l) => l.congested)).toBe(true)
    expect(result).toEqual(clearHierarchicalReference(book, topology, params))
  })

  it('agrees on one-sided books (a night with buyers only)', () => {
    const topology = suburbTopology(2, 3, { feeder: 30, transformer: 5 })
    const nightBids = randomBook(500, topology, 11).map((o) => ({ ...o, side: 0 as const }))
    const params = { intervalSeconds: 900, pricing: 'pay-as-clear' as const }
    const result = clearHierarchical(nightBids, topology, params)
    expect(result.trades).toEqual([])
    expect(result).toEqual(clearHierarchicalReference(nightBids, topology, params))
  })

  it('refuses an order at a node the tree does not have, naming it', () => {
    const topology: Topology = [{ id: 'T', parent: null, level: 'transformer', capacityKw: null, feePerKwh: 0 }]
    const order: NodeOrder = { hash: hash(1), owner: owner(1), side: 0, energyWh: 1, limitPrice: 1, seq: 1, node: 'X' }
    expect(() => clearHierarchical([order], topology, { intervalSeconds: 900, pricing: 'pay-as-clear' })).toThrow(/unknown node "X"/)
  })
})

describe('priority keys', () => {
  it('order each side like the book’s comparison (price, then sequence), even when the values cannot be packed directly', () => {
    const value = fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 70_000 }), fc.maxSafeNat())
    fc.assert(
      fc.property(fc.array(fc.record({ side: fc.constantFrom<0 | 1>(0, 1), price: value, seq: value }), { maxLength: 200 }), (rows) => {
        const side = Uint8Array.from(rows, (r) => r.side)
        const price = Float64Array.from(rows, (r) => r.price)
        const seq = Float64Array.from(rows, (r) => r.seq)
        const scheme = priorityKeyScheme(side, price, seq, rows.length)
        const { maxKey } = scheme
        const key = rows.map((_, k) => (scheme.keys ? scheme.keys[k]! : priorityKey(scheme, side[k]!, price[k]!, seq[k]!)))
        for (let a = 0; a < rows.length; a++) {
          expect(key[a]).toBeLessThanOrEqual(maxKey)
          for (let b = 0; b < rows.length; b++) {
            const [x, y] = [rows[a]!, rows[b]!]
            if (x.side !== y.side) continue
            const expected = Math.sign((x.side === 0 ? y.price - x.price : x.price - y.price) || x.seq - y.seq)
            expect(Math.sign(key[a]! - key[b]!)).toBe(expected)
          }
        }
      }),
    )
  })
})
