import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWalletClient, http, type Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { ANVIL_DEV_KEYS } from '../../contracts/anvil.ts'
import { chainFor } from '../../contracts/deploy.ts'
import { devStablecoinAbi, energySettlementAbi } from '../../contracts/generated/artifacts.ts'
import { communityKey } from '../../protocol/order.ts'
import { startTestChain, type TestChain } from '../helpers/chain.ts'
import { settlementKit } from '../helpers/settlement.ts'

// Review finding 1: the operator signs sybil accounts; one "sells" the victim energy it never
// delivers, another sells a huge amount at a near-zero price to a third, and the victim's payment,
// pooled with the shortfall, went mostly to the third sybil. Now a buyer pays only for delivered
// energy, a short seller's charge goes to the buyer it left short, sellers must hold collateral for
// the whole charge, and a zero price is refused.

let chain: TestChain
let kit: ReturnType<typeof settlementKit>
const community = communityKey('victim-street')

beforeAll(async () => {
  chain = await startTestChain(1, { community: 'victim-street' }) // the victim: 1,000 dUSD in escrow
  kit = settlementKit(chain, community)
})
afterAll(async () => {
  await chain?.anvil.stop()
})

/** A sybil the operator controls, funded by the operator with `escrow` base units (0: none). */
async function sybil(escrow: bigint): Promise<Hex> {
  const key = generatePrivateKey()
  if (escrow === 0n) return key
  const viemChain = chainFor(chain.deployment.chainId, chain.anvil.rpcUrl)
  const transport = http(chain.anvil.rpcUrl)
  await chain.publicClient.request({ method: 'anvil_setBalance' as never, params: [kit.address(key), '0xde0b6b3a7640000'] as never })
  const operator = createWalletClient({ account: privateKeyToAccount(ANVIL_DEV_KEYS[0]), chain: viemChain, transport })
  const wallet = createWalletClient({ account: privateKeyToAccount(key), chain: viemChain, transport })
  const send = async (hash: Promise<Hex>) => chain.publicClient.waitForTransactionReceipt({ hash: await hash })
  await send(operator.writeContract({ address: chain.deployment.token, abi: devStablecoinAbi, functionName: 'mint', args: [kit.address(key), escrow] }))
  await send(wallet.writeContract({ address: chain.deployment.token, abi: devStablecoinAbi, functionName: 'approve', args: [chain.deployment.settlement, escrow] }))
  await send(wallet.writeContract({ address: chain.deployment.settlement, abi: energySettlementAbi, functionName: 'deposit', args: [escrow] }))
  return key
}

describe('attack: the operator drains a buyer through the imbalance rules with sybil sellers', () => {
  it('the shapes the attack needs are refused: an unfunded sybil seller, and a sale at price 0', async () => {
    const victimKey = chain.homeKeys[0]!
    const interval = await kit.slot()
    const victimBuy = await kit.sign(victimKey, kit.order(victimKey, 0, 100, 300_000, interval))
    const ghost = await sybil(0n)
    const ghostSell = await kit.sign(ghost, kit.order(ghost, 1, 100, 1, interval))
    await expect(kit.simulate(interval, kit.batch([{ buy: victimBuy, sell: ghostSell, energyWh: 100, price: 300_000 }]))).rejects.toThrow(/InsufficientCollateral/)

    const [seller, buyer] = [await sybil(10n ** 12n), await sybil(10n ** 12n)]
    const free = await kit.sign(seller, kit.order(seller, 1, 1_000_000_000_000, 0, interval))
    const taker = await kit.sign(buyer, kit.order(buyer, 0, 1_000_000_000_000, 0, interval))
    await expect(kit.simulate(interval, kit.batch([{ buy: taker, sell: free, energyWh: 1_000_000_000_000, price: 0 }]))).rejects.toThrow(/ZeroPrice/)
  })

  it('with funded sybils the victim pays nothing for undelivered energy and is paid the charge; the sybil buyer gets none of it', async () => {
    const victimKey = chain.homeKeys[0]!
    const victim = kit.address(victimKey)
    const interval = await kit.slot()
    // Sybil A sells the victim 100 Wh at the victim's limit and never delivers (no reading at all).
    const a = await sybil(40_000n) // exactly the collateral of 100 Wh at 0.40/kWh
    // Sybils B and C: a huge sale at the lowest price, B "delivering" none of it either.
    const b = await sybil(400_000_000_000n) // 10^9 Wh at 0.40/kWh
    const c = await sybil(1_000_000n)
    const victimBuy = await kit.sign(victimKey, kit.order(victimKey, 0, 100, 300_000, interval))
    const aSell = await kit.sign(a, kit.order(a, 1, 100, 300_000, interval))
    const bSell = await kit.sign(b, kit.order(b, 1, 1_000_000_000, 1, interval))
    const cBuy = await kit.sign(c, kit.order(c, 0, 1_000_000_000, 1, interval))
    const batch = kit.batch([
      { buy: victimBuy, sell: aSell, energyWh: 100, price: 300_000 },
      { buy: cBuy, sell: bSell, energyWh: 1_000_000_000, price: 1 },
    ])
    const before = await kit.balance(victim)
    const cBefore = await kit.balance(kit.address(c))
    const receipt = await kit.settle(interval, batch)
    expect(receipt.status).toBe('success')
    // Worked by hand: nothing delivered, so the victim pays nothing and receives A's whole charge,
    // 100 Wh at 0.40/kWh = 40,000 base units; C receives only B's charge, none of the victim's money.
    expect((await kit.balance(victim)) - before).toBe(40_000n)
    expect((await kit.balance(kit.address(c))) - cBefore).toBe(400_000_000_000n)
    expect(await kit.balance(kit.address(a))).toBe(0n)
  })
})
