import type { Hex } from 'viem'
import type { IntervalResult } from '../../protocol/messages.ts'
import type { SignedMeterReading } from '../../protocol/meter-reading.ts'
import type { SignedOrder } from '../../protocol/order.ts'
import type { Logger } from '../../platform/logger.ts'
import { buildSettlementBatch, type BuiltBatch } from './settlement-batch.ts'
import type { SettlementPart } from './settlement-parts.ts'
import { leftOut, planSettlement, withoutLeftOut, type DroppedOrder } from './settlement-planner.ts'
import type { EarlierPart, SettlementOutcome, SettlementSubmitter } from './settlement-submitter.ts'

type Settlement = IntervalResult['settlement']
type Shortfall = NonNullable<Settlement['shortfalls']>[number]

export interface PartsRun {
  communityKey: Hex
  interval: number
  /** The interval's settlement record as stored: where an earlier run (or a restart) left off. */
  settlement: Settlement
  parts: readonly SettlementPart[]
  maxFills: number
  orders: ReadonlyMap<string, { signed: SignedOrder }>
  readings: ReadonlyMap<string, SignedMeterReading>
  submitter: Pick<SettlementSubmitter, 'settle' | 'simulate'>
  /** Stores progress after every part (and before a part's receipt, with its transaction). */
  save: (settlement: Settlement) => void
  log: Logger
}

export type PartsOutcome = { kind: 'wait'; reason: string } | { kind: 'done'; settlement: Settlement }

const NO_BATCH: BuiltBatch = { fills: [], trades: [], readings: [], fillOrders: [] }

/**
 * Settles an interval too large for one transaction, part after part, each planned as a whole interval
 * is (simulated, the orders the contract would refuse left out, with every order dropped in an earlier
 * part left out of the later ones too) and its progress stored, so that a restart or an RPC failure
 * continues with the next part and a part already sent is awaited, never sent twice. A last part
 * whose every trade was left out still goes out, empty, to close the interval on chain.
 */
export async function settleInParts(run: PartsRun): Promise<PartsOutcome> {
  const { interval, parts, submitter, communityKey } = run
  let settlement: Settlement = { ...run.settlement, parts: run.settlement.parts ?? { maxFills: run.maxFills, count: parts.length, settled: [] } }
  const progress = settlement.parts!
  let dropped: DroppedOrder[] = [...(settlement.dropped ?? [])]
  for (let k = progress.settled.length; k < parts.length; k++) {
    const part = parts[k]!
    const earlier: EarlierPart | undefined = part.last ? undefined : { carried: part.carried }
    let batch: BuiltBatch
    let outcome: SettlementOutcome
    const onSubmitted = (tx: Hex) => run.save({ ...settlement, dropped, status: 'submitted', tx, error: null })
    if (settlement.status === 'submitted' && settlement.tx) {
      // This part went out before a restart: wait for it (or send it again if it never landed).
      const trades = withoutLeftOut(part.trades, leftOut(dropped))
      batch = trades.length ? buildSettlementBatch(trades, run.orders, run.readings) : NO_BATCH
      outcome = await submitter.settle(communityKey, interval, batch, { knownTx: settlement.tx, onSubmitted }, earlier)
    } else {
      const plan = await planSettlement(part.trades, run.orders, run.readings, (b) => submitter.simulate(communityKey, interval, b, earlier), dropped)
      if (plan.kind === 'wait') return { kind: 'wait', reason: `part ${k + 1} of ${parts.length}: ${plan.reason}` }
      if (plan.kind === 'refused') return { kind: 'done', settlement: { ...settlement, dropped, status: 'failed', error: `part ${k + 1} of ${parts.length} refused: ${plan.reason}` } }
      dropped = plan.dropped
      if (plan.kind === 'nothing' && !part.last) {
        progress.settled.push({ tx: null, fills: 0, gasUsed: 0 })
        settlement = { ...settlement, dropped, parts: progress }
        run.save(settlement)
        continue
      }
      batch = plan.kind === 'settle' ? plan.batch : NO_BATCH
      outcome = await submitter.settle(communityKey, interval, batch, { onSubmitted }, earlier)
    }
    if (outcome.status === 'failed') {
      return { kind: 'done', settlement: { ...settlement, dropped, status: 'failed', tx: outcome.tx, error: `part ${k + 1} of ${parts.length}: ${outcome.error}` } }
    }
    progress.settled.push({ tx: outcome.tx, fills: batch.fills.length, gasUsed: outcome.receipt?.gasUsed ?? 0 })
    settlement = {
      ...settlement,
      status: part.last ? 'settled' : 'pending',
      tx: outcome.tx,
      error: null,
      parts: progress,
      shortfalls: mergeShortfalls(settlement.shortfalls ?? [], outcome.shortfalls ?? []),
      ...(outcome.receipt ? { receipt: { blockNumber: outcome.receipt.blockNumber, gasUsed: (settlement.receipt?.gasUsed ?? 0) + outcome.receipt.gasUsed } } : {}),
      ...(dropped.length ? { dropped } : {}),
    }
    run.log.info({ interval, part: k + 1, parts: parts.length, tx: outcome.tx, fills: batch.fills.length }, 'market: settlement part settled')
    if (!part.last) run.save(settlement)
  }
  return { kind: 'done', settlement: { ...settlement, shortfalls: wholeIntervalShortfalls(settlement.shortfalls ?? [], parts, dropped, run.orders) } }
}

/**
 * Each part reports a short seller's sales in that part only; over the interval a seller's sold
 * energy is all its settled trades, and what it delivered that less its shortfalls.
 */
function wholeIntervalShortfalls(
  shortfalls: readonly Shortfall[],
  parts: readonly SettlementPart[],
  dropped: readonly DroppedOrder[],
  orders: ReadonlyMap<string, { signed: SignedOrder }>,
): Shortfall[] {
  const sold = new Map<string, number>()
  for (const t of withoutLeftOut(parts.flatMap((p) => p.trades), leftOut(dropped))) {
    const seller = orders.get(t.sellOrder)?.signed.order.owner.toLowerCase()
    if (seller) sold.set(seller, (sold.get(seller) ?? 0) + t.energyWh)
  }
  return shortfalls.map((s) => {
    const soldWh = sold.get(s.seller.toLowerCase()) ?? s.soldWh
    return { ...s, soldWh, deliveredWh: soldWh - (s.soldWh - s.deliveredWh) }
  })
}

/** One seller's shortfalls over several parts, added up. */
function mergeShortfalls(a: readonly Shortfall[], b: readonly Shortfall[]): Shortfall[] {
  const bySeller = new Map<string, Shortfall>()
  for (const s of [...a, ...b]) {
    const key = s.seller.toLowerCase()
    const prior = bySeller.get(key)
    bySeller.set(
      key,
      prior
        ? { seller: prior.seller, soldWh: prior.soldWh + s.soldWh, deliveredWh: prior.deliveredWh + s.deliveredWh, charged: String(BigInt(prior.charged) + BigInt(s.charged)) }
        : { ...s },
    )
  }
  return [...bySeller.values()]
}
