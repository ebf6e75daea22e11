import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashTypedData, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { energySettlementAbi } from '../../contracts/generated/artifacts.ts'
import { signOrder } from '../../edge-agent/order-signer.ts'
import { communityKey, orderDomain, orderMessage, orderTypes, type Order } from '../../protocol/order.ts'
import { buyerPaysBaseUnits, sellerReceivesBaseUnits } from '../../protocol/units.ts'
import { startTestChain, type TestChain } from '../helpers/chain.ts'

let chain: TestChain
const community = communityKey('test-street')
let nextInterval = 1_900_000_000

beforeAll(async () => {
  chain = await startTestChain(3)
})
afterAll(async () => {
  await chain?.anvil.stop()
})

function order(key: Hex, side: 0 | 1, energyWh: number, limitPrice: number, interval: number, nonce = 1): Order {
  return { owner: privateKeyToAccount(key).address, community, interval, side, energyWh, limitPrice, nonce }
}

async function fill(key: Hex, o: Order, filledWh: number, price: number) {
  const signed = await signOrder(privateKeyToAccount(key), o, chain.deployment.chainId, chain.deployment.settlement)
  return { order: orderMessage(o), signature: signed.signature, filledWh: BigInt(filledWh), price: BigInt(price) }
}

const balance = (owner: `0x${string}`, blockNumber?: bigint) =>
  chain.publicClient.readContract({ address: chain.deployment.settlement, abi: energySettlementAbi, functionName: 'balanceOf', args: [owner], blockNumber })

async function settle(interval: number, fills: Awaited<ReturnType<typeof fill>>[]) {
  const hash = await chain.operator.writeContract({
    address: chain.deployment.settlement,
    abi: energySettlementAbi,
    functionName: 'settleInterval',
    args: [community, BigInt(interval), fills],
    chain: chain.operator.chain,
    account: chain.operator.account!,
  })
  return chain.publicClient.waitForTransactionReceipt({ hash })
}

async function expectRevert(interval: number, fills: Awaited<ReturnType<typeof fill>>[], error: string) {
  await expect(
    chain.publicClient.simulateContract({
      address: chain.deployment.settlement,
      abi: energySettlementAbi,
      functionName: 'settleInterval',
      args: [community, BigInt(interval), fills],
      account: chain.operator.account!,
    }),
  ).rejects.toThrow(new RegExp(error))
}

