import type { Hex } from 'viem'
import type { Deployment } from '../../contracts/deploy.ts'
import type { Counters } from '../../platform/counters.ts'
import type { Logger } from '../../platform/logger.ts'
import type { SignedMeterReading } from '../../protocol/meter-reading.ts'
import type { IntervalResult } from '../../protocol/messages.ts'
import { isUnsettled, type MarketStore, type StoredOrder } from './market-store.ts'
import { settleInParts } from './settle-in-parts.ts'
import { buildSettlementBatch } from './settlement-batch.ts'
import { fillsPerPart, splitSettlement, type SettlementPart } from './settlement-parts.ts'
import { leftOut, planSettlement, withoutLeftOut } from './settlement-planner.ts'
import type { SettlementSubmitter } from './settlement-submitter.ts'

export interface SettlementQueueOptions {
  communityKey: Hex
  intervalSeconds: number
  deployment: Deployment
  store: MarketStore
  submitter: SettlementSubmitter
  /** Fills per transaction; absent, sized from the chain's block gas limit. */
  maxFills?: number
  counters: Counters
  log: Logger
  /** An interval's settlement changed: the new result, to publish. */
  onRecorded: (result: IntervalResult) => void
  /** An outcome was recorded (money may have moved on chain: cached escrow reads are stale). */
  onSettled: (status: IntervalResult['settlement']['status']) => void
}

/**
 * Settles cleared intervals on chain, one at a time in the order asked: each is planned (simulated,
 * the orders the contract would refuse left out), sent once, and recorded; an interval too large for
 * one transaction goes part by part (settle-in-parts.ts). One interval's failure never stops the
 * next, and an interval past its settlement window is marked expired, so its trades stop holding
 * escrow (docs/architecture.md "Orders, money and settlement").
 */
export class SettlementQueue {
  private settling: Promise<void> = Promise.resolve()
  private readonly early = new Set<NodeJS.Timeout>()
  private stopped = false
  /** The chain's block gas limit, asked once (again after a failure), not once per interval. */
  private blockGasLimit: bigint | undefined

  constructor(private readonly options: SettlementQueueOptions) {}

  /** Settles `interval` after whatever is queued before it. */
  queue(interval: number): void {
    if (this.stopped) return
    this.settling = this.settling
      .then(() => (this.stopped ? undefined : this.settle(interval)))
      .catch((error: unknown) => {
        this.blockGasLimit = undefined
        this.options.counters.increment('settlements_errored')
        this.options.log.error({ interval, err: error }, 'market: settlement errored; tried again at the next gate closure')
      })
  }

  /** Settles `interval` at `atMs` (every seller's reading is in, but the interval must be over first). */
  queueAt(interval: number, atMs: number): void {
    const timer = setTimeout(() => {
      this.early.delete(timer)
      this.queue(interval)
    }, Math.max(0, atMs - Date.now()))
    timer.unref()
    this.early.add(timer)
  }

  /** Stops taking work and waits for the settlement under way. */
  async stop(): Promise<void> {
    this.stopped = true
    for (const timer of this.early) clearTimeout(timer)
    await this.settling
  }

