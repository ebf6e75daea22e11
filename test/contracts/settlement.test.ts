import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestClient, createWalletClient, publicActions, encodeFunctionData, hashTypedData, http, parseEventLogs, parseSignature, toHex, zeroAddress, type Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { ANVIL_DEV_KEYS } from '../../contracts/anvil.ts'
import { decodeBalanceChanges } from '../../contracts/balance-changes.ts'
import { chainFor, deployContracts } from '../../contracts/deploy.ts'
import { devStablecoinAbi, energySettlementAbi, reentrantTokenAbi, reentrantTokenBytecode } from '../../contracts/generated/artifacts.ts'
import { meterReadingMessage, meterReadingTypes } from '../../protocol/meter-reading.ts'
import { communityKey, orderDomain, orderMessage, orderTypes } from '../../protocol/order.ts'
import { buyerPaysBaseUnits, sellerReceivesBaseUnits } from '../../protocol/units.ts'
import { startTestChain, type TestChain } from '../helpers/chain.ts'
import { settlementKit } from '../helpers/settlement.ts'

let chain: TestChain
let kit: ReturnType<typeof settlementKit>
const community = communityKey('test-street')
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
/** A fresh interval that has ended and may still settle (the kit's slot). */
const nextSlot = () => kit.slot()

beforeAll(async () => {
  chain = await startTestChain(4, { community: 'test-street' }) // each home: 1,000 dUSD (1e9 base units) in escrow
  kit = settlementKit(chain, community)
})
afterAll(async () => {
  await chain?.anvil.stop()
})

const keys = () => chain.homeKeys as [Hex, Hex, Hex, Hex]
const rejects = (promise: Promise<unknown>, error: string) => expect(promise).rejects.toThrow(new RegExp(error))
const walletOf = (key: Hex) => createWalletClient({ account: privateKeyToAccount(key), chain: chainFor(chain.deployment.chainId, chain.anvil.rpcUrl), transport: http(chain.anvil.rpcUrl) }).extend(publicActions)
const testClient = () => createTestClient({ mode: 'anvil', chain: chainFor(chain.deployment.chainId, chain.anvil.rpcUrl), transport: http(chain.anvil.rpcUrl) })

/** A new key with gas, and 10 dUSD in escrow: enough collateral for small sells. */
async function fundedKey(): Promise<Hex> {
  const key = generatePrivateKey()
  await testClient().setBalance({ address: kit.address(key), value: 10n ** 18n })
  const minter = walletOf(ANVIL_DEV_KEYS[0])
  const wallet = walletOf(key)
  const send = async (hash: Promise<Hex>) => chain.publicClient.waitForTransactionReceipt({ hash: await hash })
  await send(minter.writeContract({ address: chain.deployment.token, abi: devStablecoinAbi, functionName: 'mint', args: [kit.address(key), 10_000_000n] }))
  await send(wallet.writeContract({ address: chain.deployment.token, abi: devStablecoinAbi, functionName: 'approve', args: [chain.deployment.settlement, 10_000_000n] }))
  await send(wallet.writeContract({ address: chain.deployment.settlement, abi: energySettlementAbi, functionName: 'deposit', args: [10_000_000n] }))
  return key
}

/** A sell of 10 Wh and a buy of 10 Wh in a fresh interval, each limit given, with a full meter reading. */
async function simpleTrade(sellLimit = 100_000, buyLimit = 200_000) {
  const [sellerKey, buyerKey] = keys()
  const interval = await nextSlot()
  const sell = await kit.sign(sellerKey, kit.order(sellerKey, 1, 10, sellLimit, interval))
  const buy = await kit.sign(buyerKey, kit.order(buyerKey, 0, 10, buyLimit, interval))
  const reading = await kit.reading(sellerKey, kit.address(sellerKey), interval, 10)
  return { interval, sell, buy, reading, sellerKey, buyerKey }
}

