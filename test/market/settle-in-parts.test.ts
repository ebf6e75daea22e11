import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWalletClient, http, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { chainFor } from '../../contracts/deploy.ts'
import { ANVIL_DEV_KEYS } from '../../contracts/anvil.ts'
import { energySettlementAbi } from '../../contracts/generated/artifacts.ts'
import { settleInParts, type PartsRun } from '../../market/service/settle-in-parts.ts'
import { buildSettlementBatch, type BatchTrade } from '../../market/service/settlement-batch.ts'
import { splitSettlement } from '../../market/service/settlement-parts.ts'
import { SettlementSubmitter } from '../../market/service/settlement-submitter.ts'
import { createLogger } from '../../platform/logger.ts'
import type { IntervalResult } from '../../protocol/messages.ts'
import type { SignedMeterReading } from '../../protocol/meter-reading.ts'
import { communityKey, type SignedOrder } from '../../protocol/order.ts'
import { startTestChain, type TestChain } from '../helpers/chain.ts'
import { settlementKit } from '../helpers/settlement.ts'
import { previewSettlement } from '../helpers/settlement-oracle.ts'

// An interval settled in parts must survive the market stopping between parts, and between sending a
// part and seeing its receipt: progress is stored, a restarted run continues with the next part, and a
// part already sent is awaited, never sent twice.

let chain: TestChain
let kit: ReturnType<typeof settlementKit>
const community = communityKey('restart-street')
const log = createLogger('test', 'silent')

beforeAll(async () => {
  chain = await startTestChain(6, { community: 'restart-street' })
  kit = settlementKit(chain, community)
})
afterAll(async () => {
  await chain?.anvil.stop()
})

/** Nine trades between three sellers and three buyers, each seller delivering all but 5 Wh. */
async function interval() {
  const at = await kit.slot()
  const orders = new Map<string, { signed: SignedOrder }>()
  const trades: BatchTrade[] = []
  const readings = new Map<string, SignedMeterReading>()
  const [sellers, buyers] = [chain.homeKeys.slice(0, 3), chain.homeKeys.slice(3)]
  for (const [i, s] of sellers.entries()) {
    const sell = await kit.sign(s, kit.order(s, 1, 30, 100_000, at))
    orders.set(kit.digest(sell.order), { signed: sell })
    for (const [j, b] of buyers.entries()) {
      const buy = await kit.sign(b, kit.order(b, 0, 10, 200_000, at, 1 + i))
      orders.set(kit.digest(buy.order), { signed: buy })
      trades.push({ buyOrder: kit.digest(buy.order), sellOrder: kit.digest(sell.order), node: 'street', energyWh: 10, price: 150_000 + j, sellerPrice: 150_000 })
    }
    readings.set(kit.address(s).toLowerCase(), await kit.reading(s, kit.address(s), at, 25))
  }
  return { at, orders, trades, readings }
}

function run(i: Awaited<ReturnType<typeof interval>>, submitter: PartsRun['submitter'], settlement: IntervalResult['settlement'], saved: IntervalResult['settlement'][]): PartsRun {
  const parts = splitSettlement(i.trades, (h) => i.orders.get(h)!.signed.order.owner, 3)
  return { communityKey: community, interval: i.at, settlement, parts, maxFills: 3, orders: i.orders, readings: i.readings, submitter, save: (s) => void saved.push(structuredClone(s)), log }
}

const operatorNonce = () => chain.publicClient.getTransactionCount({ address: chain.operator.account!.address })
const balances = () => Promise.all(chain.homeKeys.map((k) => kit.balance(kit.address(k))))