  private async settle(interval: number): Promise<void> {
    const { store, submitter, communityKey, deployment } = this.options
    const result = store.interval(interval)
    if (!result || !isUnsettled(result.settlement.status)) return
    if (Date.now() / 1000 >= interval + deployment.settlementWindow) {
      // The contract will never take it now: its buys and sells stop holding escrow.
      this.options.counters.increment('settlements_expired')
      this.options.log.error({ interval }, 'market: interval expired unsettled (its settlement window closed)')
      return this.record(interval, { ...result.settlement, status: 'expired', error: `settlement window closed at ${interval + deployment.settlementWindow}` })
    }
    const orders = new Map(store.ordersFor(interval).map((o) => [o.hash as string, o]))
    const readings = store.meterReadingsFor(interval)
    const onSubmitted = (tx: Hex) => store.updateSettlement(interval, { ...result.settlement, status: 'submitted', tx, error: null })
    if (!result.settlement.parts && (result.settlement.status === 'submitted' || (await submitter.isSettled(communityKey, interval)))) {
      // Already out (before a restart) or settled: the submitter waits for it or reports it.
      const batch = buildSettlementBatch(withoutLeftOut(result.trades, leftOut(result.settlement.dropped ?? [])), orders, readings)
      const outcome = await submitter.settle(communityKey, interval, batch, { knownTx: result.settlement.tx, onSubmitted })
      return this.record(interval, { ...outcome, dropped: result.settlement.dropped })
    }
    const maxFills = result.settlement.parts?.maxFills ?? this.options.maxFills ?? fillsPerPart((this.blockGasLimit ??= await submitter.blockGasLimit()))
    const parts = splitSettlement(result.trades, (hash) => orders.get(hash)?.signed.order.owner ?? '', maxFills)
    if (parts.length > 1) return this.settleInParts(interval, result, parts, maxFills, orders, readings)
    const plan = await planSettlement(result.trades, orders, readings, (batch) => submitter.simulate(communityKey, interval, batch))
    if (plan.kind === 'wait') return void this.options.log.info({ interval, reason: plan.reason }, 'market: settlement not yet possible; tried again at the next gate closure')
    if (plan.kind === 'refused') return this.record(interval, { ...result.settlement, status: 'failed', error: `refused: ${plan.reason}` })
    if (plan.dropped.length) {
      this.options.counters.increment('settlement_orders_dropped', plan.dropped.length)
      this.options.log.warn({ interval, dropped: plan.dropped }, 'market: orders left out of settlement (their trades do not settle; every other trade does)')
    }
    if (plan.kind === 'nothing') return this.record(interval, { status: 'nothing', tx: null, error: 'every trade was left out', dropped: plan.dropped })
    const outcome = await submitter.settle(communityKey, interval, plan.batch, { onSubmitted })
    this.record(interval, { ...outcome, ...(plan.dropped.length ? { dropped: plan.dropped } : {}) })
  }

  /**
   * An interval too large for one transaction: settled part after part (settle-in-parts.ts) once
   * every seller's reading is in or may be left out, and after any earlier interval left half-settled,
   * since the contract takes an owner's parts interval by interval.
   */
  private async settleInParts(
    interval: number,
    result: IntervalResult,
    parts: SettlementPart[],
    maxFills: number,
    orders: Map<string, StoredOrder>,
    readings: Map<string, SignedMeterReading>,
  ): Promise<void> {
    const { store, log } = this.options
    if (!result.settlement.parts) {
      const earlier = store.unsettledIntervals(interval).find((i) => store.interval(i)?.settlement.parts)
      if (earlier !== undefined) return void log.info({ interval, earlier }, 'market: settlement in parts waits for an earlier interval still settling in parts')
      const sellers = new Set(result.trades.map((t) => t.seller.toLowerCase()))
      const mayLeaveOut = Date.now() / 1000 >= interval + 2 * this.options.intervalSeconds
      if (!mayLeaveOut && ![...sellers].every((s) => readings.has(s))) {
        return void log.info({ interval }, "market: settlement in parts waits for every seller's meter reading (or for the contract to let them be left out)")
      }
      log.info({ interval, parts: parts.length, maxFills }, 'market: interval too large for one transaction; settling it in parts')
    }
    const outcome = await settleInParts({
      communityKey: this.options.communityKey,
      interval,
      settlement: result.settlement,
      parts,
      maxFills,
      orders,
      readings,
      submitter: this.options.submitter,
      save: (settlement) => void store.updateSettlement(interval, settlement),
      log,
    })
    if (outcome.kind === 'wait') return void log.info({ interval, reason: outcome.reason }, 'market: settlement part not yet possible; tried again at the next gate closure')
    const dropped = outcome.settlement.dropped ?? []
    const before = result.settlement.dropped?.length ?? 0
    if (dropped.length > before) this.options.counters.increment('settlement_orders_dropped', dropped.length - before)
    this.record(interval, outcome.settlement)
  }

  private record(interval: number, settlement: IntervalResult['settlement']): void {
    this.options.counters.increment(`settlements_${settlement.status}`)
    this.options.onSettled(settlement.status)
    if (settlement.status === 'failed' || settlement.status === 'expired') this.options.log.error({ interval, error: settlement.error }, 'market: settlement failed')
    else this.options.log.info({ interval, tx: settlement.tx, shortfalls: settlement.shortfalls?.length ?? 0 }, 'market: settled')
    if (settlement.status === 'failed') this.blockGasLimit = undefined
    const updated = this.options.store.updateSettlement(interval, settlement)
    if (updated) this.options.onRecorded(updated)
  }
}