describe('EIP-712 hashes', () => {
  it("viem's hash of an order equals the contract's hashOrder", async () => {
    const o = kit.order(keys()[0], 1, 1234, 150_000, 1_800_000_000, 42)
    const m = orderMessage(o)
    const onChain = await chain.publicClient.readContract({ address: chain.deployment.settlement, abi: energySettlementAbi, functionName: 'hashOrder', args: [m.owner, m.community, m.interval, m.side, m.energyWh, m.limitPrice, m.nonce] })
    expect(onChain).toBe(hashTypedData({ domain: orderDomain(chain.deployment.chainId, chain.deployment.settlement), types: orderTypes, primaryType: 'Order', message: m }))
  })

  it("viem's hash of a meter reading equals the contract's hashMeterReading", async () => {
    const reading = { owner: kit.address(keys()[0]), community, interval: 1_800_000_000, exportedWh: 321, importedWh: 7 }
    const m = meterReadingMessage(reading)
    const onChain = await chain.publicClient.readContract({ address: chain.deployment.settlement, abi: energySettlementAbi, functionName: 'hashMeterReading', args: [m.owner, m.community, m.interval, m.exportedWh, m.importedWh] })
    expect(onChain).toBe(hashTypedData({ domain: orderDomain(chain.deployment.chainId, chain.deployment.settlement), types: meterReadingTypes, primaryType: 'MeterReading', message: m }))
  })
})

