import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseSignature, serializeSignature, toHex, type Hex } from 'viem'
import { createWalletClient, http } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { ANVIL_DEV_KEYS } from '../../contracts/anvil.ts'
import { chainFor } from '../../contracts/deploy.ts'
import { energySettlementAbi } from '../../contracts/generated/artifacts.ts'
import { startCommunity, type TestCommunity } from '../helpers/community.ts'
import { waitFor } from '../helpers/wait-for.ts'

// Review finding 5: the market accepted a high-s (malleated) meter reading, building the batch threw,
// nothing caught it, the process exited, and on restart it queued the same interval again. Now intake
// refuses a malleable signature exactly as the contract does, one interval's settlement error never
// takes the market down, and an interval past its settlement window is marked expired and stops
// holding its members' escrow.

const INTERVAL = 4
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
let c: TestCommunity
beforeAll(async () => {
  // A short settlement window (> two intervals, as the contract requires), so an interval expires within the test.
  c = await startCommunity({ homes: 2, intervalSeconds: INTERVAL, settlementWindow: 3 * INTERVAL + 1 })
})
afterAll(async () => {
  await c?.close()
})

/** The other half of a signature: same r, s' = n - s, the other parity. Recovers to the same key under plain ecrecover. */
function malleate(signature: Hex): Hex {
  const { r, s, yParity } = parseSignature(signature)
  return serializeSignature({ r, s: toHex(SECP256K1_N - BigInt(s), { size: 32 }), yParity: 1 - yParity! })
}

/** One trade, 40 Wh from home 1 to home 2, in a fresh interval; resolves once it has cleared. */
async function trade() {
  const [seller, buyer] = c.homes as [typeof c.homes[number], typeof c.homes[number]]
  const interval = await c.freshInterval()
  await c.publish(seller, 'orders', await c.sign(c.orderOf(seller, { side: 1, energyWh: 40, limitPrice: 100_000 }), seller.key))
  await c.publish(buyer, 'orders', await c.sign(c.orderOf(buyer, { side: 0, energyWh: 40, limitPrice: 200_000 }), buyer.key))
  await waitFor('the interval cleared with a trade', () => (c.market.store.interval(interval)?.trades.length ?? 0) > 0, 3 * INTERVAL * 1000, 50)
  return { interval, seller, buyer }
}

describe('attack: a malleated meter reading crash-loops the market', () => {
  it('the high-s twin of a valid reading is refused; the valid one settles the interval; the market keeps clearing', async () => {
    const { interval, seller } = await trade()
    await waitFor('the interval delivered', () => Date.now() / 1000 >= interval + INTERVAL + 0.2, 3 * INTERVAL * 1000, 50)
    const valid = await c.reading(seller, interval, 40)
    await c.publish(seller, 'meter', { ...valid, signature: malleate(valid.signature) })
    await waitFor('the malleated reading refused', () => c.market.counters.get('meter_rejected.bad_signature') === 1, 5000, 20)
    await c.publish(seller, 'meter', valid)
    const settled = await waitFor('the interval settled', () => (c.market.store.interval(interval)?.settlement.status === 'settled' ? c.market.store.interval(interval) : undefined), 4 * INTERVAL * 1000)
    expect(settled.settlement.shortfalls).toEqual([])
    const cleared = c.market.counters.get('intervals_cleared')
    await c.freshInterval()
    expect(c.market.counters.get('intervals_cleared')).toBeGreaterThan(cleared)
  })

  it('an interval that cannot settle within its window is marked expired, and its escrow is free again', async () => {
    const guardian = createWalletClient({ account: privateKeyToAccount(ANVIL_DEV_KEYS[0]), chain: chainFor(c.chain.deployment.chainId, c.chain.anvil.rpcUrl), transport: http(c.chain.anvil.rpcUrl) })
    const pause = async (paused: boolean) =>
      c.chain.publicClient.waitForTransactionReceipt({ hash: await guardian.writeContract({ address: c.chain.deployment.settlement, abi: energySettlementAbi, functionName: 'setPaused', args: [paused] }) })
    await pause(true) // settlement refused until the window has closed
    try {
      const { interval, buyer } = await trade()
      // While the trade is unsettled it holds the buyer's escrow: a buy of the whole escrow is refused.
      const escrow = await c.chain.publicClient.readContract({ address: c.chain.deployment.settlement, abi: energySettlementAbi, functionName: 'balanceOf', args: [buyer.address] })
      const wholeEscrow = async () => c.sign(c.orderOf(buyer, { side: 0, energyWh: Number(escrow / 1000n), limitPrice: 1_000_000 }), buyer.key)
      expect(await c.market.submitOrder(JSON.stringify(await wholeEscrow()), { mqttAgentId: buyer.agentId })).toMatchObject({ ok: false, reason: 'insufficient_collateral' })
      const expired = await waitFor('the interval expired', () => (c.market.store.interval(interval)?.settlement.status === 'expired' ? c.market.store.interval(interval) : undefined), 8 * INTERVAL * 1000)
      expect(expired.settlement.error).toMatch(/settlement window closed/)
      await c.freshInterval()
      expect(await c.market.submitOrder(JSON.stringify(await wholeEscrow()), { mqttAgentId: buyer.agentId })).toMatchObject({ ok: true })
    } finally {
      await pause(false)
    }
  })
})