describe('settling an interval in parts across restarts', () => {
  it('continues with the next part after a stop between parts, and after a stop between sending a part and its receipt', async () => {
    const i = await interval()
    const whole = buildSettlementBatch(i.trades, i.orders, i.readings)
    const expected = previewSettlement(whole, BigInt(chain.deployment.imbalancePrice))
    const before = await balances()
    const nonceBefore = await operatorNonce()
    const real = new SettlementSubmitter(chain.anvil.rpcUrl, chain.deployment, ANVIL_DEV_KEYS[0], { retry: { attempts: 1, firstDelayMs: 1 } })

    // Run 1 stops (an RPC outage) when it is about to send the third part.
    let calls = 0
    const failing: PartsRun['submitter'] = {
      simulate: (...args) => real.simulate(...args),
      settle: (...args) => (++calls === 3 ? Promise.reject(new Error('RPC down')) : real.settle(...args)),
    }
    const saved: IntervalResult['settlement'][] = []
    const pending: IntervalResult['settlement'] = { status: 'pending', tx: null, error: null }
    const first = run(i, failing, pending, saved)
    expect(first.parts.length).toBeGreaterThan(3)
    await expect(settleInParts(first)).rejects.toThrow('RPC down')
    const afterStop = saved.at(-1)!
    expect(afterStop.parts?.settled).toHaveLength(2)

    // Run 2 sends the third part and stops before its receipt (as a process killed right after sending).
    const crashing: PartsRun['submitter'] = {
      simulate: (...args) => real.simulate(...args),
      settle: async (communityKey, at, batch, hooks, part) => {
        const outcome = await real.settle(communityKey, at, batch, hooks, part)
        throw new Error(`killed after sending ${outcome.tx}`)
      },
    }
    await expect(settleInParts(run(i, crashing, afterStop, saved))).rejects.toThrow('killed after sending')
    const afterCrash = saved.at(-1)!
    expect(afterCrash).toMatchObject({ status: 'submitted', tx: expect.stringMatching(/^0x/) })
    expect(afterCrash.parts?.settled).toHaveLength(2)

    // Run 3 waits for that transaction instead of sending the part again, then settles the rest.
    const final = await settleInParts(run(i, real, afterCrash, saved))
    expect(final.kind).toBe('done')
    const settlement = (final as { settlement: IntervalResult['settlement'] }).settlement
    expect(settlement.status).toBe('settled')
    expect(settlement.parts?.settled.map((p) => p.tx)).toContain(afterCrash.tx)
    expect(settlement.parts?.settled).toHaveLength(first.parts.length)
    // One transaction per part, none twice.
    expect((await operatorNonce()) - nonceBefore).toBe(first.parts.length)
    expect(await chain.publicClient.readContract({ address: chain.deployment.settlement, abi: energySettlementAbi, functionName: 'intervalSettled', args: [community, BigInt(i.at)] })).toBe(true)
    const after = await balances()
    for (const [n, key] of chain.homeKeys.entries()) {
      expect(after[n]! - before[n]!).toBe(expected.deltas.get(kit.address(key).toLowerCase()) ?? 0n)
    }
    // Each seller sold 30 Wh and delivered 25 Wh over the whole interval.
    expect(settlement.shortfalls).toHaveLength(3)
    for (const s of settlement.shortfalls!) expect(s).toMatchObject({ soldWh: 30, deliveredWh: 25 })
  })

  it('closes the interval with an empty last part when every trade of the last part was left out', async () => {
    const i = await interval()
    // The last part's seller cancels every order on chain before settlement.
    const parts = splitSettlement(i.trades, (h) => i.orders.get(h)!.signed.order.owner, 3)
    const lastSeller = i.orders.get(parts.at(-1)!.trades[0]!.sellOrder)!.signed.order.owner
    expect(parts.at(-1)!.trades.every((t) => i.orders.get(t.sellOrder)!.signed.order.owner === lastSeller)).toBe(true)
    const key = chain.homeKeys.find((k) => kit.address(k) === lastSeller)! as Hex
    const wallet = createWalletClient({ account: privateKeyToAccount(key), chain: chainFor(chain.deployment.chainId, chain.anvil.rpcUrl), transport: http(chain.anvil.rpcUrl) })
    await chain.publicClient.waitForTransactionReceipt({ hash: await wallet.writeContract({ address: chain.deployment.settlement, abi: energySettlementAbi, functionName: 'cancelUpTo', args: [2n ** 64n - 1n] }) })
    const real = new SettlementSubmitter(chain.anvil.rpcUrl, chain.deployment, ANVIL_DEV_KEYS[0], { retry: { attempts: 1, firstDelayMs: 1 } })
    const final = await settleInParts(run(i, real, { status: 'pending', tx: null, error: null }, []))
    const settlement = (final as { settlement: IntervalResult['settlement'] }).settlement
    expect(settlement.status).toBe('settled')
    expect(settlement.dropped?.every((d) => d.owner.toLowerCase() === lastSeller.toLowerCase())).toBe(true)
    expect(settlement.dropped?.length).toBeGreaterThan(0)
    expect(settlement.parts?.settled.at(-1)).toMatchObject({ fills: 0, tx: expect.stringMatching(/^0x/) })
    expect(await chain.publicClient.readContract({ address: chain.deployment.settlement, abi: energySettlementAbi, functionName: 'intervalSettled', args: [community, BigInt(i.at)] })).toBe(true)
  })
})
