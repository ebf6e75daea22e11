import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeFunctionData, type Hex } from 'viem'
import { energySettlementAbi } from '../../contracts/generated/artifacts.ts'
import { buildSettlementBatch, encodeSettlementBatch } from '../../market/service/settlement-batch.ts'
import type { SignedMeterReading } from '../../protocol/meter-reading.ts'
import type { SignedOrder } from '../../protocol/order.ts'
import { startCommunity, type TestCommunity } from '../helpers/community.ts'
import { previewSettlement } from '../helpers/settlement-oracle.ts'
import { waitFor } from '../helpers/wait-for.ts'

// Review finding 8, through the real market: an interval whose settlement does not fit in a block.
// Before, the market sent the whole interval as one transaction, which no block could take, so the
// interval never settled (the estimate fails; the market retried until the window closed). Now the
// market sizes parts from the chain's block gas limit and settles the interval part by part.

const INTERVAL = 6
/** Small enough that the interval below cannot settle in one transaction. */
const BLOCK_GAS_LIMIT = 300_000n
let c: TestCommunity
beforeAll(async () => {
  c = await startCommunity({ homes: 6, intervalSeconds: INTERVAL })
})
afterAll(async () => {
  await c?.close()
})

describe('attack: more fills in one interval than one block can settle', () => {
  it('the market settles the interval in parts that each fit, and every home is paid as the rules say', { timeout: 120_000 }, async () => {
    const sellers = c.homes.slice(0, 3)
    const buyers = c.homes.slice(3)
    await c.chain.publicClient.request({ method: 'evm_setBlockGasLimit' as never, params: [`0x${BLOCK_GAS_LIMIT.toString(16)}`] as never })
    const balance = (address: Hex) => c.chain.publicClient.readContract({ address: c.chain.deployment.settlement, abi: energySettlementAbi, functionName: 'balanceOf', args: [address] })
    const before = new Map(await Promise.all(c.homes.map(async (h) => [h.address.toLowerCase(), await balance(h.address)] as const)))
    const feesBefore = await balance(c.chain.feeRecipient)

    const interval = await c.freshInterval()
    const signed = new Map<string, SignedOrder>()
    // Five orders of 10 Wh from each of three sellers and three buyers: 30 fills, 15 trades.
    for (let n = 0; n < 5; n++) {
      for (const [home, side, limitPrice] of [...sellers.map((h) => [h, 1, 100_000] as const), ...buyers.map((h) => [h, 0, 200_000] as const)]) {
        const order = await c.sign(c.orderOf(home, { side, energyWh: 10, limitPrice }), home.key)
        await c.publish(home, 'orders', order)
      }
    }
    const accepted = await waitFor('thirty orders accepted', () => (c.market.store.ordersFor(interval).length === 30 ? c.market.store.ordersFor(interval) : undefined), 3000, 20)
    for (const o of accepted) signed.set(o.hash.toLowerCase(), o.signed)
    const cleared = await waitFor('the interval cleared', () => c.market.store.interval(interval), 3 * INTERVAL * 1000)
    expect(cleared.trades.reduce((n, t) => n + t.energyWh, 0)).toBe(150)

    // Sellers deliver 50, 50 and 35 Wh.
    await waitFor('the interval delivered', () => Date.now() / 1000 >= interval + INTERVAL + 0.2, 3 * INTERVAL * 1000, 50)
    const readings = new Map<string, SignedMeterReading>()
    for (const [home, exportedWh] of [[sellers[0]!, 50], [sellers[1]!, 50], [sellers[2]!, 35]] as const) {
      const reading = await c.reading(home, interval, exportedWh)
      readings.set(home.address.toLowerCase(), reading)
      await c.publish(home, 'meter', reading)
    }

    // The whole interval in one transaction: more gas than a block holds.
    const orders = new Map([...signed].map(([hash, s]) => [hash, { signed: s }]))
    const whole = buildSettlementBatch(cleared.trades.map((t) => ({ ...t, buyOrder: t.buyOrder.toLowerCase() as Hex, sellOrder: t.sellOrder.toLowerCase() as Hex })), orders, readings)
    expect(whole.fills).toHaveLength(30)
    const data = encodeFunctionData({ abi: energySettlementAbi, functionName: 'settleInterval', args: [c.market.communityKey, BigInt(interval), ...encodeSettlementBatch(whole)] })
    await expect(c.chain.publicClient.estimateGas({ account: c.chain.operator.account!, to: c.chain.deployment.settlement, data })).rejects.toThrow()

    const settled = await waitFor('the interval settled', () => {
      const r = c.market.store.interval(interval)
      return r?.settlement.status === 'settled' ? r : undefined
    }, 60_000, 100)
    const parts = settled.settlement.parts!
    expect(parts.count).toBeGreaterThan(1)
    expect(parts.settled).toHaveLength(parts.count)
    for (const part of parts.settled) {
      const receipt = await c.chain.publicClient.getTransactionReceipt({ hash: part.tx! })
      expect(receipt.status).toBe('success')
      expect(receipt.gasUsed).toBeLessThan(BLOCK_GAS_LIMIT)
    }
    expect(await c.chain.publicClient.readContract({ address: c.chain.deployment.settlement, abi: energySettlementAbi, functionName: 'intervalSettled', args: [c.market.communityKey, BigInt(interval)] })).toBe(true)

    // Every balance moved as the rules say for the interval as a whole (the TypeScript oracle).
    const preview = previewSettlement(whole, BigInt(c.chain.deployment.imbalancePrice))
    for (const home of c.homes) {
      expect((await balance(home.address)) - before.get(home.address.toLowerCase())!).toBe(preview.deltas.get(home.address.toLowerCase()) ?? 0n)
    }
    expect((await balance(c.chain.feeRecipient)) - feesBefore).toBe(preview.fees)
    // The short seller is reported once, over the whole interval.
    expect(settled.settlement.shortfalls).toEqual([expect.objectContaining({ seller: sellers[2]!.address, soldWh: 50, deliveredWh: 35 })])
  })
})