describe('settlement of a delivered interval', () => {
  it('moves escrow by exactly the rounded amounts and pays the remainder to the fee recipient', async () => {
    const [sellerKey, buyerKey] = keys()
    const interval = await nextSlot()
    const sell = await kit.sign(sellerKey, kit.order(sellerKey, 1, 7, 100_000, interval))
    const buy = await kit.sign(buyerKey, kit.order(buyerKey, 0, 10, 333_333, interval))
    const receipt = await kit.settle(interval, kit.batch([{ buy, sell, energyWh: 7, price: 333_333 }], [await kit.reading(sellerKey, sell.order.owner, interval, 9)]))
    expect(receipt.status).toBe('success')
    const before = receipt.blockNumber - 1n
    const paid = buyerPaysBaseUnits(7n, 333_333n)
    const received = sellerReceivesBaseUnits(7n, 333_333n)
    expect(paid - received).toBe(1n) // rounding dust
    expect((await kit.balance(buy.order.owner, before)) - (await kit.balance(buy.order.owner))).toBe(paid)
    expect((await kit.balance(sell.order.owner)) - (await kit.balance(sell.order.owner, before))).toBe(received)
    expect((await kit.balance(chain.feeRecipient)) - (await kit.balance(chain.feeRecipient, before))).toBe(paid - received)
  })

  it('settles an order cleared at two grid nodes at two prices, its signature checked once', async () => {
    const [sellerKey, nearKey, farKey] = keys()
    const interval = await nextSlot()
    const sell = await kit.sign(sellerKey, kit.order(sellerKey, 1, 100, 100_000, interval))
    const near = await kit.sign(nearKey, kit.order(nearKey, 0, 40, 200_000, interval))
    const far = await kit.sign(farKey, kit.order(farKey, 0, 60, 300_000, interval))
    // 40 Wh to the neighbour at 150,000; 60 Wh across the feeder: buyer 210,000, seller 190,000.
    const batch = kit.batch(
      [
        { buy: near, sell, energyWh: 40, price: 150_000, node: 'tx-a' },
        { buy: far, sell, energyWh: 60, price: 210_000, sellerPrice: 190_000, node: 'feeder' },
      ],
      [await kit.reading(sellerKey, sell.order.owner, interval, 100)],
    )
    const receipt = await kit.settle(interval, batch)
    const before = receipt.blockNumber - 1n
    const moved = async (key: Hex) => (await kit.balance(kit.address(key))) - (await kit.balance(kit.address(key), before))
    expect(await moved(sellerKey)).toBe(sellerReceivesBaseUnits(40n, 150_000n) + sellerReceivesBaseUnits(60n, 190_000n))
    expect(await moved(nearKey)).toBe(-buyerPaysBaseUnits(40n, 150_000n))
    expect(await moved(farKey)).toBe(-buyerPaysBaseUnits(60n, 210_000n))
  })

  it('pays a seller only for what its reading shows delivered; a buyer pays only for what it got, and is paid the charge for the rest', async () => {
    const [sellerKey, buyer1Key, buyer2Key] = keys()
    const interval = await nextSlot()
    const sell = await kit.sign(sellerKey, kit.order(sellerKey, 1, 100, 100_000, interval))
    const buy1 = await kit.sign(buyer1Key, kit.order(buyer1Key, 0, 70, 250_000, interval))
    const buy2 = await kit.sign(buyer2Key, kit.order(buyer2Key, 0, 30, 250_000, interval))
    // Sold 100 Wh at 200,000 but exported only 64 Wh: the first trade gets 64 of its 70 Wh, the second none.
    const batch = kit.batch(
      [
        { buy: buy1, sell, energyWh: 70, price: 200_000 },
        { buy: buy2, sell, energyWh: 30, price: 200_000 },
      ],
      [await kit.reading(sellerKey, sell.order.owner, interval, 64)],
    )
    const receipt = await kit.settle(interval, batch)
    const before = receipt.blockNumber - 1n
    const moved = async (addr: `0x${string}`) => (await kit.balance(addr)) - (await kit.balance(addr, before))
    // Worked by hand: 64 Wh at 0.20/kWh is 12,800; 6 Wh and 30 Wh short at 0.40/kWh are 2,400 and 12,000.
    expect(await moved(sell.order.owner)).toBe(12_800n - 2_400n - 12_000n)
    expect(await moved(buy1.order.owner)).toBe(-12_800n + 2_400n)
    expect(await moved(buy2.order.owner)).toBe(12_000n)
    // The charges as events, one per short trade, naming who paid whom.
    const charged = parseEventLogs({ abi: energySettlementAbi, eventName: 'ImbalanceCharged', logs: receipt.logs }).map((l) => l.args)
    expect(charged).toEqual([
      { seller: sell.order.owner, buyer: buy1.order.owner, shortfallWh: 6n, charged: 2_400n },
      { seller: sell.order.owner, buyer: buy2.order.owner, shortfallWh: 30n, charged: 12_000n },
    ])
  })

  it('pays a seller with no meter reading nothing and charges it the whole amount, once the interval may leave readings out', async () => {
    const { interval, sell, buy } = await simpleTrade()
    const receipt = await kit.settle(interval, kit.batch([{ buy, sell, energyWh: 10, price: 150_000 }]))
    const before = receipt.blockNumber - 1n
    expect((await kit.balance(sell.order.owner)) - (await kit.balance(sell.order.owner, before))).toBe(-4_000n) // 10 Wh at 0.40
    expect((await kit.balance(buy.order.owner)) - (await kit.balance(buy.order.owner, before))).toBe(4_000n)
  })

  it("takes readings signed by the deployment's meter data hub, and refuses the home's own signature there", async () => {
    const hubKey = generatePrivateKey()
    const d = await deployContracts({ rpcUrl: chain.anvil.rpcUrl, community: 'test-street', deployerKey: ANVIL_DEV_KEYS[0], feeRecipient: chain.feeRecipient, token: chain.deployment.token, meterSigner: kit.address(hubKey) })
    expect(d.meterSigner).toBe(kit.address(hubKey))
    const hubKit = settlementKit({ ...chain, deployment: d }, community)
    const [sellerKey, buyerKey] = keys()
    for (const key of [sellerKey, buyerKey]) {
      const wallet = walletOf(key)
      const send = async (hash: Promise<Hex>) => chain.publicClient.waitForTransactionReceipt({ hash: await hash })
      await send(wallet.writeContract({ address: d.token, abi: devStablecoinAbi, functionName: 'approve', args: [d.settlement, 10_000n] }))
      await send(wallet.writeContract({ address: d.settlement, abi: energySettlementAbi, functionName: 'deposit', args: [10_000n] }))
    }
    const interval = await hubKit.slot()
    const sell = await hubKit.sign(sellerKey, hubKit.order(sellerKey, 1, 10, 100_000, interval))
    const buy = await hubKit.sign(buyerKey, hubKit.order(buyerKey, 0, 10, 200_000, interval))
    const trades = [{ buy, sell, energyWh: 10, price: 150_000 }]
    await rejects(hubKit.simulate(interval, hubKit.batch(trades, [await hubKit.reading(sellerKey, sell.order.owner, interval, 10)])), 'BadMeterReading')
    expect((await hubKit.settle(interval, hubKit.batch(trades, [await hubKit.reading(hubKey, sell.order.owner, interval, 10)]))).status).toBe('success')
    expect(await hubKit.balance(sell.order.owner)).toBe(10_000n + sellerReceivesBaseUnits(10n, 150_000n))
  })

  it("refuses a sell whose seller's escrow cannot hold the imbalance charge of all of it", async () => {
    const [buyerKey] = keys()
    const emptyKey = generatePrivateKey() // no escrow at all
    const interval = await nextSlot()
    const sell = await kit.sign(emptyKey, kit.order(emptyKey, 1, 50, 100_000, interval))
    const buy = await kit.sign(buyerKey, kit.order(buyerKey, 0, 50, 200_000, interval))
    // Even with a reading showing full delivery: collateral is for what it sold, whatever it delivers.
    const batch = kit.batch([{ buy, sell, energyWh: 50, price: 150_000 }], [await kit.reading(emptyKey, sell.order.owner, interval, 50)])
    await rejects(kit.simulate(interval, batch), 'InsufficientCollateral')
  })
})

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

  it("a buyer's price above its limit", async () => {
    const { interval, sell, buy, reading } = await simpleTrade(100_000, 200_000)
    await rejects(kit.simulate(interval, kit.batch([{ buy, sell, energyWh: 10, price: 200_001, sellerPrice: 150_000 }], [reading])), 'PriceOutsideLimit')
  })

  it("a seller's price below its limit", async () => {
    const { interval, sell, buy, reading } = await simpleTrade(100_000, 200_000)
    await rejects(kit.simulate(interval, kit.batch([{ buy, sell, energyWh: 10, price: 150_000, sellerPrice: 99_999 }], [reading])), 'PriceOutsideLimit')
  })

  it("trades that do not add up to a fill's energy", async () => {
    const { interval, sell, buy, reading } = await simpleTrade()
    const batch = kit.batch([{ buy, sell, energyWh: 10, price: 150_000 }], [reading])
    const i = batch.fills.findIndex((f) => f.side === 0)
    batch.fills[i]!.filledWh = 9n
    await rejects(kit.simulate(interval, batch), 'TradesDoNotMatchFill')
  })

  it('a trade whose buyer pays less than its seller receives', async () => {
    // Both prices within their limits, but the seller would be paid more than the buyer pays.
    const { interval, sell, buy, reading } = await simpleTrade(100_000, 200_000)
    await rejects(kit.simulate(interval, kit.batch([{ buy, sell, energyWh: 10, price: 150_000, sellerPrice: 190_000 }], [reading])), 'InvalidTrade')
  })

  it('a trade between two buys, or naming a fill that is not there', async () => {
    const { interval, sell, buy, reading } = await simpleTrade()
    const batch = kit.batch([{ buy, sell, energyWh: 10, price: 150_000 }], [reading])
    const b = batch.fills.findIndex((f) => f.side === 0)
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

describe('escrow', () => {
  it('locks a withdrawal until no interval it may owe can still settle, and settles from it meanwhile', async () => {
    const [, , , key] = keys()
    const owner = kit.address(key)
    const wallet = walletOf(key)
    const write = async (functionName: 'requestWithdrawal' | 'withdraw', args: readonly [bigint] | readonly [] = []) =>
      chain.publicClient.waitForTransactionReceipt({ hash: await wallet.writeContract({ address: chain.deployment.settlement, abi: energySettlementAbi, functionName, args } as never) })
    const escrow = await kit.balance(owner)
    await write('requestWithdrawal', [escrow])
    // Withdrawing while an interval it bid in may still settle: refused.
    await rejects(wallet.simulateContract({ address: chain.deployment.settlement, abi: energySettlementAbi, functionName: 'withdraw' }), 'WithdrawalNotReady')
    // An interval it bid in settles from the escrow during the delay.
    const [sellerKey] = keys()
    const interval = await nextSlot()
    const sell = await kit.sign(sellerKey, kit.order(sellerKey, 1, 10, 100_000, interval))
    const buy = await kit.sign(key, kit.order(key, 0, 10, 200_000, interval))
    await kit.settle(interval, kit.batch([{ buy, sell, energyWh: 10, price: 150_000 }], [await kit.reading(sellerKey, sell.order.owner, interval, 10)]))
    await testClient().increaseTime({ seconds: chain.deployment.withdrawalDelay })
    await testClient().mine({ blocks: 1 })
    const tokenBefore = await chain.publicClient.readContract({ address: chain.deployment.token, abi: devStablecoinAbi, functionName: 'balanceOf', args: [owner] })
    await write('withdraw')
    const tokenAfter = await chain.publicClient.readContract({ address: chain.deployment.token, abi: devStablecoinAbi, functionName: 'balanceOf', args: [owner] })
    // It asked for its whole escrow; what the settlement took is no longer there to withdraw.
    expect(tokenAfter - tokenBefore).toBe(escrow - buyerPaysBaseUnits(10n, 150_000n))
    expect(await kit.balance(owner)).toBe(0n)
  })

  it('deposits with an EIP-2612 permit in one transaction', async () => {
    const key = generatePrivateKey()
    const account = privateKeyToAccount(key)
    const viemChain = chainFor(chain.deployment.chainId, chain.anvil.rpcUrl)
    const transport = http(chain.anvil.rpcUrl)
    await testClient().setBalance({ address: account.address, value: 10n ** 18n })
    const minter = createWalletClient({ account: privateKeyToAccount(ANVIL_DEV_KEYS[0]), chain: viemChain, transport })
    await chain.publicClient.waitForTransactionReceipt({ hash: await minter.writeContract({ address: chain.deployment.token, abi: devStablecoinAbi, functionName: 'mint', args: [account.address, 5_000_000n] }) })
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 365 * 86_400)
    const nonce = await chain.publicClient.readContract({ address: chain.deployment.token, abi: devStablecoinAbi, functionName: 'nonces', args: [account.address] })
    const signature = await account.signTypedData({
      domain: { name: 'OpenVPP Dev USD', version: '1', chainId: chain.deployment.chainId, verifyingContract: chain.deployment.token },
      types: { Permit: [{ name: 'owner', type: 'address' }, { name: 'spender', type: 'address' }, { name: 'value', type: 'uint256' }, { name: 'nonce', type: 'uint256' }, { name: 'deadline', type: 'uint256' }] },
      primaryType: 'Permit',
      message: { owner: account.address, spender: chain.deployment.settlement, value: 5_000_000n, nonce, deadline },
    })
    const { r, s, v } = parseSignature(signature)
    const wallet = createWalletClient({ account, chain: viemChain, transport })
    await chain.publicClient.waitForTransactionReceipt({ hash: await wallet.writeContract({ address: chain.deployment.settlement, abi: energySettlementAbi, functionName: 'depositWithPermit', args: [5_000_000n, deadline, Number(v), r, s] }) })
    expect(await kit.balance(account.address)).toBe(5_000_000n)
  })

  it('refuses a reentrant call from the token during a withdrawal', async () => {
    const deployer = walletOf(ANVIL_DEV_KEYS[0])
    const tokenReceipt = await chain.publicClient.waitForTransactionReceipt({ hash: await deployer.deployContract({ abi: reentrantTokenAbi, bytecode: reentrantTokenBytecode }) })
    const token = tokenReceipt.contractAddress!
    const d = await deployContracts({ rpcUrl: chain.anvil.rpcUrl, community: 'test-street', deployerKey: ANVIL_DEV_KEYS[0], feeRecipient: chain.feeRecipient, token, settlementWindow: 60, withdrawalDelay: 120, intervalLength: 20 })
    const send = async (hash: Promise<Hex>) => chain.publicClient.waitForTransactionReceipt({ hash: await hash })
    await send(deployer.writeContract({ address: token, abi: reentrantTokenAbi, functionName: 'mint', args: [deployer.account.address, 1000n] }))
    await send(deployer.writeContract({ address: token, abi: reentrantTokenAbi, functionName: 'approve', args: [d.settlement, 1000n] }))
    await send(deployer.writeContract({ address: d.settlement, abi: energySettlementAbi, functionName: 'deposit', args: [1000n] }))
    await send(deployer.writeContract({ address: d.settlement, abi: energySettlementAbi, functionName: 'requestWithdrawal', args: [500n] }))
    await testClient().increaseTime({ seconds: 121 })
    await testClient().mine({ blocks: 1 })
    // While paying out, the token calls withdraw() again.
    await send(deployer.writeContract({ address: token, abi: reentrantTokenAbi, functionName: 'arm', args: [d.settlement, encodeFunctionData({ abi: energySettlementAbi, functionName: 'withdraw' })] }))
    await rejects(deployer.writeContract({ address: d.settlement, abi: energySettlementAbi, functionName: 'withdraw' }), 'ReentrancyGuardReentrantCall')
    expect(await chain.publicClient.readContract({ address: d.settlement, abi: energySettlementAbi, functionName: 'balanceOf', args: [deployer.account.address] })).toBe(1000n)
  })

  it('pauses settlement and deposits for the guardian only, never withdrawals', async () => {
    const d = await deployContracts({ rpcUrl: chain.anvil.rpcUrl, community: 'test-street', deployerKey: ANVIL_DEV_KEYS[0], feeRecipient: chain.feeRecipient, token: chain.deployment.token, settlementWindow: 60, withdrawalDelay: 120, intervalLength: 20 })
    const viemChain = chainFor(chain.deployment.chainId, chain.anvil.rpcUrl)
    const guardian = walletOf(ANVIL_DEV_KEYS[0])
    const home = walletOf(keys()[1])
    const send = async (hash: Promise<Hex>) => chain.publicClient.waitForTransactionReceipt({ hash: await hash })
    await send(home.writeContract({ address: chain.deployment.token, abi: devStablecoinAbi, functionName: 'approve', args: [d.settlement, 2000n] }))
    await send(home.writeContract({ address: d.settlement, abi: energySettlementAbi, functionName: 'deposit', args: [1000n] }))
    await send(home.writeContract({ address: d.settlement, abi: energySettlementAbi, functionName: 'requestWithdrawal', args: [1000n] }))
    await rejects(home.simulateContract({ address: d.settlement, abi: energySettlementAbi, functionName: 'setPaused', args: [true] }), 'NotGuardian')
    await send(guardian.writeContract({ address: d.settlement, abi: energySettlementAbi, functionName: 'setPaused', args: [true] }))
    await rejects(home.simulateContract({ address: d.settlement, abi: energySettlementAbi, functionName: 'deposit', args: [1000n] }), 'IsPaused')
    await rejects(guardian.simulateContract({ address: d.settlement, abi: energySettlementAbi, functionName: 'settleInterval', args: [community, BigInt(await nextSlot()), '0x', '0x', '0x'] }), 'IsPaused')
    await testClient().increaseTime({ seconds: 121 })
    await testClient().mine({ blocks: 1 })
    await send(home.writeContract({ address: d.settlement, abi: energySettlementAbi, functionName: 'withdraw' }))
    expect(await chain.publicClient.readContract({ address: d.settlement, abi: energySettlementAbi, functionName: 'balanceOf', args: [home.account.address] })).toBe(0n)
  })

  it('refuses to settle an interval once its settlement window has closed', async () => {
    const [sellerKey, buyerKey] = keys()
    const block = await chain.publicClient.getBlock()
    const interval = Math.floor((Number(block.timestamp) - chain.deployment.settlementWindow - 1) / 900) * 900
    const sell = await kit.sign(sellerKey, kit.order(sellerKey, 1, 10, 100_000, interval))
    const buy = await kit.sign(buyerKey, kit.order(buyerKey, 0, 10, 200_000, interval))
    await rejects(kit.simulate(interval, kit.batch([{ buy, sell, energyWh: 10, price: 150_000 }])), 'SettlementWindowClosed')
  })
})

describe('events', () => {
  it('let anyone rebuild every escrow balance, and all balances add up to the tokens the contract holds', async () => {
    const address = chain.deployment.settlement
    const logs = await chain.publicClient.getContractEvents({ address, abi: energySettlementAbi, fromBlock: 'earliest' })
    const rebuilt = new Map<string, bigint>()
    const add = (owner: string, amount: bigint) => rebuilt.set(owner.toLowerCase(), (rebuilt.get(owner.toLowerCase()) ?? 0n) + amount)
    for (const log of logs) {
      const args = log.args as Record<string, unknown>
      if (log.eventName === 'Deposited') add(args.owner as string, args.amount as bigint)
      else if (log.eventName === 'Withdrawn') add(args.owner as string, -(args.amount as bigint))
      else if (log.eventName === 'IntervalSettled') {
        add(chain.deployment.feeRecipient, args.fees as bigint)
        const changes = decodeBalanceChanges(args.balanceChanges as Hex)
        expect(changes.length).toBe(Number(args.fills))
        for (const c of changes) add(c.owner, c.change)
      }
    }
    expect(rebuilt.size).toBeGreaterThan(4)
    let total = 0n
    for (const [owner, balance] of rebuilt) {
      expect(await kit.balance(owner as `0x${string}`)).toBe(balance)
      total += balance
    }
    const held = await chain.publicClient.readContract({ address: chain.deployment.token, abi: devStablecoinAbi, functionName: 'balanceOf', args: [address] })
    expect(total).toBe(held)
  })
})
