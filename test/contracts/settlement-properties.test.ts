import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { devStablecoinAbi } from '../../contracts/generated/artifacts.ts'
import { clearHierarchical, type NodeOrder, type PricingRule } from '../../market/engine/hierarchical-clearing.ts'
import type { Topology } from '../../market/engine/topology.ts'
import { buildSettlementBatch, type SettlementBatch } from '../../market/service/settlement-batch.ts'
import { previewSettlement } from '../helpers/settlement-oracle.ts'
import type { SignedMeterReading } from '../../protocol/meter-reading.ts'
import type { SignedOrder } from '../../protocol/order.ts'
import { communityKey } from '../../protocol/order.ts'
import { startTestChain, type TestChain } from '../helpers/chain.ts'
import { settlementKit } from '../helpers/settlement.ts'

let chain: TestChain
let kit: ReturnType<typeof settlementKit>
const community = communityKey('property-street')

// Two transformers under a feeder: neighbours trade fee-free, across the feeder for 10,000 per kWh,
// and each transformer's line carries at most 1 kW (250 Wh in a 15-minute interval).
const topology: Topology = [
  { id: 'feeder', parent: null, level: 'feeder', capacityKw: null, feePerKwh: 10_000 },
  { id: 'tx-a', parent: 'feeder', level: 'transformer', capacityKw: 1, feePerKwh: 0 },
  { id: 'tx-b', parent: 'feeder', level: 'transformer', capacityKw: 1, feePerKwh: 0 },
]

beforeAll(async () => {
  chain = await startTestChain(4, { community: 'property-street' })
  kit = settlementKit(chain, community)
})
afterAll(async () => {
  await chain?.anvil.stop()
})

interface Drawn {
  home: number
  side: 0 | 1
  energyWh: number
  limitPrice: number
}

/** Signs the drawn book, clears it with the market's engine, and builds the contract batch. */
async function clearAndBatch(book: Drawn[], pricing: PricingRule, exportShare: number[]) {
  const interval = await kit.slot()
  const keys = chain.homeKeys
  const signed: SignedOrder[] = await Promise.all(book.map((d, i) => kit.sign(keys[d.home]!, kit.order(keys[d.home]!, d.side, d.energyWh, d.limitPrice, interval, i + 1))))
  const orders: (NodeOrder & { signed: SignedOrder })[] = signed.map((s, i) => ({
    hash: kit.digest(s.order),
    owner: s.order.owner,
    side: s.order.side,
    energyWh: s.order.energyWh,
    limitPrice: s.order.limitPrice,
    seq: i,
    node: book[i]!.home < 2 ? 'tx-a' : 'tx-b',
    signed: s,
  }))
  const outcome = clearHierarchical(orders, topology, { intervalSeconds: 900, pricing })
  const trades = outcome.trades.map((t) => ({ ...t, price: t.buyerPrice }))
  // Each seller's meter shows some share of what it sold (more than all of it, sometimes).
  const sold = new Map<string, number>()
  for (const t of trades) sold.set(t.seller.toLowerCase(), (sold.get(t.seller.toLowerCase()) ?? 0) + t.energyWh)
  const readings = new Map<string, SignedMeterReading>()
  for (const [i, key] of keys.entries()) {
    const owner = kit.address(key).toLowerCase()
    const soldWh = sold.get(owner)
    if (soldWh !== undefined) readings.set(owner, await kit.reading(key, kit.address(key), interval, Math.floor(soldWh * exportShare[i]!)))
  }
  const batch = buildSettlementBatch(trades, new Map(orders.map((o) => [o.hash as string, o])), readings)
  return { interval, batch, orders }
}

async function allBalances() {
  const owners = [...chain.homeKeys.map((k) => kit.address(k)), chain.feeRecipient]
  return new Map(await Promise.all(owners.map(async (o) => [o.toLowerCase(), await kit.balance(o)] as const)))
}

const drawnOrder = fc.record({
  home: fc.integer({ min: 0, max: 3 }),
  side: fc.constantFrom<0 | 1>(0, 1),
  energyWh: fc.integer({ min: 1, max: 400 }),
  limitPrice: fc.integer({ min: 50_000, max: 350_000 }),
})

