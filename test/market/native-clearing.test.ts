import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Address, Hex } from 'viem'
import { clearColumns, clearColumnsTypeScript, type ColumnarResult, type PricingRule } from '../../market/engine/columnar-clearing.ts'
import { ClearingWorkspace } from '../../market/engine/clearing-workspace.ts'
import { compileTopology } from '../../market/engine/compiled-topology.ts'
import { orderColumns, type NodeOrder } from '../../market/engine/hierarchical-clearing.ts'
import { clearNatively, nativeClearing } from '../../market/engine/native-clearing.ts'
import { priorityKeyScheme } from '../../market/engine/priority-keys.ts'
import { clearHierarchicalReference } from '../../market/engine/reference/reference-clearing.ts'
import { arbitraryTopology, TIGHT_TREES } from '../helpers/arbitrary-community.ts'
import { randomBook, suburbTopology } from '../../bench/benchmarks/market.ts'

const hash = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as Hex
const owner = (n: number) => `0x${n.toString(16).padStart(40, '0')}` as Address
const FIELDS = ['tradeBuy', 'tradeSell', 'tradeNode', 'tradeEnergyWh', 'tradeBuyerPrice', 'nodeBuyerPrice', 'nodeVolumeWh', 'linkCapacityWh', 'linkUpWh', 'linkDownWh', 'linkCongested'] as const

/** Every column of two results, element by element with Object.is (NaN equals NaN, 0 is not −0). */
function expectSameResult(actual: ColumnarResult, expected: ColumnarResult): void {
  expect(actual.tradeCount).toBe(expected.tradeCount)
  expect(Object.is(actual.volumeWh, expected.volumeWh)).toBe(true)
  for (const field of FIELDS) {
    const a = Array.from(actual[field])
    const e = Array.from(expected[field])
    expect(a.length, field).toBe(e.length)
    const first = a.findIndex((v, i) => !Object.is(v, e[i]))
    expect(first, `${field} differs first at ${first}: ${a[first]} vs ${e[first]}`).toBe(-1)
  }
}

/** Like the engine's specification test, but every order has its own sequence number (as in the service), in any order. */
const distinctSeqCase = arbitraryTopology(TIGHT_TREES).chain((topology) => {
  const nodes = topology.map((n) => n.id)
  const rows = fc.array(fc.record({ node: fc.constantFrom(...nodes), side: fc.constantFrom<0 | 1>(0, 1), energyWh: fc.oneof(fc.integer({ min: 1, max: 1500 }), fc.constant(0)), limitPrice: fc.integer({ min: 0, max: 12 }) }), { maxLength: 120 })
  const book = rows.chain((r) =>
    fc.shuffledSubarray(Array.from({ length: 3 * r.length }, (_, i) => i + 1), { minLength: r.length, maxLength: r.length }).map((seqs) => r.map((o, k): NodeOrder => ({ ...o, seq: seqs[k]!, hash: hash(k + 1), owner: owner(k + 1) }))),
  )
  return fc.tuple(fc.constant(topology), book, fc.constantFrom<PricingRule>('pay-as-clear', 'pay-as-bid'))
})

describe('the clearing engine in C', () => {
  it('is built here (npm run build:native; the test machine has a C compiler)', () => {
    const status = nativeClearing()
    expect(status.available ? 'built' : status.reason).toBe('built')
  })

  it('gives the TypeScript engine\'s result bit for bit, and the specification\'s, on random trees and books', () => {
    fc.assert(
      fc.property(distinctSeqCase, ([topology, book, pricing]) => {
        const tree = compileTopology(topology)
        const columns = orderColumns(book, tree)
        const params = { intervalSeconds: 900, pricing }
        const native = clearNatively(columns, tree, params, priorityKeyScheme(columns.side, columns.limitPrice, columns.seq, columns.count), new ClearingWorkspace())
        expect(native).toBeDefined()
        expectSameResult(native!, clearColumnsTypeScript(columns, tree, params))
        const reference = clearHierarchicalReference(book, topology, params)
        expect(native!.volumeWh).toBe(reference.volumeWh)
        expect(native!.tradeCount).toBe(reference.trades.length)
      }),
      { numRuns: 400 },
    )
  })

  it.each<PricingRule>(['pay-as-clear', 'pay-as-bid'])('agrees on a congested 200,000-order suburb book (%s), one workspace after a smaller book', (pricing) => {
    const workspace = new ClearingWorkspace()
    const params = { intervalSeconds: 900, pricing }
    const smallTree = compileTopology(suburbTopology(1, 3))
    // The C engine itself, never clearColumns (which would fall back to TypeScript without the addon
    // and compare TypeScript with itself).
    const natively = (columns: ReturnType<typeof orderColumns>, tree: ReturnType<typeof compileTopology>) =>
      clearNatively(columns, tree, params, priorityKeyScheme(columns.side, columns.limitPrice, columns.seq, columns.count), workspace)
    const small = orderColumns(randomBook(500, suburbTopology(1, 3), 3), smallTree)
    expect(natively(small, smallTree)).toBeDefined()
    const topology = suburbTopology(10, 20, { feeder: 300, transformer: 40 })
    const tree = compileTopology(topology)
    const columns = orderColumns(randomBook(200_000, topology, 5), tree)
    const native = natively(columns, tree)
    expect(native).toBeDefined()
    expect(native!.linkCongested.some((c) => c === 1)).toBe(true)
    expectSameResult(native!, clearColumnsTypeScript(columns, tree, params))
  })

  it('agrees when prices and sequence numbers are too far apart to pack (ranked keys)', () => {
    const topology = suburbTopology(2, 3, { feeder: 50, transformer: 10 })
    const tree = compileTopology(topology)
    const book = randomBook(3000, topology, 9).map((o, i) => ({ ...o, limitPrice: o.limitPrice * 1_000_000_000, seq: i * 1_000_003 }))
    const columns = orderColumns(book, tree)
    const scheme = priorityKeyScheme(columns.side, columns.limitPrice, columns.seq, columns.count)
    expect(scheme.keys).toBeDefined()
    const params = { intervalSeconds: 900, pricing: 'pay-as-clear' as const }
    const native = clearNatively(columns, tree, params, scheme, new ClearingWorkspace())
    expect(native!.volumeWh).toBeGreaterThan(0)
    expectSameResult(native!, clearColumnsTypeScript(columns, tree, params))
  })

  it('leaves a book with shared sequence numbers (ties only order hashes break) to the TypeScript engine', () => {
    const topology = suburbTopology(1, 2)
    const tree = compileTopology(topology)
    const book: NodeOrder[] = [
      { hash: hash(2), owner: owner(1), side: 1, energyWh: 100, limitPrice: 10_000, seq: 1, node: 'F0T0' },
      { hash: hash(1), owner: owner(2), side: 1, energyWh: 100, limitPrice: 10_000, seq: 1, node: 'F0T0' },
      { hash: hash(3), owner: owner(3), side: 0, energyWh: 150, limitPrice: 30_000, seq: 2, node: 'F0T0' },
    ]
    const columns = orderColumns(book, tree)
    const params = { intervalSeconds: 900, pricing: 'pay-as-clear' as const }
    expect(clearNatively(columns, tree, params, priorityKeyScheme(columns.side, columns.limitPrice, columns.seq, columns.count), new ClearingWorkspace())).toBeUndefined()
    const result = clearColumns(columns, tree, params)
    // The lower hash (book position 1) sells first.
    expect(Array.from(result.tradeSell)).toEqual([1, 0])
    expect(Array.from(result.tradeEnergyWh)).toEqual([100, 50])
  })
})
