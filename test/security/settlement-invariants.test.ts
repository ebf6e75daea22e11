import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { createWalletClient, http, parseEventLogs, parseSignature, signatureToCompactSignature, type Address, type Hex, type TransactionReceipt } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { ANVIL_DEV_KEYS } from '../../contracts/anvil.ts'
import { chainFor } from '../../contracts/deploy.ts'
import { devStablecoinAbi, energySettlementAbi } from '../../contracts/generated/artifacts.ts'
import { buildSettlementBatch, encodeCarried, encodeSettlementBatch, type BuiltBatch } from '../../market/service/settlement-batch.ts'
import type { SignedMeterReading } from '../../protocol/meter-reading.ts'
import { communityKey, type SignedOrder } from '../../protocol/order.ts'
import { startTestChain, type TestChain } from '../helpers/chain.ts'
import { settlementKit } from '../helpers/settlement.ts'
import { hostileStep, partsOf, type Step } from './hostile-operator.ts'

// The contract's promises under a hostile operator, checked after every step of random sequences of
// deposits, withdrawals, cancellations and settlement batches that the operator builds from honest
// members' signed orders and from sybil accounts it controls. A meter data hub signs true readings;
// honest sellers post theirs on chain, so leaving them out of a batch changes nothing.
// Batches go in one transaction or in parts, the operator choosing the cuts, whom to carry and which
// readings to add. After every step:
// - the stablecoin the contract holds equals the sum of all balances;
// - no honest buyer pays more than its signed limit for the energy its sellers' readings show delivered;
// - no honest seller that delivered is paid less than its limit;
// - no honest member's balance moves without its own signature (a fill, deposit or withdrawal);
// - no order is filled past its signed energy, and no seller credited with more energy than its
//   reading shows, over all parts of its interval.
// The delivered energy is worked out here, plainly, from the rule in EnergySettlement.sol: a seller's
// reading is given to its trades in batch order.

const HONEST = 3
const SYBILS = 3
let chain: TestChain
let kit: ReturnType<typeof settlementKit>
let hubKey: Hex
const community = communityKey('invariant-street')
const sybilKeys = Array.from({ length: SYBILS }, () => generatePrivateKey())
let keys: Hex[]
let owners: Address[]
let nonceOf: bigint[]
/** Batches the contract took: the property must have exercised real settlements, not only refusals. */
let settledBatches = 0
/** Of which sent in parts. */
let settledInParts = 0

beforeAll(async () => {
  hubKey = generatePrivateKey()
  chain = await startTestChain(HONEST, { community: 'invariant-street', meterSigner: privateKeyToAccount(hubKey).address })
  kit = settlementKit(chain, community)
  keys = [...chain.homeKeys, ...sybilKeys]
  owners = keys.map((k) => privateKeyToAccount(k).address)
  nonceOf = keys.map(() => 1n)
  for (const key of sybilKeys) await chain.publicClient.request({ method: 'anvil_setBalance' as never, params: [privateKeyToAccount(key).address, '0xde0b6b3a7640000'] as never })
})
afterAll(async () => {
  await chain?.anvil.stop()
})

const viemChain = () => chainFor(chain.deployment.chainId, chain.anvil.rpcUrl)
const walletOf = (key: Hex) => createWalletClient({ account: privateKeyToAccount(key), chain: viemChain(), transport: http(chain.anvil.rpcUrl) })
const settlement = () => chain.deployment.settlement
/** Sends a transaction; its receipt, or null when it reverts (estimation refuses it). */
async function attempt(send: () => Promise<Hex>): Promise<TransactionReceipt | null> {
  try {
    const receipt = await chain.publicClient.waitForTransactionReceipt({ hash: await send() })
    return receipt.status === 'success' ? receipt : null
  } catch {
    return null
  }
}
async function balances(): Promise<bigint[]> {
  return Promise.all([...owners, chain.feeRecipient].map((o) => kit.balance(o)))
}
async function held(): Promise<bigint> {
  return chain.publicClient.readContract({ address: chain.deployment.token, abi: devStablecoinAbi, functionName: 'balanceOf', args: [settlement()] })
}
const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b

