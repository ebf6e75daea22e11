import { describe, expect, it } from 'vitest'
import { parseSignature, toHex, zeroAddress } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { ANVIL_DEV_KEYS } from '../../contracts/anvil.ts'
import { deployContracts } from '../../contracts/deploy.ts'
import { energySettlementAbi } from '../../contracts/generated/artifacts.ts'
import { communityKey } from '../../protocol/order.ts'
import { chain, community, kit, SECP256K1_N, settlementContractSuite } from '../helpers/settlement-contract.ts'

// Batches the settlement contract must refuse, each one on its own: whatever the operator builds, it can
// settle only what members signed.
const { keys, walletOf, fundedKey, simpleTrade, nextSlot, rejects } = settlementContractSuite()

describe('refused batches (each must revert)', () => {
  it('a forged signature', async () => {
    const { interval, sell, buy, reading, buyerKey } = await simpleTrade()
    const [, , otherKey] = keys()
    const forged = await kit.sign(otherKey, buy.order) // someone else signs the buyer's order
    expect(forged.order.owner).toBe(kit.address(buyerKey))
    await rejects(kit.simulate(interval, kit.batch([{ buy: forged, sell, energyWh: 10, price: 150_000 }], [reading])), 'BadSignature')
  })

  it('a signature for another chain', async () => {
    const { interval, sell, buy, reading, buyerKey } = await simpleTrade()
    const otherChain = await kit.sign(buyerKey, buy.order, { chainId: 1, settlement: chain.deployment.settlement })
    await rejects(kit.simulate(interval, kit.batch([{ buy: otherChain, sell, energyWh: 10, price: 150_000 }], [reading])), 'BadSignature')
  })

  it('a signature for another contract', async () => {
    const { interval, sell, buy, reading, buyerKey } = await simpleTrade()
    const otherContract = await kit.sign(buyerKey, buy.order, { chainId: chain.deployment.chainId, settlement: chain.deployment.token })
    await rejects(kit.simulate(interval, kit.batch([{ buy: otherContract, sell, energyWh: 10, price: 150_000 }], [reading])), 'BadSignature')
  })

  it('a high-s (malleated) signature', async () => {
    const { interval, sell, buy, reading } = await simpleTrade()
    const batch = kit.batch([{ buy, sell, energyWh: 10, price: 150_000 }], [reading])
    const { s, yParity } = parseSignature(buy.signature)
    // The same signature's twin (n - s, other parity) also verifies under plain ecrecover; EIP-2 forbids it.
    const highS = SECP256K1_N - BigInt(s)
    const fill = batch.fills.find((f) => f.side === 0)!
    fill.vs = toHex((BigInt(1 - yParity!) << 255n) | highS, { size: 32 })
    await rejects(kit.simulate(interval, batch), 'BadSignature')
  })

  it('an order replayed in a later interval', async () => {
    const { interval, sell, buy, reading } = await simpleTrade()
    await kit.settle(interval, kit.batch([{ buy, sell, energyWh: 5, price: 150_000 }], [reading]))
    const later = await nextSlot()
    // The operator re-uses both signed orders for the next interval: neither signature covers it.
    await rejects(kit.simulate(later, kit.batch([{ buy, sell, energyWh: 5, price: 150_000 }], [await kit.reading(keys()[0], sell.order.owner, later, 10)], later)), 'BadSignature')
  })

  it('an order used twice in the same batch', async () => {
    const { interval, sell, buy, reading } = await simpleTrade()
    // Fills of the lower-digest order on both sides of the other's: the second use of it is refused.
    const [low, high] = BigInt(kit.digest(sell.order)) < BigInt(kit.digest(buy.order)) ? [sell, buy] : [buy, sell]
    const fills = [kit.rawFill(low, 5, 150_000), kit.rawFill(high, 10, 150_000), kit.rawFill(low, 5, 150_000)]
    await rejects(kit.simulate(interval, { fills, trades: [], readings: [kit.rawReading(reading)] }), 'OrdersNotSorted')
  })

  it('an order of another community', async () => {
    const { interval, sell, buy, reading, buyerKey } = await simpleTrade()
    const elsewhere = await kit.sign(buyerKey, { ...buy.order, community: communityKey('other-street') })
    await rejects(kit.simulate(interval, kit.batch([{ buy: elsewhere, sell, energyWh: 10, price: 150_000 }], [reading])), 'BadSignature')
  })

  it('an over-fill', async () => {
    const { interval, sell, buy, reading } = await simpleTrade()
    await rejects(kit.simulate(interval, kit.batch([{ buy, sell, energyWh: 11, price: 150_000 }], [reading])), 'InvalidFillAmount')
  })

  it('a zero price', async () => {
    const { interval, buy, reading, sellerKey } = await simpleTrade()
    const free = await kit.sign(sellerKey, kit.order(sellerKey, 1, 10, 0, interval, 7))
    await rejects(kit.simulate(interval, kit.batch([{ buy, sell: free, energyWh: 10, price: 150_000 }], [reading])), 'ZeroPrice')
  })

  /** 10 Wh from a sell limited at 100,000 to a buy limited at 200,000, at these prices: must revert with `error`. */
  const refusesPrices = async (price: number, sellerPrice: number, error: string) => {
    const { interval, sell, buy, reading } = await simpleTrade(100_000, 200_000)
    await rejects(kit.simulate(interval, kit.batch([{ buy, sell, energyWh: 10, price, sellerPrice }], [reading])), error)
  }
  /** A well-formed batch of one trade, and where its buy fill is, for tampering with. */
  const tradeBatch = async () => {
    const { interval, sell, buy, reading } = await simpleTrade()
    const batch = kit.batch([{ buy, sell, energyWh: 10, price: 150_000 }], [reading])
    return { interval, batch, b: batch.fills.findIndex((f) => f.side === 0) }
  }

  it("a buyer's price above its limit", () => refusesPrices(200_001, 150_000, 'PriceOutsideLimit'))

  it("a seller's price below its limit", () => refusesPrices(150_000, 99_999, 'PriceOutsideLimit'))

  // Both prices within their limits, but the seller would be paid more than the buyer pays.
  it('a trade whose buyer pays less than its seller receives', () => refusesPrices(150_000, 190_000, 'InvalidTrade'))

  it("trades that do not add up to a fill's energy", async () => {
    const { interval, batch, b } = await tradeBatch()
    batch.fills[b]!.filledWh = 9n
    await rejects(kit.simulate(interval, batch), 'TradesDoNotMatchFill')
  })

  it('a trade between two buys, or naming a fill that is not there', async () => {
    const { interval, batch, b } = await tradeBatch()
    await rejects(kit.simulate(interval, { ...batch, trades: [{ buyFill: b, sellFill: b, energyWh: 10n }] }), 'InvalidTrade')
    await rejects(kit.simulate(interval, { ...batch, trades: [{ buyFill: b, sellFill: 2, energyWh: 10n }] }), 'InvalidTrade')
  })

  it('a second settlement of an interval', async () => {
    const { interval, sell, buy, reading } = await simpleTrade()
    const batch = kit.batch([{ buy, sell, energyWh: 10, price: 150_000 }], [reading])
    expect((await kit.settle(interval, batch)).status).toBe('success')
    await rejects(kit.simulate(interval, batch), 'IntervalAlreadySettled')
  })

  it('a settlement by anyone but the operator', async () => {
    const { interval, sell, buy, reading, sellerKey } = await simpleTrade()
    const batch = kit.batch([{ buy, sell, energyWh: 10, price: 150_000 }], [reading])
    await rejects(kit.simulate(interval, batch, privateKeyToAccount(sellerKey)), 'NotOperator')
  })

  it('a fee routed to another address: the operator cannot pocket the fees with a fill of its own', async () => {
    const { interval, sell, buy, reading } = await simpleTrade(100_000, 200_000)
    // The operator signs itself a sell to collect the fee; with no trade behind it, its fill is refused.
    const operatorKey = ANVIL_DEV_KEYS[0]
    const own = await kit.sign(operatorKey, kit.order(operatorKey, 1, 1, 1, interval))
    const batch = kit.batch([{ buy, sell, energyWh: 10, price: 200_000, sellerPrice: 150_000 }], [reading])
    const withOwn = { ...batch, fills: [...batch.fills, kit.rawFill(own, 1, 500_000)] }
    // (Appended last: its digest may sort before the others, so either refusal is the contract's.)
    await rejects(kit.simulate(interval, withOwn), 'TradesDoNotMatchFill|OrdersNotSorted')
    // The recipient is fixed at deployment and the ABI has no way to name another one.
    const settle = energySettlementAbi.find((e) => e.type === 'function' && e.name === 'settleInterval')!
    expect(settle.inputs.map((i) => i.name)).toEqual(['community_', 'interval', 'fills', 'trades', 'readings'])
    await rejects(deployContracts({ rpcUrl: chain.anvil.rpcUrl, community: 'test-street', deployerKey: ANVIL_DEV_KEYS[0], feeRecipient: zeroAddress, token: chain.deployment.token }), 'reverted|ZeroAddress')
  })

  it('a meter reading not signed by the meter signer', async () => {
    const { interval, sell, buy, sellerKey } = await simpleTrade()
    const [, , otherKey] = keys()
    const fake = await kit.reading(otherKey, kit.address(sellerKey), interval, 10)
    await rejects(kit.simulate(interval, kit.batch([{ buy, sell, energyWh: 10, price: 150_000 }], [fake])), 'BadMeterReading')
  })

  it('an order cancelled on chain with cancelUpTo', async () => {
    const [, buyerKey] = keys()
    const sellerKey = await fundedKey() // its own key: the cancellation must not touch other tests' orders
    const wallet = walletOf(sellerKey)
    const interval = await nextSlot()
    const sell = await kit.sign(sellerKey, kit.order(sellerKey, 1, 10, 100_000, interval, 1))
    const buy = await kit.sign(buyerKey, kit.order(buyerKey, 0, 10, 200_000, interval))
    const reading = await kit.reading(sellerKey, sell.order.owner, interval, 10)
    const hash = await wallet.writeContract({ address: chain.deployment.settlement, abi: energySettlementAbi, functionName: 'cancelUpTo', args: [2n] })
    await chain.publicClient.waitForTransactionReceipt({ hash })
    await rejects(kit.simulate(interval, kit.batch([{ buy, sell, energyWh: 10, price: 150_000 }], [reading])), 'OrderCancelled')
    const fresh = await kit.sign(sellerKey, { ...sell.order, nonce: 2 })
    expect((await kit.simulate(interval, kit.batch([{ buy, sell: fresh, energyWh: 10, price: 150_000 }], [reading]))).result).toBeUndefined()
    await rejects(wallet.simulateContract({ address: chain.deployment.settlement, abi: energySettlementAbi, functionName: 'cancelUpTo', args: [1n] }), 'NonceNotIncreasing')
  })
})
