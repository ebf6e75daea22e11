import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWalletClient, http } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { chainFor } from '../../contracts/deploy.ts'
import { energySettlementAbi } from '../../contracts/generated/artifacts.ts'
import type { IntervalResult } from '../../protocol/messages.ts'
import { startCommunity, type TestCommunity } from '../helpers/community.ts'
import { waitFor } from '../helpers/wait-for.ts'

// Review finding 6: a member whose orders were accepted calls cancelUpTo(2^64 - 1) before its
// interval settles. Every batch with its fills reverted (OrderCancelled), the market sent the same
// batch again at every gate closure until the window closed, and nobody in those intervals was paid.
// Now the market simulates the batch first, leaves out what the contract would refuse, and settles
// everyone else's trades in the same interval; and intake refuses the member's cancelled nonces.

const INTERVAL = 4
let c: TestCommunity
beforeAll(async () => {
  c = await startCommunity({ homes: 4, intervalSeconds: INTERVAL })
})
afterAll(async () => {
  await c?.close()
})

describe('attack: one member cancels every nonce on chain after its orders were accepted', () => {
  it("the interval still settles for everyone else, in the same interval; the member's trades are left out and its next orders refused", async () => {
    const [honestSeller, hostile, buyer, otherBuyer] = c.homes as [typeof c.homes[number], typeof c.homes[number], typeof c.homes[number], typeof c.homes[number]]
    const interval = await c.freshInterval()
    // Two sellers, one of them hostile, both selling to the same buyer; another pair trades alone.
    for (const [home, side, energyWh, limitPrice] of [
      [honestSeller, 1, 50, 100_000],
      [hostile, 1, 50, 100_000],
      [buyer, 0, 100, 200_000],
      [otherBuyer, 0, 30, 200_000],
    ] as const) {
      await c.publish(home, 'orders', await c.sign(c.orderOf(home, { side, energyWh, limitPrice }), home.key))
    }
    await waitFor('four orders accepted', () => c.market.store.ordersFor(interval).length === 4, 3000, 20)
    const cleared = await waitFor('the interval cleared', () => c.market.store.interval(interval), 3 * INTERVAL * 1000)
    expect(cleared.trades.map((t) => t.seller.toLowerCase())).toContain(hostile.address.toLowerCase())

    // The attack: after gate closure, before settlement.
    const wallet = createWalletClient({ account: privateKeyToAccount(hostile.key), chain: chainFor(c.chain.deployment.chainId, c.chain.anvil.rpcUrl), transport: http(c.chain.anvil.rpcUrl) })
    await c.chain.publicClient.waitForTransactionReceipt({ hash: await wallet.writeContract({ address: c.chain.deployment.settlement, abi: energySettlementAbi, functionName: 'cancelUpTo', args: [2n ** 64n - 1n] }) })
    // Both sellers deliver, and send their readings once the interval is over.
    await waitFor('the interval delivered', () => Date.now() / 1000 >= interval + INTERVAL + 0.2, 3 * INTERVAL * 1000, 50)
    for (const home of [honestSeller, hostile]) await c.publish(home, 'meter', await c.reading(home, interval, 50))

    const settled = await waitFor('the interval settled', () => {
      const r = c.market.store.interval(interval)
      return r?.settlement.status === 'settled' ? r : undefined
    }, 6 * INTERVAL * 1000)
    expect(settled.settlement.dropped?.map((d) => d.owner.toLowerCase())).toEqual([hostile.address.toLowerCase()])
    expect(settled.settlement.dropped?.[0]?.reason).toMatch(/^OrderCancelled/)
    // On chain: the honest seller was paid for its 50 Wh, the hostile one not at all.
    const receipt = await c.chain.publicClient.getTransactionReceipt({ hash: settled.settlement.tx! })
    const paid = async (address: `0x${string}`) =>
      (await c.chain.publicClient.readContract({ address: c.chain.deployment.settlement, abi: energySettlementAbi, functionName: 'balanceOf', args: [address], blockNumber: receipt.blockNumber })) -
      (await c.chain.publicClient.readContract({ address: c.chain.deployment.settlement, abi: energySettlementAbi, functionName: 'balanceOf', args: [address], blockNumber: receipt.blockNumber - 1n }))
    const honestTrades = settled.trades.filter((t: IntervalResult['trades'][number]) => t.seller.toLowerCase() === honestSeller.address.toLowerCase())
    expect(honestTrades.reduce((n, t) => n + t.energyWh, 0)).toBe(50)
    expect(await paid(honestSeller.address)).toBe(BigInt(Math.floor((50 * honestTrades[0]!.sellerPrice) / 1000)))
    expect(await paid(hostile.address)).toBe(0n)

    // Its next order, with any nonce it can sign, is refused at intake.
    await c.freshInterval()
    const outcome = await c.market.submitOrder(JSON.stringify(await c.sign(c.orderOf(hostile), hostile.key)), { mqttAgentId: hostile.agentId })
    expect(outcome).toMatchObject({ ok: false, reason: 'order_cancelled' })
  })
})
