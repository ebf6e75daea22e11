import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseSignature, signatureToCompactSignature, type Address, type Hex } from 'viem'
import type { SignedMeterReading } from '../../protocol/meter-reading.ts'
import { energySettlementAbi } from '../../contracts/generated/artifacts.ts'
import { communityKey, type SignedOrder } from '../../protocol/order.ts'
import { startTestChain, type TestChain } from '../helpers/chain.ts'
import { settlementKit, type KitTrade } from '../helpers/settlement.ts'
import { previewSettlement } from '../helpers/settlement-oracle.ts'

// Review finding 8: an interval may hold more fills than one block takes, and the contract could only
// settle an interval in one transaction, so a large interval could never settle. Now it settles in
// parts (settleIntervalPart, then settleInterval). A hostile operator must not be able to use parts to
// fill an order twice, count a seller's delivered energy twice, or reuse an owner. The old contract has
// no settleIntervalPart: every test here that settles a part fails against it.

let chain: TestChain
let kit: ReturnType<typeof settlementKit>
const community = communityKey('parts-street')
const rejects = (p: Promise<unknown>, error: string) => expect(p).rejects.toThrow(new RegExp(error))

beforeAll(async () => {
  chain = await startTestChain(8, { community: 'parts-street' })
  kit = settlementKit(chain, community)
})
afterAll(async () => {
  await chain?.anvil.stop()
})

const sellers = () => chain.homeKeys.slice(0, 4)
const buyers = () => chain.homeKeys.slice(4, 8)
const balances = async () => {
  const owners = [...chain.homeKeys.map(kit.address), chain.feeRecipient]
  return Object.fromEntries(await Promise.all(owners.map(async (o) => [o, await kit.balance(o)] as const)))
}
const request = (method: string, params: unknown[] = []) => chain.publicClient.request({ method: method as never, params: params as never })

/**
 * Sixteen trades between four sellers and four buyers, two orders each, every buy/sell pair once,
 * so one batch and its parts give each seller's reading to its trades in the same order.
 */
async function bigInterval() {
  const interval = await kit.slot()
  const plan = Array.from({ length: 16 }, (_, i) => ({ b: i % 4, bn: 1 + (Math.floor(i / 4) % 2), s: (i * 3 + Math.floor(i / 4)) % 4, sn: 1 + (i % 2), wh: 5 + i }))
  const totals = new Map<string, number>()
  for (const p of plan) {
    totals.set(`b${p.b}/${p.bn}`, (totals.get(`b${p.b}/${p.bn}`) ?? 0) + p.wh)
    totals.set(`s${p.s}/${p.sn}`, (totals.get(`s${p.s}/${p.sn}`) ?? 0) + p.wh)
  }
  const signed = new Map<string, SignedOrder>()
  for (const [key, wh] of totals) {
    const side = key[0] === 'b' ? 0 : 1
    const owner = (side === 0 ? buyers() : sellers())[Number(key[1])]!
    signed.set(key, await kit.sign(owner, kit.order(owner, side, wh + 3, side === 0 ? 200_000 : 100_000, interval, Number(key.split('/')[1]))))
  }
  const trades: KitTrade[] = plan.map((p) => ({ buy: signed.get(`b${p.b}/${p.bn}`)!, sell: signed.get(`s${p.s}/${p.sn}`)!, energyWh: p.wh, price: 150_000 }))
  const soldBy = (s: number) => plan.filter((p) => p.s === s).reduce((sum, p) => sum + p.wh, 0)
  // Seller 0 delivers everything, seller 1 two thirds, seller 2 nothing (reading 0), seller 3 sends no reading.
  const [s0, s1, s2] = sellers()
  const readings = [
    await kit.reading(s0!, kit.address(s0!), interval, soldBy(0)),
    await kit.reading(s1!, kit.address(s1!), interval, Math.floor((soldBy(1) * 2) / 3)),
    await kit.reading(s2!, kit.address(s2!), interval, 0),
  ]
  return { interval, trades, readings }
}

/** Puts a signed reading on chain with postMeterReading, as anyone may. */
async function postReading(signed: SignedMeterReading) {
  const { r, yParityAndS } = signatureToCompactSignature(parseSignature(signed.signature))
  const { owner, community: at, interval, exportedWh, importedWh } = signed.reading
  const hash = await chain.operator.writeContract({
    address: chain.deployment.settlement,
    abi: energySettlementAbi,
    functionName: 'postMeterReading',
    args: [at, BigInt(interval), owner, BigInt(exportedWh), BigInt(importedWh), r, yParityAndS],
    chain: chain.operator.chain,
    account: chain.operator.account!,
  })
  const receipt = await chain.publicClient.waitForTransactionReceipt({ hash })
  expect(receipt.status).toBe('success')
}