describe('EnergySettlement on anvil', () => {
  it("viem's EIP-712 hash of an order equals the contract's hashOrder", async () => {
    const o = order(chain.homeKeys[0]!, 1, 1234, 150_000, 1_800_000_000, 42)
    const onChain = await chain.publicClient.readContract({ address: chain.deployment.settlement, abi: energySettlementAbi, functionName: 'hashOrder', args: [orderMessage(o)] })
    const offChain = hashTypedData({ domain: orderDomain(chain.deployment.chainId, chain.deployment.settlement), types: orderTypes, primaryType: 'Order', message: orderMessage(o) })
    expect(onChain).toBe(offChain)
  })

  it('moves escrow by exactly the rounded amounts and pays the remainder to the fee recipient', async () => {
    const [sellerKey, buyerKey] = chain.homeKeys as [Hex, Hex]
    const interval = nextInterval++
    const sell = order(sellerKey, 1, 7, 100_000, interval)
    const buy = order(buyerKey, 0, 10, 333_333, interval)
    const seller = sell.owner
    const buyer = buy.owner
    const receipt = await settle(interval, [await fill(sellerKey, sell, 7, 333_333), await fill(buyerKey, buy, 7, 333_333)])
    expect(receipt.status).toBe('success')
    const before = receipt.blockNumber - 1n
    const paid = buyerPaysBaseUnits(7n, 333_333n)
    const received = sellerReceivesBaseUnits(7n, 333_333n)
    expect(paid - received).toBe(1n) // rounding dust
    expect((await balance(buyer, before)) - (await balance(buyer))).toBe(paid)
    expect((await balance(seller)) - (await balance(seller, before))).toBe(received)
    expect((await balance(chain.feeRecipient)) - (await balance(chain.feeRecipient, before))).toBe(paid - received)
  })

  it('refuses a fill whose signature is not by the owner (forged order)', async () => {
    const [sellerKey, buyerKey, otherKey] = chain.homeKeys as [Hex, Hex, Hex]
    const interval = nextInterval++
    const buy = order(buyerKey, 0, 10, 300_000, interval)
    const forged = await fill(otherKey, buy, 10, 200_000) // signed by someone else
    await expectRevert(interval, [await fill(sellerKey, order(sellerKey, 1, 10, 100_000, interval), 10, 200_000), forged], 'BadSignature')
  })

  it('refuses a price beyond a limit, an over-fill, unbalanced energy and a second settlement', async () => {
    const [sellerKey, buyerKey] = chain.homeKeys as [Hex, Hex]
    const interval = nextInterval++
    const sell = order(sellerKey, 1, 10, 100_000, interval)
    const buy = order(buyerKey, 0, 10, 200_000, interval)
    await expectRevert(interval, [await fill(sellerKey, sell, 10, 250_000), await fill(buyerKey, buy, 10, 250_000)], 'PriceOutsideLimit')
    await expectRevert(interval, [await fill(sellerKey, sell, 11, 150_000), await fill(buyerKey, buy, 11, 150_000)], 'InvalidFillAmount')
    await expectRevert(interval, [await fill(sellerKey, sell, 10, 150_000), await fill(buyerKey, buy, 9, 150_000)], 'EnergyNotConserved')
    const ok = [await fill(sellerKey, sell, 10, 150_000), await fill(buyerKey, buy, 10, 150_000)]
    expect((await settle(interval, ok)).status).toBe('success')
    await expectRevert(interval, ok, 'IntervalAlreadySettled')
  })

  it('settles an order cleared at two grid nodes at two prices, its signature checked once', async () => {
    const [sellerKey, nearKey, farKey] = chain.homeKeys as [Hex, Hex, Hex]
    const interval = nextInterval++
    const sell = order(sellerKey, 1, 100, 100_000, interval)
    const near = order(nearKey, 0, 40, 200_000, interval)
    const far = order(farKey, 0, 60, 300_000, interval)
    // 40 Wh to the neighbour at 150,000; 60 Wh across the feeder: buyer 210,000, seller 190,000.
    const sellFills = [await fill(sellerKey, sell, 40, 150_000), await fill(sellerKey, sell, 60, 190_000)]
    const receipt = await settle(interval, [...sellFills, await fill(nearKey, near, 40, 150_000), await fill(farKey, far, 60, 210_000)])
    expect(receipt.status).toBe('success')
    const before = receipt.blockNumber - 1n
    const moved = async (key: Hex) => (await balance(privateKeyToAccount(key).address)) - (await balance(privateKeyToAccount(key).address, before))
    expect(await moved(sellerKey)).toBe(sellerReceivesBaseUnits(40n, 150_000n) + sellerReceivesBaseUnits(60n, 190_000n))
    expect(await moved(nearKey)).toBe(-buyerPaysBaseUnits(40n, 150_000n))
    expect(await moved(farKey)).toBe(-buyerPaysBaseUnits(60n, 210_000n))
    const fee = (await balance(chain.feeRecipient)) - (await balance(chain.feeRecipient, before))
    expect(fee).toBe(buyerPaysBaseUnits(60n, 210_000n) - sellerReceivesBaseUnits(60n, 190_000n) + buyerPaysBaseUnits(40n, 150_000n) - sellerReceivesBaseUnits(40n, 150_000n))
  })

  it('refuses fills of one order that add up to more than it signed, or that are not consecutive', async () => {
    const [sellerKey, buyerKey] = chain.homeKeys as [Hex, Hex]
    const interval = nextInterval++
    const sell = order(sellerKey, 1, 50, 100_000, interval)
    const buy = order(buyerKey, 0, 100, 300_000, interval)
    await expectRevert(interval, [await fill(sellerKey, sell, 30, 150_000), await fill(sellerKey, sell, 30, 160_000), await fill(buyerKey, buy, 60, 200_000)], 'InvalidFillAmount')
    const split = [await fill(sellerKey, sell, 20, 150_000), await fill(buyerKey, buy, 40, 200_000), await fill(sellerKey, sell, 20, 150_000)]
    await expectRevert(interval, split, 'OrderAlreadyUsed')
  })
})