describe('settlement of what the engine clears (fast-check, on anvil)', () => {
  it("accepts the engine's batch for random books, moves balances exactly as previewed, and keeps escrow plus fees equal to the tokens held", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(drawnOrder, { minLength: 2, maxLength: 10 }),
        fc.constantFrom<PricingRule>('pay-as-clear', 'pay-as-bid'),
        fc.array(fc.double({ min: 0, max: 1.2, noNaN: true }), { minLength: 4, maxLength: 4 }),
        async (book, pricing, exportShare) => {
          const { interval, batch } = await clearAndBatch(book, pricing, exportShare)
          fc.pre(batch.fills.length > 0)
          const before = await allBalances()
          const receipt = await kit.settle(interval, batch)
          expect(receipt.status).toBe('success')
          const after = await allBalances()
          const preview = previewSettlement(batch, BigInt(chain.deployment.imbalancePrice))
          for (const [owner, balance] of after) {
            const expected = (before.get(owner) ?? 0n) + (preview.deltas.get(owner) ?? 0n) + (owner === chain.feeRecipient.toLowerCase() ? preview.fees : 0n)
            expect(balance).toBe(expected)
          }
          const held = await chain.publicClient.readContract({ address: chain.deployment.token, abi: devStablecoinAbi, functionName: 'balanceOf', args: [chain.deployment.settlement] })
          expect([...after.values()].reduce((a, b) => a + b, 0n)).toBe(held)
        },
      ),
      { numRuns: 20 },
    )
  })
})

describe('differential: the engine result nudged by one unit where a limit binds', () => {
  /** Every way of moving one binding number of a batch by one unit past its limit. */
  function nudges(batch: SettlementBatch): { what: string; batch: SettlementBatch; error: string }[] {
    const out: { what: string; batch: SettlementBatch; error: string }[] = []
    const filledSoFar = new Map<string, bigint>()
    batch.fills.forEach((f, i) => {
      const key = `${f.owner}:${f.nonce}:${f.side}`
      const total = (filledSoFar.get(key) ?? 0n) + f.filledWh
      filledSoFar.set(key, total)
      const withFill = (patch: Partial<typeof f>) => ({ ...batch, fills: batch.fills.map((g, j) => (j === i ? { ...g, ...patch } : g)) })
      if (f.side === 0 && f.price === f.limitPrice) out.push({ what: `buy fill ${i} price +1`, batch: withFill({ price: f.price + 1n }), error: 'PriceOutsideLimit' })
      if (f.side === 1 && f.price === f.limitPrice) out.push({ what: `sell fill ${i} price -1`, batch: withFill({ price: f.price - 1n }), error: 'PriceOutsideLimit' })
      if (total === f.energyWh) out.push({ what: `fill ${i} energy +1`, batch: withFill({ filledWh: f.filledWh + 1n }), error: 'InvalidFillAmount' })
    })
    return out
  }

  it('is refused for a book where both limits and both quantities bind', async () => {
    // One seller and one buyer at the same limit on one transformer: price, quantity, everything binds.
    const { interval, batch } = await clearAndBatch(
      [
        { home: 0, side: 1, energyWh: 100, limitPrice: 200_000 },
        { home: 1, side: 0, energyWh: 100, limitPrice: 200_000 },
      ],
      'pay-as-clear',
      [1, 1, 1, 1],
    )
    const all = nudges(batch)
    // Each side's price and each side's quantity: four nudges, each refused for its own reason.
    expect(all.map((n) => n.error).sort()).toEqual(['InvalidFillAmount', 'InvalidFillAmount', 'PriceOutsideLimit', 'PriceOutsideLimit'])
    for (const n of all) await expect(kit.simulate(interval, n.batch), n.what).rejects.toThrow(new RegExp(n.error))
    expect((await kit.settle(interval, batch)).status).toBe('success')
  })

  it('is refused wherever a limit binds in random books, while the unnudged batch settles', async () => {
    let nudged = 0
    await fc.assert(
      fc.asyncProperty(fc.array(drawnOrder, { minLength: 2, maxLength: 8 }), fc.constantFrom<PricingRule>('pay-as-clear', 'pay-as-bid'), async (book, pricing) => {
        const { interval, batch } = await clearAndBatch(book, pricing, [1, 1, 1, 1])
        fc.pre(batch.fills.length > 0)
        for (const n of nudges(batch)) {
          nudged++
          await expect(kit.simulate(interval, n.batch), n.what).rejects.toThrow(new RegExp(n.error))
        }
        expect((await kit.settle(interval, batch)).status).toBe('success')
      }),
      { numRuns: 15 },
    )
    expect(nudged).toBeGreaterThan(0)
  })
})