describe('attack: an interval too large for one transaction', () => {
  it('settles in parts exactly as one batch would, and closes only with the last part', async () => {
    const { interval, trades, readings } = await bigInterval()
    const whole = kit.batch(trades, readings)
    const parts = kit.parts(trades, readings, 4)
    expect(parts.length).toBeGreaterThan(3)
    expect(parts.some((p) => p.carried.length > 0)).toBe(true)
    expect(parts.every((p) => p.batch.fills.length <= 4)).toBe(true)

    const before = await balances()
    const snapshot = await request('evm_snapshot')
    await kit.settle(interval, whole)
    const afterWhole = await balances()
    await request('evm_revert', [snapshot])
    expect(await balances()).toEqual(before)

    for (const [k, part] of parts.entries()) {
      const receipt = part.last ? await kit.settle(interval, part.batch) : await kit.settlePart(interval, part.batch, part.carried)
      expect(receipt.status).toBe('success')
      const settled = await chain.publicClient.readContract({ address: chain.deployment.settlement, abi: energySettlementAbi, functionName: 'intervalSettled', args: [community, BigInt(interval)] })
      expect(settled).toBe(k === parts.length - 1)
    }
    expect(await balances()).toEqual(afterWhole)

    // And both are what the rules say (the independent TypeScript oracle), not merely equal.
    const preview = previewSettlement(whole, BigInt(chain.deployment.imbalancePrice))
    for (const key of chain.homeKeys) {
      const owner = kit.address(key)
      expect(afterWhole[owner]! - before[owner]!).toBe(preview.deltas.get(owner.toLowerCase()) ?? 0n)
    }
    expect(afterWhole[chain.feeRecipient]! - before[chain.feeRecipient]!).toBe(preview.fees)
    expect(preview.deliveries.some((d) => d.shortfallWh > 0)).toBe(true)
  })

  /** A buyer's order, and two sellers' orders, each 10 Wh, with readings showing both sellers delivered 10 Wh. */
  async function twoSales() {
    const interval = await kit.slot()
    const [s1, s2] = sellers()
    const [b1, b2, b3] = buyers()
    const sign = (key: Hex, side: 0 | 1, nonce = 1) => kit.sign(key, kit.order(key, side, 10, side === 0 ? 200_000 : 100_000, interval, nonce))
    return {
      interval,
      buy1: await sign(b1!, 0),
      buy2: await sign(b2!, 0),
      buy3: await sign(b3!, 0),
      sell1: await sign(s1!, 1),
      sell1b: await sign(s1!, 1, 2),
      sell1c: await sign(s1!, 1, 3),
      sell2: await sign(s2!, 1),
      reading1: await kit.reading(s1!, kit.address(s1!), interval, 10),
      reading2: await kit.reading(s2!, kit.address(s2!), interval, 10),
      s1: kit.address(s1!),
      b1: kit.address(b1!),
    }
  }
  const trade = (buy: SignedOrder, sell: SignedOrder): KitTrade => ({ buy, sell, energyWh: 10, price: 150_000 })

  it('refuses an order filled again in a later part beyond what its owner signed', async () => {
    const t = await twoSales()
    await kit.settlePart(t.interval, kit.batch([trade(t.buy1, t.sell1)], [t.reading1]), [t.b1])
    await rejects(kit.simulate(t.interval, kit.batch([trade(t.buy1, t.sell2)], [t.reading2])), 'InvalidFillAmount')
  })

  it('refuses an owner in a later part that was not carried out of the earlier one', async () => {
    const t = await twoSales()
    await kit.settlePart(t.interval, kit.batch([trade(t.buy1, t.sell1)], [t.reading1]), [])
    const again = kit.batch([trade(t.buy1, t.sell2)], [t.reading2])
    await rejects(kit.simulate(t.interval, again), 'OwnerAlreadySettled')
    await rejects(kit.simulatePart(t.interval, again, [t.b1]), 'OwnerAlreadySettled')
  })

  it("never counts a seller's delivered energy twice: its reading's remainder follows it into later parts", async () => {
    const t = await twoSales()
    // The seller delivered 10 Wh and sold 10 Wh to buyer 1 in part 1, then 10 Wh more to buyer 2.
    await kit.settlePart(t.interval, kit.batch([trade(t.buy1, t.sell1)], [t.reading1]), [t.s1])
    const before = await balances()
    await kit.settle(t.interval, kit.batch([trade(t.buy2, t.sell1b)], [t.reading1]))
    const after = await balances()
    const buyer2 = kit.address(buyers()[1]!)
    // Buyer 2 got nothing: it pays nothing and receives the imbalance charge (10 Wh at 0.40 per kWh).
    expect(after[buyer2]! - before[buyer2]!).toBe(4_000n)
    expect(after[t.s1]! - before[t.s1]!).toBe(-4_000n)
  })

  it("never lets a part the seller has no fills in reset its reading's remainder", async () => {
    const t = await twoSales()
    await kit.settlePart(t.interval, kit.batch([trade(t.buy1, t.sell1)], [t.reading1]), [t.s1])
    // Part 2 trades only seller 2, but carries seller 1 again with its full reading in the batch (the
    // market's builder would leave it out: a hostile operator adds it).
    const part2 = kit.batch([trade(t.buy2, t.sell2)], [t.reading2])
    part2.readings = [...part2.readings, kit.rawReading(t.reading1)].sort((x, y) => (BigInt(x.owner) < BigInt(y.owner) ? -1 : 1))
    expect(part2.readings).toHaveLength(2)
    await kit.settlePart(t.interval, part2, [t.s1])
    const before = await balances()
    await kit.settle(t.interval, kit.batch([trade(t.buy3, t.sell1c)], [t.reading1]))
    const after = await balances()
    const buyer3 = kit.address(buyers()[2]!)
    expect(after[buyer3]! - before[buyer3]!).toBe(4_000n)
    expect(after[t.s1]! - before[t.s1]!).toBe(-4_000n)
  })

  it("takes a continuing seller's posted reading once: later parts get only what it has left", async () => {
    const t = await twoSales()
    const seller = sellers()[0]!
    // The meter shows 15 Wh delivered, posted on chain; no batch carries it.
    await postReading(await kit.reading(seller, t.s1, t.interval, 15))
    await kit.settlePart(t.interval, kit.batch([trade(t.buy1, t.sell1)]), [t.s1])
    const before = await balances()
    await kit.settle(t.interval, kit.batch([trade(t.buy2, t.sell1b)]))
    const after = await balances()
    const buyer2 = kit.address(buyers()[1]!)
    // 5 Wh delivered at 0.15 (750 paid), 5 Wh short at 0.40 (2,000 received).
    expect(after[buyer2]! - before[buyer2]!).toBe(2_000n - 750n)
    expect(after[t.s1]! - before[t.s1]!).toBe(750n - 2_000n)
  })

  it('refuses an owner in parts of an earlier interval once it took part in parts of a later one', async () => {
    const early = await twoSales()
    const late = await twoSales()
    await kit.settlePart(late.interval, kit.batch([trade(late.buy1, late.sell1)], [late.reading1]), [])
    await rejects(kit.simulatePart(early.interval, kit.batch([trade(early.buy1, early.sell1)], [early.reading1]), []), 'OwnerInLaterInterval')
    // A whole interval that never went into parts is not held up by it.
    expect((await kit.settle(early.interval, kit.batch([trade(early.buy1, early.sell1)], [early.reading1]))).status).toBe('success')
  })

  it('refuses carried owners out of order, and a part of a settled interval', async () => {
    const t = await twoSales()
    const batch = kit.batch([trade(t.buy1, t.sell1)], [t.reading1])
    const [lo, hi] = [t.s1, t.b1].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)) as [Address, Address]
    await rejects(kit.simulatePart(t.interval, batch, [hi, lo]), 'CarriedNotSorted')
    await kit.settle(t.interval, batch)
    await rejects(kit.simulatePart(t.interval, kit.batch([trade(t.buy2, t.sell2)], [t.reading2]), []), 'IntervalAlreadySettled')
  })

  it('takes meter readings posted between parts, and none after the last', async () => {
    const t = await twoSales()
    await kit.settlePart(t.interval, kit.batch([trade(t.buy1, t.sell1)], [t.reading1]), [])
    await postReading(t.reading2)
    await kit.settle(t.interval, kit.batch([trade(t.buy2, t.sell2)]))
    await rejects(postReading(t.reading2), 'IntervalAlreadySettled')
  })
})

describe('attack: one contract promised to several communities', () => {
  it("refuses to settle or take readings for any community but the one it was deployed for", async () => {
    const t = await kit.slot()
    const [s] = sellers()
    const [b] = buyers()
    const elsewhere = communityKey('other-street')
    const sell = await kit.sign(s!, { ...kit.order(s!, 1, 10, 100_000, t), community: elsewhere })
    const buy = await kit.sign(b!, { ...kit.order(b!, 0, 10, 200_000, t), community: elsewhere })
    const batch = kit.batch([{ buy, sell, energyWh: 10, price: 150_000 }])
    await rejects(kit.simulateAt(elsewhere, t, batch), 'WrongCommunity')
    const reading = await kit.reading(s!, kit.address(s!), t, 10)
    await rejects(postReading({ ...reading, reading: { ...reading.reading, community: elsewhere } }), 'WrongCommunity')
    expect(await chain.publicClient.readContract({ address: chain.deployment.settlement, abi: energySettlementAbi, functionName: 'community' })).toBe(community)
  })
})
