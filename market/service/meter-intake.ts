import type { Address, Hex } from 'viem'
import type { Logger } from '../../platform/logger.ts'
import type { Counters } from '../../platform/counters.ts'
import { isUnsettled, type MarketStore } from './market-store.ts'
import { RateLimiter } from './rate-limiter.ts'
import { validateMeterReading } from './meter-validation.ts'
import type { SettlementQueue } from './settlement-queue.ts'

export interface MeterIntakeOptions {
  store: MarketStore
  settlements: SettlementQueue
  communityKey: Hex
  chainId: number
  settlement: Address
  /** The deployment's meter signer; the zero address means each owner signs its own readings. */
  meterSigner: Address
  intervalSeconds: number
  addressOf(agentId: string): Address | undefined
  /** Recovers a digest's signer on the signature pool's workers, as orders are. */
  recover(digest: Uint8Array, signature: string, claimed: Address): Promise<Address | null>
  counters: Counters
  log: Logger
}

/**
 * Signed meter readings of delivered intervals (meter-validation.ts): stored once verified; when the
 * last one an interval's sellers owed is in, that interval settles at once instead of at the next
 * gate closure.
 */
export class MeterIntake {
  /** One reading per interval is all an honest agent sends. */
  private readonly limiter = new RateLimiter(4, 1)

  constructor(private readonly options: MeterIntakeOptions) {}

  async accept(agentId: string, payload: Buffer): Promise<void> {
    const { store, counters, communityKey, chainId, settlement, meterSigner, intervalSeconds, addressOf, recover } = this.options
    const verdict = await validateMeterReading(payload, agentId, {
      communityKey,
      chainId,
      settlement,
      meterSigner,
      intervalSeconds,
      addressOf,
      recover,
      nowSeconds: Date.now() / 1000,
      allow: () => this.limiter.take(agentId),
      // Only a seller's reading of an interval still to settle matters; anything else is refused
      // before its signature costs anything, and so is a second reading.
      expected: (interval, owner) => {
        const result = store.interval(interval)
        if (!result || !isUnsettled(result.settlement.status)) return 'not_settling'
        if (!result.trades.some((t) => t.seller.toLowerCase() === owner.toLowerCase())) return 'not_a_seller'
        return store.hasMeterReading(interval, owner) ? 'duplicate' : 'ok'
      },
    })
    if (!verdict.ok) {
      // A reading nobody needs (no sale in it, or settled already) is set aside unverified, not held
      // against the agent: an agent that missed its award sends one rather than risk going unpaid.
      const unneeded = verdict.reason === 'not_a_seller' || verdict.reason === 'not_settling'
      const counter = unneeded ? 'meter_ignored' : 'meter_rejected'
      counters.increment(counter)
      counters.increment(`${counter}.${verdict.reason}`)
      if (!unneeded) this.options.log.warn({ agentId, reason: verdict.reason, message: verdict.message }, 'market: meter reading rejected')
      return
    }
    if (!store.insertMeterReading(verdict.signed)) {
      // A second reading whose check overlapped the first's on the workers: the first stands.
      counters.increment('meter_rejected')
      counters.increment('meter_rejected.duplicate')
      return
    }
    counters.increment('meter_readings')
    const interval = verdict.signed.reading.interval
    const result = store.interval(interval)
    if (result?.settlement.status !== 'pending') return
    const readings = store.meterReadingsFor(interval)
    const sellers = new Set(result.trades.map((t) => t.seller.toLowerCase()))
    if (![...sellers].every((s) => readings.has(s))) return
    // Every seller's reading is in: settle now rather than at the next gate closure, but not before
    // the interval has ended, which the contract requires.
    this.options.settlements.queueAt(interval, (interval + this.options.intervalSeconds) * 1000 + 1000)
  }
}
