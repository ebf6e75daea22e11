import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestClient, createWalletClient, publicActions, encodeFunctionData, hashTypedData, http, parseSignature, toHex, zeroAddress, type Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { ANVIL_DEV_KEYS } from '../../contracts/anvil.ts'
import { decodeBalanceChanges } from '../../contracts/balance-changes.ts'
import { chainFor, deployContracts } from '../../contracts/deploy.ts'
import { devStablecoinAbi, energySettlementAbi, reentrantTokenAbi, reentrantTokenBytecode } from '../../contracts/generated/artifacts.ts'
import { previewSettlement } from '../../market/service/settlement-batch.ts'
import { meterReadingMessage, meterReadingTypes } from '../../protocol/meter-reading.ts'
import { communityKey, orderDomain, orderMessage, orderTypes } from '../../protocol/order.ts'
import { buyerPaysBaseUnits, sellerReceivesBaseUnits } from '../../protocol/units.ts'
import { startTestChain, type TestChain } from '../helpers/chain.ts'
import { settlementKit } from '../helpers/settlement.ts'

let chain: TestChain
let kit: ReturnType<typeof settlementKit>
const community = communityKey('test-street')
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
// Far enough ahead that the tests' time travel never closes their settlement window.
let nextInterval = Math.floor((Date.now() / 1000 + 30 * 86_400) / 900) * 900
/** A fresh interval start: the contract takes intervals on its 900-second grid. */
const nextSlot = () => (nextInterval += 900)

beforeAll(async () => {
  chain = await startTestChain(4) // each home: 1,000 dUSD (1e9 base units) in escrow
  kit = settlementKit(chain, community)
})
afterAll(async () => {
  await chain?.anvil.stop()
})

const keys = () => chain.homeKeys as [Hex, Hex, Hex, Hex]
const rejects = (promise: Promise<unknown>, error: string) => expect(promise).rejects.toThrow(new RegExp(error))
const walletOf = (key: Hex) => createWalletClient({ account: privateKeyToAccount(key), chain: chainFor(chain.deployment.chainId, chain.anvil.rpcUrl), transport: http(chain.anvil.rpcUrl) }).extend(publicActions)
const testClient = () => createTestClient({ mode: 'anvil', chain: chainFor(chain.deployment.chainId, chain.anvil.rpcUrl), transport: http(chain.anvil.rpcUrl) })