const step = hostileStep(HONEST + SYBILS)

/** Runs one step and checks every invariant after it. */
async function run(s: Step): Promise<void> {
  const before = await balances()
  let ownFill = new Set<number>() // honest members whose own signature the step used
  if (s.kind === 'deposit') {
    const key = keys[s.who]!
    if (s.who >= HONEST) {
      const minter = walletOf(ANVIL_DEV_KEYS[0])
      await chain.publicClient.waitForTransactionReceipt({ hash: await minter.writeContract({ address: chain.deployment.token, abi: devStablecoinAbi, functionName: 'mint', args: [owners[s.who]!, BigInt(s.amount)] }) })
    }
    const wallet = walletOf(key)
    await attempt(() => wallet.writeContract({ address: chain.deployment.token, abi: devStablecoinAbi, functionName: 'approve', args: [settlement(), BigInt(s.amount)] }))
    await attempt(() => wallet.writeContract({ address: settlement(), abi: energySettlementAbi, functionName: 'deposit', args: [BigInt(s.amount)] }))
    ownFill = new Set([s.who])
  } else if (s.kind === 'requestWithdrawal') {
    await attempt(() => walletOf(keys[s.who]!).writeContract({ address: settlement(), abi: energySettlementAbi, functionName: 'requestWithdrawal', args: [BigInt(s.amount)] }))
  } else if (s.kind === 'withdraw') {
    await attempt(() => walletOf(keys[s.who]!).writeContract({ address: settlement(), abi: energySettlementAbi, functionName: 'withdraw' }))
    ownFill = new Set([s.who])
  } else if (s.kind === 'warp') {
    await chain.publicClient.request({ method: 'evm_increaseTime' as never, params: [`0x${(s.hours * 3600).toString(16)}`] as never })
    await chain.publicClient.request({ method: 'evm_mine' as never, params: [] as never })
  } else if (s.kind === 'cancel') {
    nonceOf[s.who]! += 1n
    await attempt(() => walletOf(keys[s.who]!).writeContract({ address: settlement(), abi: energySettlementAbi, functionName: 'cancelUpTo', args: [nonceOf[s.who]!] }))
  } else {
    ownFill = await settle(s, before)
  }
  const after = await balances()
  // The stablecoin the contract holds is exactly everyone's escrow.
  expect(after.reduce((a, b) => a + b, 0n)).toBe(await held())
  // An honest balance moves only by the member's own action or a fill it signed.
  for (let h = 0; h < HONEST; h++) if (!ownFill.has(h)) expect(after[h], `honest member ${h} moved without its signature`).toBe(before[h])
}

