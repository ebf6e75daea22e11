import fc from 'fast-check'
import type { Topology } from '../../market/engine/topology.ts'

/** Inclusive ranges of a random community tree's fees (per kWh) and link capacities (kW). */
export interface TreeRanges {
  rootFee: number
  feederFee: number
  feederCapKw: number
  transformerFee: number
  transformerCapKw: number
  /** Most transformers per feeder. */
  transformers: number
}

/**
 * A random community tree for property tests: a substation, 1–3 feeders, 1–`transformers`
 * transformers each, fees from 0 and capacities from 1 up to the ranges, or unconstrained links.
 */
export function arbitraryTopology(r: TreeRanges): fc.Arbitrary<Topology> {
  return fc
    .record({
      feeders: fc.array(fc.record({ fee: fc.integer({ min: 0, max: r.feederFee }), cap: fc.option(fc.integer({ min: 1, max: r.feederCapKw }), { nil: null }), transformers: fc.array(fc.record({ fee: fc.integer({ min: 0, max: r.transformerFee }), cap: fc.option(fc.integer({ min: 1, max: r.transformerCapKw }), { nil: null }) }), { minLength: 1, maxLength: r.transformers }) }), { minLength: 1, maxLength: 3 }),
      rootFee: fc.integer({ min: 0, max: r.rootFee }),
    })
    .map(({ feeders, rootFee }) => {
      const topology: Topology = [{ id: 'S', parent: null, level: 'substation', capacityKw: null, feePerKwh: rootFee }]
      feeders.forEach((f, i) => {
        topology.push({ id: `F${i}`, parent: 'S', level: 'feeder', capacityKw: f.cap, feePerKwh: f.fee })
        f.transformers.forEach((t, j) => topology.push({ id: `F${i}T${j}`, parent: `F${i}`, level: 'transformer', capacityKw: t.cap, feePerKwh: t.fee }))
      })
      return topology
    })
}

/** Trees with tight links and small fees, so congestion and fee-limited matches happen often. */
export const TIGHT_TREES: TreeRanges = { rootFee: 4, feederFee: 3, feederCapKw: 6, transformerFee: 2, transformerCapKw: 4, transformers: 4 }