/** A sell of 10 Wh and a buy of 10 Wh in a fresh interval, each limit given, with a full meter reading. */
async function simpleTrade(sellLimit = 100_000, buyLimit = 200_000) {
  const [sellerKey, buyerKey] = keys()
  const interval = nextSlot()
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
    const interval = nextSlot()
    const sell = await kit.sign(sellerKey, kit.order(sellerKey, 1, 7, 100_000, interval))
    const buy = await kit.sign(buyerKey, kit.order(buyerKey, 0, 10, 333_333, interval))
    const receipt = await kit.settle(interval, kit.batch([{ signed: sell, filledWh: 7, price: 333_333 }, { signed: buy, filledWh: 7, price: 333_333 }], [await kit.reading(sellerKey, sell.order.owner, interval, 9)]))
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
    const interval = nextSlot()
    const sell = await kit.sign(sellerKey, kit.order(sellerKey, 1, 100, 100_000, interval))
    const near = await kit.sign(nearKey, kit.order(nearKey, 0, 40, 200_000, interval))
    const far = await kit.sign(farKey, kit.order(farKey, 0, 60, 300_000, interval))
    // 40 Wh to the neighbour at 150,000; 60 Wh across the feeder: buyer 210,000, seller 190,000.
    const batch = kit.batch(
      [
        { signed: sell, filledWh: 40, price: 150_000 },
        { signed: sell, filledWh: 60, price: 190_000 },
        { signed: near, filledWh: 40, price: 150_000 },
        { signed: far, filledWh: 60, price: 210_000 },
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

  it('pays a seller only what its meter reading shows it delivered, charges the shortfall, and credits the buyers', async () => {
    const [sellerKey, buyer1Key, buyer2Key] = keys()
    const interval = nextSlot()
    const sell = await kit.sign(sellerKey, kit.order(sellerKey, 1, 100, 100_000, interval))
    const buy1 = await kit.sign(buyer1Key, kit.order(buyer1Key, 0, 70, 250_000, interval))
    const buy2 = await kit.sign(buyer2Key, kit.order(buyer2Key, 0, 30, 250_000, interval))
    // Sold 100 Wh at 200,000 but exported only 64 Wh: 36 Wh short at the imbalance price of 400,000.
    const batch = kit.batch(
      [
        { signed: sell, filledWh: 100, price: 200_000 },
        { signed: buy1, filledWh: 70, price: 200_000 },
        { signed: buy2, filledWh: 30, price: 200_000 },
      ],
      [await kit.reading(sellerKey, sell.order.owner, interval, 64)],
    )
    const receipt = await kit.settle(interval, batch)
    const before = receipt.blockNumber - 1n
    const moved = async (addr: `0x${string}`) => (await kit.balance(addr)) - (await kit.balance(addr, before))
    const paidForDelivered = sellerReceivesBaseUnits(64n, 200_000n) // 12,800
    const charge = buyerPaysBaseUnits(36n, 400_000n) // 14,400
    expect(await moved(sell.order.owner)).toBe(paidForDelivered - charge)
    // The pool: the 7,200 the seller was not paid plus its 14,400 charge, shared 70:30.
    const pool = sellerReceivesBaseUnits(100n, 200_000n) - paidForDelivered + charge
    expect(await moved(buy1.order.owner)).toBe(-buyerPaysBaseUnits(70n, 200_000n) + (pool * 70n) / 100n)
    expect(await moved(buy2.order.owner)).toBe(-buyerPaysBaseUnits(30n, 200_000n) + (pool * 30n) / 100n)
    // And exactly as the market's own preview computes it.
    const preview = previewSettlement(batch, BigInt(chain.deployment.imbalancePrice), () => 10n ** 12n)
    for (const [owner, delta] of preview.deltas) expect(await moved(owner as `0x${string}`)).toBe(delta)
    expect(preview.deliveries).toEqual([{ owner: sell.order.owner, soldWh: 100, deliveredWh: 64, shortfallWh: 36, chargedBaseUnits: charge }])
  })

  it('pays a seller with no meter reading nothing and charges it the whole amount', async () => {
    const { interval, sell, buy } = await simpleTrade()
    const receipt = await kit.settle(interval, kit.batch([{ signed: sell, filledWh: 10, price: 150_000 }, { signed: buy, filledWh: 10, price: 150_000 }]))
    const before = receipt.blockNumber - 1n
    expect((await kit.balance(sell.order.owner)) - (await kit.balance(sell.order.owner, before))).toBe(-buyerPaysBaseUnits(10n, 400_000n))
  })

  it("takes readings signed by the deployment's meter data hub, and refuses the home's own signature there", async () => {
    const hubKey = generatePrivateKey()
    const d = await deployContracts({ rpcUrl: chain.anvil.rpcUrl, deployerKey: ANVIL_DEV_KEYS[0], feeRecipient: chain.feeRecipient, token: chain.deployment.token, meterSigner: kit.address(hubKey) })
    expect(d.meterSigner).toBe(kit.address(hubKey))
    const hubKit = settlementKit({ ...chain, deployment: d }, community)
    const [sellerKey, buyerKey] = keys()
    const buyer = walletOf(buyerKey)
    const send = async (hash: Promise<Hex>) => chain.publicClient.waitForTransactionReceipt({ hash: await hash })
    await send(buyer.writeContract({ address: d.token, abi: devStablecoinAbi, functionName: 'approve', args: [d.settlement, 10_000n] }))
    await send(buyer.writeContract({ address: d.settlement, abi: energySettlementAbi, functionName: 'deposit', args: [10_000n] }))
    const interval = nextSlot()
    const sell = await hubKit.sign(sellerKey, hubKit.order(sellerKey, 1, 10, 100_000, interval))
    const buy = await hubKit.sign(buyerKey, hubKit.order(buyerKey, 0, 10, 200_000, interval))
    const fills = [{ signed: sell, filledWh: 10, price: 150_000 }, { signed: buy, filledWh: 10, price: 150_000 }]
    await rejects(hubKit.simulate(interval, hubKit.batch(fills, [await hubKit.reading(sellerKey, sell.order.owner, interval, 10)])), 'BadMeterReading')
    expect((await hubKit.settle(interval, hubKit.batch(fills, [await hubKit.reading(hubKey, sell.order.owner, interval, 10)]))).status).toBe('success')
    expect(await hubKit.balance(sell.order.owner)).toBe(sellerReceivesBaseUnits(10n, 150_000n))
  })

  it('caps an imbalance charge at what the seller holds, so an empty seller cannot make the batch fail', async () => {
    const [buyerKey] = keys()
    const emptyKey = generatePrivateKey() // no escrow at all
    const interval = nextSlot()
    const sell = await kit.sign(emptyKey, kit.order(emptyKey, 1, 50, 100_000, interval))
    const buy = await kit.sign(buyerKey, kit.order(buyerKey, 0, 50, 200_000, interval))
    const receipt = await kit.settle(interval, kit.batch([{ signed: sell, filledWh: 50, price: 150_000 }, { signed: buy, filledWh: 50, price: 150_000 }], [await kit.reading(emptyKey, sell.order.owner, interval, 10)]))
    expect(receipt.status).toBe('success')
    expect(await kit.balance(sell.order.owner)).toBe(0n) // paid 1,500 for 10 Wh, all of it taken back as charge
  })
})

describe('refused batches (each must revert)', () => {
  it('a forged signature', async () => {
    const { interval, sell, buy, reading, buyerKey } = await simpleTrade()
    const [, , otherKey] = keys()
    const forged = await kit.sign(otherKey, buy.order) // someone else signs the buyer's order
    expect(forged.order.owner).toBe(kit.address(buyerKey))
    await rejects(kit.simulate(interval, kit.batch([{ signed: sell, filledWh: 10, price: 150_000 }, { signed: forged, filledWh: 10, price: 150_000 }], [reading])), 'BadSignature')
  })

  it('a signature for another chain', async () => {
    const { interval, sell, buy, reading, buyerKey } = await simpleTrade()
    const otherChain = await kit.sign(buyerKey, buy.order, { chainId: 1, settlement: chain.deployment.settlement })
    await rejects(kit.simulate(interval, kit.batch([{ signed: sell, filledWh: 10, price: 150_000 }, { signed: otherChain, filledWh: 10, price: 150_000 }], [reading])), 'BadSignature')
  })

  it('a signature for another contract', async () => {
    const { interval, sell, buy, reading, buyerKey } = await simpleTrade()
    const otherContract = await kit.sign(buyerKey, buy.order, { chainId: chain.deployment.chainId, settlement: chain.deployment.token })
    await rejects(kit.simulate(interval, kit.batch([{ signed: sell, filledWh: 10, price: 150_000 }, { signed: otherContract, filledWh: 10, price: 150_000 }], [reading])), 'BadSignature')
  })

  it('a high-s (malleated) signature', async () => {
    const { interval, sell, buy, reading } = await simpleTrade()
    const batch = kit.batch([{ signed: sell, filledWh: 10, price: 150_000 }, { signed: buy, filledWh: 10, price: 150_000 }], [reading])
    const { s, yParity } = parseSignature(buy.signature)
    // The same signature's twin (n - s, other parity) also verifies under plain ecrecover; EIP-2 forbids it.
    const highS = SECP256K1_N - BigInt(s)
    const fill = batch.fills.find((f) => f.side === 0)!
    fill.vs = toHex((BigInt(1 - yParity!) << 255n) | highS, { size: 32 })
    await rejects(kit.simulate(interval, batch), 'BadSignature')
  })

  it('an order replayed in a later interval', async () => {
    const { interval, sell, buy, reading } = await simpleTrade()
    await kit.settle(interval, kit.batch([{ signed: sell, filledWh: 5, price: 150_000 }, { signed: buy, filledWh: 5, price: 150_000 }], [reading]))
    const later = nextSlot()
    // The operator re-uses both signed orders for the next interval: neither signature covers it.
    await rejects(kit.simulate(later, kit.batch([{ signed: sell, filledWh: 5, price: 150_000 }, { signed: buy, filledWh: 5, price: 150_000 }], [await kit.reading(keys()[0], sell.order.owner, later, 10)], later)), 'BadSignature')
  })

  it('an order used twice in the same batch', async () => {
    const { interval, sell, buy, reading } = await simpleTrade()
    // Fills of the lower-digest order on both sides of the other's: the second use of it is refused.
    const [low, high] = BigInt(kit.digest(sell.order)) < BigInt(kit.digest(buy.order)) ? [sell, buy] : [buy, sell]
    const fills = [kit.rawFill(low, 5, 150_000), kit.rawFill(high, 10, 150_000), kit.rawFill(low, 5, 150_000)]
    await rejects(kit.simulate(interval, { fills, readings: [kit.rawReading(reading)] }), 'OrdersNotSorted')
  })

  it('an order of another community', async () => {
    const { interval, sell, buy, reading, buyerKey } = await simpleTrade()
    const elsewhere = await kit.sign(buyerKey, { ...buy.order, community: communityKey('other-street') })
    await rejects(kit.simulate(interval, kit.batch([{ signed: sell, filledWh: 10, price: 150_000 }, { signed: elsewhere, filledWh: 10, price: 150_000 }], [reading])), 'BadSignature')
  })

  it('an over-fill', async () => {
    const { interval, sell, buy, reading } = await simpleTrade()
    await rejects(kit.simulate(interval, kit.batch([{ signed: sell, filledWh: 11, price: 150_000 }, { signed: buy, filledWh: 11, price: 150_000 }], [reading])), 'InvalidFillAmount')
  })

  it("a buyer's price above its limit", async () => {
    const { interval, sell, buy, reading } = await simpleTrade(100_000, 200_000)
    await rejects(kit.simulate(interval, kit.batch([{ signed: sell, filledWh: 10, price: 150_000 }, { signed: buy, filledWh: 10, price: 200_001 }], [reading])), 'PriceOutsideLimit')
  })

  it("a seller's price below its limit", async () => {
    const { interval, sell, buy, reading } = await simpleTrade(100_000, 200_000)
    await rejects(kit.simulate(interval, kit.batch([{ signed: sell, filledWh: 10, price: 99_999 }, { signed: buy, filledWh: 10, price: 150_000 }], [reading])), 'PriceOutsideLimit')
  })

  it('energy not conserved', async () => {
    const { interval, sell, buy, reading } = await simpleTrade()
    await rejects(kit.simulate(interval, kit.batch([{ signed: sell, filledWh: 10, price: 150_000 }, { signed: buy, filledWh: 9, price: 150_000 }], [reading])), 'EnergyNotConserved')
  })

  it('money not conserved', async () => {
    // Both prices within their limits, but sellers would receive more than buyers pay.
    const { interval, sell, buy, reading } = await simpleTrade(100_000, 200_000)
    await rejects(kit.simulate(interval, kit.batch([{ signed: sell, filledWh: 10, price: 190_000 }, { signed: buy, filledWh: 10, price: 150_000 }], [reading])), 'MoneyNotConserved')
  })

  it('a second settlement of an interval', async () => {
    const { interval, sell, buy, reading } = await simpleTrade()
    const batch = kit.batch([{ signed: sell, filledWh: 10, price: 150_000 }, { signed: buy, filledWh: 10, price: 150_000 }], [reading])
    expect((await kit.settle(interval, batch)).status).toBe('success')
    await rejects(kit.simulate(interval, batch), 'IntervalAlreadySettled')
  })

  it('a settlement by anyone but the operator', async () => {
    const { interval, sell, buy, reading, sellerKey } = await simpleTrade()
    const batch = kit.batch([{ signed: sell, filledWh: 10, price: 150_000 }, { signed: buy, filledWh: 10, price: 150_000 }], [reading])
    await rejects(kit.simulate(interval, batch, privateKeyToAccount(sellerKey)), 'NotOperator')
  })

  it('a fee routed to another address: the operator cannot pocket the fees with a fill of its own', async () => {
    const { interval, sell, buy, reading } = await simpleTrade(100_000, 200_000)
    // The fee here would be 500. The operator signs itself a sell to collect it: energy no longer balances.
    const operatorKey = ANVIL_DEV_KEYS[0]
    const own = await kit.sign(operatorKey, kit.order(operatorKey, 1, 1, 0, interval))
    const operatorReading = await kit.reading(operatorKey, kit.address(operatorKey), interval, 1)
    await rejects(
      kit.simulate(interval, kit.batch([{ signed: sell, filledWh: 10, price: 150_000 }, { signed: buy, filledWh: 10, price: 200_000 }, { signed: own, filledWh: 1, price: 500_000 }], [reading, operatorReading])),
      'EnergyNotConserved',
    )
    // The recipient is fixed at deployment and the ABI has no way to name another one.
    const settle = energySettlementAbi.find((e) => e.type === 'function' && e.name === 'settleInterval')!
    expect(settle.inputs.map((i) => i.name)).toEqual(['community', 'interval', 'fills', 'readings'])
    await rejects(deployContracts({ rpcUrl: chain.anvil.rpcUrl, deployerKey: ANVIL_DEV_KEYS[0], feeRecipient: zeroAddress, token: chain.deployment.token }), 'reverted|ZeroAddress')
  })

  it('a meter reading not signed by the meter signer', async () => {
    const { interval, sell, buy, sellerKey } = await simpleTrade()
    const [, , otherKey] = keys()
    const fake = await kit.reading(otherKey, kit.address(sellerKey), interval, 10)
    await rejects(kit.simulate(interval, kit.batch([{ signed: sell, filledWh: 10, price: 150_000 }, { signed: buy, filledWh: 10, price: 150_000 }], [fake])), 'BadMeterReading')
  })

  it('an order cancelled on chain with cancelUpTo', async () => {
    const [, buyerKey] = keys()
    const sellerKey = generatePrivateKey() // its own key: the cancellation must not touch other tests' orders
    await testClient().setBalance({ address: kit.address(sellerKey), value: 10n ** 18n })
    const wallet = walletOf(sellerKey)
    const interval = nextSlot()
    const sell = await kit.sign(sellerKey, kit.order(sellerKey, 1, 10, 100_000, interval, 1))
    const buy = await kit.sign(buyerKey, kit.order(buyerKey, 0, 10, 200_000, interval))
    const reading = await kit.reading(sellerKey, sell.order.owner, interval, 10)
    const hash = await wallet.writeContract({ address: chain.deployment.settlement, abi: energySettlementAbi, functionName: 'cancelUpTo', args: [2n] })
    await chain.publicClient.waitForTransactionReceipt({ hash })
    await rejects(kit.simulate(interval, kit.batch([{ signed: sell, filledWh: 10, price: 150_000 }, { signed: buy, filledWh: 10, price: 150_000 }], [reading])), 'OrderCancelled')
    const fresh = await kit.sign(sellerKey, { ...sell.order, nonce: 2 })
    expect((await kit.simulate(interval, kit.batch([{ signed: fresh, filledWh: 10, price: 150_000 }, { signed: buy, filledWh: 10, price: 150_000 }], [reading]))).result).toBeUndefined()
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
    const interval = nextSlot()
    const sell = await kit.sign(sellerKey, kit.order(sellerKey, 1, 10, 100_000, interval))
    const buy = await kit.sign(key, kit.order(key, 0, 10, 200_000, interval))
    await kit.settle(interval, kit.batch([{ signed: sell, filledWh: 10, price: 150_000 }, { signed: buy, filledWh: 10, price: 150_000 }], [await kit.reading(sellerKey, sell.order.owner, interval, 10)]))
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
    const d = await deployContracts({ rpcUrl: chain.anvil.rpcUrl, deployerKey: ANVIL_DEV_KEYS[0], feeRecipient: chain.feeRecipient, token, settlementWindow: 60, withdrawalDelay: 120 })
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
    const d = await deployContracts({ rpcUrl: chain.anvil.rpcUrl, deployerKey: ANVIL_DEV_KEYS[0], feeRecipient: chain.feeRecipient, token: chain.deployment.token, settlementWindow: 60, withdrawalDelay: 120 })
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
    await rejects(guardian.simulateContract({ address: d.settlement, abi: energySettlementAbi, functionName: 'settleInterval', args: [community, BigInt(nextSlot()), '0x', '0x'] }), 'IsPaused')
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
    await rejects(kit.simulate(interval, kit.batch([{ signed: sell, filledWh: 10, price: 150_000 }, { signed: buy, filledWh: 10, price: 150_000 }])), 'SettlementWindowClosed')
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
      else if (log.eventName === 'ImbalanceCharged') add(args.owner as string, -(args.charged as bigint))
      else if (log.eventName === 'ImbalanceCredited') add(args.owner as string, args.amount as bigint)
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
