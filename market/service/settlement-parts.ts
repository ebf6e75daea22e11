import type { Address } from 'viem'
import { fillKey, type BatchTrade } from './settlement-batch.ts'

/** One transaction's share of an interval too large for one: its trades, and who continues after it. */
export interface SettlementPart {
  trades: BatchTrade[]
  /**
   * Owners of this part's orders that also trade in a later part, by increasing address: the contract
   * records what their orders filled and what their readings have left, and refuses them in a later
   * part unless they were carried in every earlier part they took part in.
   */
  carried: Address[]
  /** Settled with `settleInterval` (nothing after it); every other part with `settleIntervalPart`. */
  last: boolean
}

/** Gas a part may take beyond its fills: the call, the interval's word, the fee recipient, events. */
const PART_BASE_GAS = 200_000
/**
 * Gas budgeted per fill: about 16,500–22,500 a fill measured (`npm run bench -- settlement`), plus
 * the records of an owner carried into a later part (about 22,000 for a fresh slot), rounded up.
 */
const PART_GAS_PER_FILL = 45_000

/**
 * How many fills one settlement transaction may carry on a chain with this block gas limit: half the
 * block, so the transaction still fits when other traffic shares it.
 * @example fillsPerPart(30_000_000n) // 328
 */
export function fillsPerPart(blockGasLimit: bigint): number {
  const budget = Number(blockGasLimit / 2n) - PART_BASE_GAS
  return Math.max(2, Math.floor(budget / PART_GAS_PER_FILL))
}

/**
 * Splits an interval's trades into parts of at most `maxFills` fills each (a fill: one order at one
 * node and price, as the batch builder groups them). Parts are consecutive runs of the trades in
 * their clearing order, so each seller's reading goes to its trades in the same order as in one
 * batch, and the parts together settle exactly what one batch would. A single trade always fits
 * (it makes two fills). Pure and deterministic: the same trades always give the same parts, so a
 * restarted market continues where it stopped.
 *
 * @example
 * const parts = splitSettlement(result.trades, ownerOf, fillsPerPart(gasLimit))
 */
export function splitSettlement(trades: readonly BatchTrade[], ownerOf: (orderHash: string) => string, maxFills: number): SettlementPart[] {
  if (maxFills < 2) throw new RangeError(`a settlement part needs room for at least 2 fills, not ${maxFills}`)
  const runs: BatchTrade[][] = []
  let run: BatchTrade[] = []
  let fills = new Set<string>()
  for (const t of trades) {
    const keys = [fillKey(t.buyOrder, t.node, t.price), fillKey(t.sellOrder, t.node, t.sellerPrice)]
    const added = keys.filter((k) => !fills.has(k)).length
    if (fills.size + added > maxFills) {
      runs.push(run)
      run = []
      fills = new Set()
    }
    run.push(t)
    for (const k of keys) fills.add(k)
  }
  if (run.length || runs.length === 0) runs.push(run)

  const ownersOf = (part: readonly BatchTrade[]) => new Set(part.flatMap((t) => [ownerOf(t.buyOrder).toLowerCase(), ownerOf(t.sellOrder).toLowerCase()]))
  const owners = runs.map(ownersOf)
  // Owners of each part that trade again in some later one.
  const later = new Set<string>()
  const carried: Address[][] = runs.map(() => [])
  for (let k = runs.length - 1; k >= 0; k--) {
    carried[k] = [...owners[k]!].filter((o) => later.has(o)).sort(compareAddress) as Address[]
    for (const o of owners[k]!) later.add(o)
  }
  return runs.map((part, k) => ({ trades: part, carried: carried[k]!, last: k === runs.length - 1 }))
}

function compareAddress(a: string, b: string): number {
  const x = BigInt(a)
  const y = BigInt(b)
  return x < y ? -1 : x > y ? 1 : 0
}
