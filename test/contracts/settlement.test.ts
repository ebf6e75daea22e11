import { describe, expect, it } from 'vitest'
import { hashTypedData, parseEventLogs, type Hex } from 'viem'
import { generatePrivateKey } from 'viem/accounts'
import { ANVIL_DEV_KEYS } from '../../contracts/anvil.ts'
import { decodeBalanceChanges } from '../../contracts/balance-changes.ts'
import { deployContracts } from '../../contracts/deploy.ts'
import { devStablecoinAbi, energySettlementAbi } from '../../contracts/generated/artifacts.ts'
import { meterReadingMessage, meterReadingTypes } from '../../protocol/meter-reading.ts'
import { orderDomain, orderMessage, orderTypes } from '../../protocol/order.ts'
import { buyerPaysBaseUnits, sellerReceivesBaseUnits } from '../../protocol/units.ts'
import { settlementKit } from '../helpers/settlement.ts'
import { chain, community, kit, settlementContractSuite } from '../helpers/settlement-contract.ts'

// The settlement contract on a real EVM: hashes as viem computes them, delivered intervals, and the events
// that let anyone rebuild every balance.
const { keys, walletOf, simpleTrade, nextSlot, rejects } = settlementContractSuite()

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
