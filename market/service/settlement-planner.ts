import type { Address, Hex } from 'viem'
import type { IntervalResult } from '../../protocol/messages.ts'
import type { SignedMeterReading } from '../../protocol/meter-reading.ts'
import type { SignedOrder } from '../../protocol/order.ts'
import { buildSettlementBatch, type BatchTrade, type BuiltBatch } from './settlement-batch.ts'

/** The contract's verdict on a batch, as `eth_call` gives it: success, or its custom error and arguments. */
export type SimulationVerdict = { ok: true } | { ok: false; errorName: string; args: readonly unknown[] }

/** An order left out of an interval's settlement, and why (the interval result's `settlement.dropped`). */
export type DroppedOrder = NonNullable<IntervalResult['settlement']['dropped']>[number]

/** The lower-case hashes of the orders left out. */
export function leftOut(dropped: readonly { order: string }[]): Set<string> {
  return new Set(dropped.map((d) => d.order.toLowerCase()))
}

/** The trades that still settle: neither of whose orders was left out (`out`: lower-case hashes). */
export function withoutLeftOut<T extends { buyOrder: string; sellOrder: string }>(trades: readonly T[], out: ReadonlySet<string>): T[] {
  return out.size ? trades.filter((t) => !out.has(t.buyOrder.toLowerCase()) && !out.has(t.sellOrder.toLowerCase())) : [...trades]
}

export type SettlementPlan =
  | { kind: 'settle'; batch: BuiltBatch; dropped: DroppedOrder[]; droppedReadings: string[] }
  /** Nothing left to settle once every failing order was dropped. */
  | { kind: 'nothing'; dropped: DroppedOrder[] }
  /** The contract says not yet (the interval has not ended, or a seller's reading may still come). */
  | { kind: 'wait'; reason: string }
  /** The contract refuses the interval itself (settled, window closed, paused, not the operator). */
  | { kind: 'refused'; reason: string }

/** Errors that name one fill (its index is the first argument): its order is left out. */
const FILL_ERRORS = new Set(['InvalidOwner', 'InvalidFillAmount', 'ZeroPrice', 'InvalidSide', 'OrderCancelled', 'BadSignature', 'PriceOutsideLimit', 'TradesDoNotMatchFill'])
/** Errors that name an owner (first argument) whose escrow cannot stand behind its fills: all its orders are left out. */
const OWNER_ERRORS = new Set(['InsufficientEscrow', 'InsufficientCollateral'])
const WAIT_ERRORS = new Set(['IntervalNotOver', 'MissingMeterReading'])

/**
 * Finds the part of an interval that settles: builds the batch, asks the contract (by simulation)
 * whether it would settle, and while it would not because of one order, one owner or one reading,
 * leaves that out and asks again. One hostile member (a cancelled nonce, an emptied escrow, a bad
 * signature) so costs only its own trades and those of its counterparties with it, never the interval.
 * At most one simulation per order and reading, plus one.
 *
 * @example
 * const plan = await planSettlement(result.trades, ordersByHash, readings, (batch) => submitter.simulate(key, interval, batch))
 */
export async function planSettlement(
  trades: readonly BatchTrade[],
  orders: ReadonlyMap<string, { signed: SignedOrder }>,
  readings: ReadonlyMap<string, SignedMeterReading>,
  simulate: (batch: BuiltBatch) => Promise<SimulationVerdict>,
  excluded: readonly DroppedOrder[] = [],
): Promise<SettlementPlan> {
  const dropped: DroppedOrder[] = [...excluded]
  const out = leftOut(excluded)
  const liveReadings = new Map(readings)
  const droppedReadings: string[] = []
  const ownerOf = (hash: string) => (orders.get(hash)?.signed.order.owner.toLowerCase() ?? '') as Address
  const dropOrder = (hash: string, reason: string) => {
    if (out.has(hash.toLowerCase())) return
    out.add(hash.toLowerCase())
    dropped.push({ order: hash as Hex, owner: ownerOf(hash), reason })
  }
  const limit = orders.size + readings.size + 1
  for (let attempt = 0; attempt <= limit; attempt++) {
    const remaining = withoutLeftOut(trades, out)
    if (remaining.length === 0) return { kind: 'nothing', dropped }
    const batch = buildSettlementBatch(remaining, orders, liveReadings)
    const verdict = await simulate(batch)
    if (verdict.ok) return { kind: 'settle', batch, dropped, droppedReadings }
    const reason = `${verdict.errorName}(${verdict.args.map(String).join(', ')})`
    const first = verdict.args[0]
    if (FILL_ERRORS.has(verdict.errorName) && typeof first === 'bigint' && first < BigInt(batch.fillOrders.length)) {
      dropOrder(batch.fillOrders[Number(first)]!, reason)
    } else if (OWNER_ERRORS.has(verdict.errorName) && typeof first === 'string') {
      const owner = first.toLowerCase()
      const theirs = [...new Set(remaining.flatMap((t) => [t.buyOrder, t.sellOrder]))].filter((h) => ownerOf(h) === owner)
      if (theirs.length === 0) return { kind: 'refused', reason }
      for (const hash of theirs) dropOrder(hash, reason)
    } else if (verdict.errorName === 'BadMeterReading' && typeof first === 'bigint' && first < BigInt(batch.readings.length)) {
      const owner = batch.readings[Number(first)]!.owner.toLowerCase()
      liveReadings.delete(owner)
      droppedReadings.push(owner)
    } else if (WAIT_ERRORS.has(verdict.errorName)) {
      return { kind: 'wait', reason }
    } else {
      return { kind: 'refused', reason }
    }
  }
  return { kind: 'refused', reason: 'no settleable batch found' }
}