/** One batch from the hostile operator; checks the buyer and seller bounds when it settles. */
async function settle(s: Extract<Step, { kind: 'settle' }>, before: bigint[]): Promise<Set<number>> {
  const interval = await kit.slot()
  const signed: SignedOrder[] = []
  for (const o of s.orders) {
    const nonce = o.staleNonce ? nonceOf[o.who]! - 1n : nonceOf[o.who]!
    const signer = o.forged ? sybilKeys[0]! : keys[o.who]!
    signed.push(await kit.sign(signer, { ...kit.order(keys[o.who]!, o.side, o.energyWh, o.limitPrice, interval), nonce: Number(nonce) }))
  }
  const buys = signed.map((_, i) => i).filter((i) => s.orders[i]!.side === 0)
  const sells = signed.map((_, i) => i).filter((i) => s.orders[i]!.side === 1)
  if (buys.length === 0 || sells.length === 0) return new Set()
  const trades = s.trades.map((t) => {
    const buy = buys[t.buy % buys.length]!
    const sell = sells[t.sell % sells.length]!
    const [price, sellerPrice] = t.atLimits ? [s.orders[buy]!.limitPrice, s.orders[sell]!.limitPrice] : [t.price, Math.max(0, t.price - t.sellerDiscount)]
    return { buy, sell, energyWh: t.energyWh, price, sellerPrice }
  })
  const hashes = signed.map((o) => kit.digest(o.order))
  const orders = new Map(signed.map((o, i) => [hashes[i] as string, { signed: o }]))
  // The hub signs the truth for everyone; the operator picks which readings go in the batch, and
  // honest sellers may have posted theirs on chain already.
  const readings = new Map<string, SignedMeterReading>()
  const posted = new Set<number>()
  for (let w = 0; w < HONEST + SYBILS; w++) {
    const reading = await kit.reading(hubKey, owners[w]!, interval, s.exports[w]!)
    if (s.inBatch[w]) readings.set(owners[w]!.toLowerCase(), reading)
    if (w < HONEST && s.honestPost && sells.some((i) => s.orders[i]!.who === w)) {
      const { r, yParityAndS } = signatureToCompactSignature(parseSignature(reading.signature))
      await attempt(() => walletOf(keys[w]!).writeContract({ address: settlement(), abi: energySettlementAbi, functionName: 'postMeterReading', args: [community, BigInt(interval), owners[w]!, BigInt(s.exports[w]!), 0n, r, yParityAndS] }))
      posted.add(w)
    }
  }
  const batchTrades = trades.map((t) => ({ buyOrder: hashes[t.buy]!, sellOrder: hashes[t.sell]!, node: 'street', energyWh: t.energyWh, price: t.price, sellerPrice: t.sellerPrice }))
  const parts = s.parts ? partsOf(s.parts, batchTrades, orders, readings) : [{ batch: buildSettlementBatch(batchTrades, orders, readings), carried: null }]
  // Each part the contract took, in order; a refused part changes nothing.
  const settled: { batch: BuiltBatch; receipt: TransactionReceipt }[] = []
  for (const part of parts) {
    const [fills, tradeBytes, readingBytes] = encodeSettlementBatch(part.batch)
    const receipt = await attempt(() =>
      part.carried
        ? chain.operator.writeContract({ address: settlement(), abi: energySettlementAbi, functionName: 'settleIntervalPart', args: [community, BigInt(interval), fills, tradeBytes, readingBytes, encodeCarried(part.carried)], chain: chain.operator.chain, account: chain.operator.account! })
        : chain.operator.writeContract({ address: settlement(), abi: energySettlementAbi, functionName: 'settleInterval', args: [community, BigInt(interval), fills, tradeBytes, readingBytes], chain: chain.operator.chain, account: chain.operator.account! }),
    )
    if (receipt) settled.push({ batch: part.batch, receipt })
  }
  if (settled.length === 0) return new Set()
  settledBatches++
  if (s.parts) settledInParts++

  // Delivered energy per fill, by the rule: each seller's reading (in the batch of the first part it
  // trades in, else posted, else none) given to its trades in batch order, part after part.
  const left = new Map<string, bigint>()
  const fills = settled.flatMap(({ batch }) => batch.fills.map((f, i) => ({ f, order: batch.fillOrders[i]!, delivered: 0n })))
  let offset = 0
  for (const { batch } of settled) {
    for (const t of batch.trades) {
      const seller = batch.fills[t.sellFill]!.owner.toLowerCase()
      const w = owners.findIndex((o) => o.toLowerCase() === seller)
      const have = left.get(seller) ?? (batch.readings.some((r) => r.owner.toLowerCase() === seller) || posted.has(w) ? BigInt(s.exports[w]!) : 0n)
      const got = have < t.energyWh ? have : t.energyWh
      left.set(seller, have - got)
      fills[offset + t.buyFill]!.delivered += got
      fills[offset + t.sellFill]!.delivered += got
    }
    offset += batch.fills.length
  }
  // No order is filled beyond what its owner signed, over all parts.
  for (const [i, o] of s.orders.entries()) {
    const filled = fills.filter((f) => f.order === hashes[i]).reduce((n, f) => n + f.f.filledWh, 0n)
    expect(filled, `order ${i} filled past its signed energy`).toBeLessThanOrEqual(BigInt(o.energyWh))
  }
  // No seller is credited with more energy than its meter reading shows, over all parts: what its
  // trades sold less the shortfalls the contract charged it for (its events), against the hub's reading.
  const shortBy = new Map<string, bigint>()
  for (const { receipt } of settled) {
    for (const c of parseEventLogs({ abi: energySettlementAbi, eventName: 'ImbalanceCharged', logs: receipt.logs })) {
      shortBy.set(c.args.seller.toLowerCase(), (shortBy.get(c.args.seller.toLowerCase()) ?? 0n) + BigInt(c.args.shortfallWh))
    }
  }
  const soldBy = new Map<string, bigint>()
  for (const { batch } of settled) {
    for (const t of batch.trades) soldBy.set(batch.fills[t.sellFill]!.owner.toLowerCase(), (soldBy.get(batch.fills[t.sellFill]!.owner.toLowerCase()) ?? 0n) + t.energyWh)
  }
  for (const [seller, sold] of soldBy) {
    const w = owners.findIndex((o) => o.toLowerCase() === seller)
    expect(sold - (shortBy.get(seller) ?? 0n), `seller ${w} credited past its reading`).toBeLessThanOrEqual(BigInt(s.exports[w]!))
  }
  const after = await balances()
  const charges = settled.flatMap(({ receipt }) => parseEventLogs({ abi: energySettlementAbi, eventName: 'ImbalanceCharged', logs: receipt.logs }).map((l) => l.args))
  const used = new Set<number>()
  for (let h = 0; h < HONEST; h++) {
    const mine = fills.filter(({ f }) => f.owner.toLowerCase() === owners[h]!.toLowerCase())
    if (mine.length === 0) continue
    // Only an order the member signed itself lets its balance move.
    const signedItself = s.orders.some((o, i) => o.who === h && !o.forged && mine.some((f) => f.order === hashes[i]))
    if (!signedItself) continue
    used.add(h)
    const change = after[h]! - before[h]!
    const soldWh = mine.filter(({ f }) => f.side === 1).reduce((n, { f }) => n + f.filledWh, 0n)
    const buysOnly = mine.every(({ f }) => f.side === 0)
    if (buysOnly) {
      // Pays at most its limit for what was delivered to it; the imbalance charges it was paid, by
      // the contract's events, are apart from that.
      const compensated = charges.filter((c) => c.buyer.toLowerCase() === owners[h]!.toLowerCase()).reduce((n, c) => n + c.charged, 0n)
      const most = mine.reduce((n, { f, delivered }) => n + ceilDiv(delivered * f.limitPrice, 1000n), 0n)
      expect(compensated - change, `honest buyer ${h} paid past its limit`).toBeLessThanOrEqual(most)
    }
    const deliveredAll = mine.filter(({ f }) => f.side === 1).reduce((n, { delivered }) => n + delivered, 0n) === soldWh
    if (mine.every(({ f }) => f.side === 1) && deliveredAll) {
      const least = mine.reduce((n, { f }) => n + (f.filledWh * f.limitPrice) / 1000n, 0n)
      expect(change, `honest seller ${h} delivered and was paid below its limit`).toBeGreaterThanOrEqual(least)
    }
  }
  return used
}

describe('settlement invariants under a hostile operator (fast-check, on anvil)', () => {
  it('hold after every step of random deposits, withdrawals, cancellations and batches', async () => {
    let steps = 0
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 20, maxLength: 60 }), async (sequence) => {
        for (const s of sequence) {
          await run(s)
          steps++
        }
      }),
      { numRuns: Number(process.env.VPP_INVARIANT_RUNS ?? 40), endOnFailure: true },
    )
    expect(steps).toBeGreaterThan(1000)
    expect(settledBatches).toBeGreaterThan(20)
    expect(settledInParts).toBeGreaterThan(5)
  }, 600_000)
})
