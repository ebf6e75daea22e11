import fc from 'fast-check'
import type { Address } from 'viem'
import { buildSettlementBatch, contractReading, type BatchTrade } from '../../market/service/settlement-batch.ts'
import type { SignedMeterReading } from '../../protocol/meter-reading.ts'
import type { SignedOrder } from '../../protocol/order.ts'

// What a hostile operator may do in settlement-invariants.test.ts: the random steps, and how it cuts
// an interval into parts.

export type Step =
  | { kind: 'deposit'; who: number; amount: number }
  | { kind: 'requestWithdrawal'; who: number; amount: number }
  | { kind: 'withdraw'; who: number }
  | { kind: 'warp'; hours: number }
  | { kind: 'cancel'; who: number }
  | { kind: 'settle'; orders: DrawnOrder[]; trades: DrawnTrade[]; exports: number[]; inBatch: boolean[]; honestPost: boolean; parts: PartPlan | null }
/**
 * The interval sent in parts (settleIntervalPart, then settleInterval), cut before the given trades.
 * The operator carries the owners that trade again later ('right'), nobody, or every owner of the
 * interval, trading in that part or not ('all'), and may put
 * every reading it has into every part, whether that part trades the reading's owner or not.
 */
export interface PartPlan {
  cuts: number[]
  carry: 'right' | 'none' | 'all'
  readingsEverywhere: boolean
}
export interface DrawnOrder {
  who: number
  side: 0 | 1
  energyWh: number
  limitPrice: number
  staleNonce: boolean
  forged: boolean
}
export interface DrawnTrade {
  buy: number
  sell: number
  energyWh: number
  atLimits: boolean
  price: number
  sellerDiscount: number
}

/** One random step among `members` accounts (honest ones first, then the operator's sybils). */
export function hostileStep(members: number): fc.Arbitrary<Step> {
  const who = fc.integer({ min: 0, max: members - 1 })
  return fc.oneof(
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('deposit' as const), who, amount: fc.integer({ min: 1, max: 50_000_000 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('requestWithdrawal' as const), who, amount: fc.integer({ min: 1, max: 2_000_000_000 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('withdraw' as const), who }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('warp' as const), hours: fc.integer({ min: 1, max: 30 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), who }) },
    {
      weight: 8,
      arbitrary: fc.record({
        kind: fc.constant('settle' as const),
        orders: fc.array(
          fc.record({
            who,
            side: fc.constantFrom<0 | 1>(0, 1),
            energyWh: fc.integer({ min: 1, max: 400 }),
            limitPrice: fc.oneof({ weight: 19, arbitrary: fc.integer({ min: 1, max: 400_000 }) }, { weight: 1, arbitrary: fc.constant(0) }),
            staleNonce: fc.integer({ min: 0, max: 19 }).map((n) => n === 0),
            // Now and then the operator signs an honest member's order with a key of its own.
            forged: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
          }),
          { minLength: 2, maxLength: 6 },
        ),
        trades: fc.array(
          fc.record({
            buy: fc.nat(),
            sell: fc.nat(),
            energyWh: fc.integer({ min: 1, max: 120 }),
            // Mostly at the two limits, as a clearing would price it; sometimes anywhere, as an attacker might.
            atLimits: fc.integer({ min: 0, max: 4 }).map((n) => n > 0),
            price: fc.integer({ min: 0, max: 450_000 }),
            sellerDiscount: fc.integer({ min: -1_000, max: 20_000 }),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        exports: fc.array(fc.integer({ min: 0, max: 600 }), { minLength: members, maxLength: members }),
        inBatch: fc.array(fc.boolean(), { minLength: members, maxLength: members }),
        honestPost: fc.boolean(),
        parts: fc.option(
          fc.record({
            cuts: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
            carry: fc.constantFrom<PartPlan['carry']>('right', 'none', 'all', 'all'),
            readingsEverywhere: fc.integer({ min: 0, max: 2 }).map((n) => n > 0),
          }),
          { nil: null, freq: 2 },
        ),
      }),
    },
  )
}

/** The operator's parts: the trades cut where the plan says, carried and readings as it chooses. */
export function partsOf(plan: PartPlan, trades: BatchTrade[], orders: Map<string, { signed: SignedOrder }>, readings: Map<string, SignedMeterReading>) {
  const cuts = [...new Set(plan.cuts.map((c) => 1 + (c % Math.max(1, trades.length - 1))))].filter((c) => c < trades.length).sort((a, b) => a - b)
  const runs = [0, ...cuts].map((from, k) => trades.slice(from, [...cuts, trades.length][k]))
  const ownersOf = (run: BatchTrade[]) => new Set(run.flatMap((t) => [t.buyOrder, t.sellOrder]).map((h) => orders.get(h)!.signed.order.owner.toLowerCase()))
  return runs.map((run, k) => {
    const batch = buildSettlementBatch(run, orders, readings)
    if (plan.readingsEverywhere) {
      const inBatch = new Set(batch.readings.map((r) => r.owner.toLowerCase()))
      batch.readings = [...batch.readings, ...[...readings.values()].filter((r) => !inBatch.has(r.reading.owner.toLowerCase())).map(contractReading)].sort((a, b) => (BigInt(a.owner) < BigInt(b.owner) ? -1 : 1))
    }
    if (k === runs.length - 1) return { batch, carried: null }
    const later = new Set(runs.slice(k + 1).flatMap((r) => [...ownersOf(r)]))
    const mine = [...ownersOf(run)]
    // 'all': every owner of the interval, whether it trades in this part or not.
    const everyone = [...ownersOf(trades)]
    const carried = plan.carry === 'none' ? [] : plan.carry === 'all' ? everyone : mine.filter((o) => later.has(o))
    return { batch, carried: carried.sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)) as Address[] }
  })
}
