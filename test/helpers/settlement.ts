import { hashTypedData, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { energySettlementAbi } from '../../contracts/generated/artifacts.ts'
import { signMeterReading } from '../../edge-agent/meter-reading-signer.ts'
import { signOrder } from '../../edge-agent/order-signer.ts'
import type { Address } from 'viem'
import { buildSettlementBatch, contractFill, contractReading, encodeCarried, encodeSettlementBatch, type BatchTrade, type BuiltBatch, type SettlementBatch } from '../../market/service/settlement-batch.ts'
import { splitSettlement } from '../../market/service/settlement-parts.ts'
import type { SignedMeterReading } from '../../protocol/meter-reading.ts'
import { orderDomain, orderMessage, orderTypes, type Order, type SignedOrder } from '../../protocol/order.ts'
import type { TestChain } from './chain.ts'

/** One trade for `settlementKit().batch`: `energyWh` from `sell` to `buy`. */
export interface KitTrade {
  buy: SignedOrder
  sell: SignedOrder
  energyWh: number
  price: number
  sellerPrice?: number
  node?: string
}

/** Signing and batch building for settlement tests, through the same code the market uses. */
export function settlementKit(chain: TestChain, community: Hex) {
  const { chainId, settlement } = chain.deployment
  const address = (key: Hex) => privateKeyToAccount(key).address
  const order = (key: Hex, side: 0 | 1, energyWh: number, limitPrice: number, interval: number, nonce = 1): Order => ({
    owner: address(key),
    community,
    interval,
    side,
    energyWh,
    limitPrice,
    nonce,
  })
  const sign = (key: Hex, o: Order, at = { chainId, settlement }) => signOrder(privateKeyToAccount(key), o, at.chainId, at.settlement)
  const digest = (o: Order) => hashTypedData({ domain: orderDomain(chainId, settlement), types: orderTypes, primaryType: 'Order', message: orderMessage(o) })
  const reading = (signerKey: Hex, owner: Hex | `0x${string}`, interval: number, exportedWh: number, importedWh = 0) =>
    signMeterReading(privateKeyToAccount(signerKey), { owner: owner as `0x${string}`, community, interval, exportedWh, importedWh }, chainId, settlement)

  /**
   * A well-formed batch from trades and readings, ordered by the market's own batch builder. Orders are
   * sorted by the digest the contract computes: under this kit's community and the batch's interval
   * (`interval`, default each order's own), whatever the order itself names. A trade's seller gets
   * `sellerPrice` (default `price`); trades at different `node`s give an order one fill per node.
   */
  const marketView = (trades: KitTrade[], interval?: number) => {
    const onChain = (o: Order) => digest({ ...o, community, interval: interval ?? o.interval })
    const orders = new Map(trades.flatMap((t) => [t.buy, t.sell]).map((signed) => [onChain(signed.order) as string, { signed }]))
    const batchTrades: BatchTrade[] = trades.map((t) => ({
      buyOrder: onChain(t.buy.order),
      sellOrder: onChain(t.sell.order),
      node: t.node ?? 'street',
      energyWh: t.energyWh,
      price: t.price,
      sellerPrice: t.sellerPrice ?? t.price,
    }))
    return { orders, batchTrades }
  }
  const byOwner = (readings: SignedMeterReading[]) => new Map(readings.map((r) => [r.reading.owner.toLowerCase(), r]))
  const batch = (trades: KitTrade[], readings: SignedMeterReading[] = [], interval?: number): BuiltBatch => {
    const { orders, batchTrades } = marketView(trades, interval)
    return buildSettlementBatch(batchTrades, orders, byOwner(readings))
  }

  /** The interval as the market splits it into parts of at most `maxFills` fills (settlement-parts.ts). */
  const parts = (trades: KitTrade[], readings: SignedMeterReading[], maxFills: number, interval?: number) => {
    const { orders, batchTrades } = marketView(trades, interval)
    return splitSettlement(batchTrades, (hash) => orders.get(hash)!.signed.order.owner, maxFills).map((p) => ({
      batch: buildSettlementBatch(p.trades, orders, byOwner(readings)),
      carried: p.carried,
      last: p.last,
    }))
  }

  /**
   * A fresh interval of the contract's grid that has ended long enough ago to settle with readings
   * left out, and whose settlement window stays open for hours: from 12 hours behind the chain's
   * clock, each call one interval later than the last; when that catches up with the clock, the
   * chain's clock is moved on (anvil) rather than handing out an interval that cannot settle yet.
   */
  let lastSlot = 0
  const slot = async (): Promise<number> => {
    const length = chain.deployment.intervalLength
    const now = Number((await chain.publicClient.getBlock()).timestamp)
    const candidate = Math.floor((now - Math.min(12 * 3600, chain.deployment.settlementWindow / 2)) / length) * length
    lastSlot = Math.max(candidate, lastSlot + length)
    const settleableFrom = lastSlot + 2 * length
    if (settleableFrom > now) {
      await chain.publicClient.request({ method: 'evm_increaseTime' as never, params: [`0x${(settleableFrom - now).toString(16)}`] as never })
      await chain.publicClient.request({ method: 'evm_mine' as never, params: [] as never })
    }
    return lastSlot
  }

  const call = (interval: number, b: SettlementBatch, at: Hex = community) => ({
    address: settlement,
    abi: energySettlementAbi,
    functionName: 'settleInterval' as const,
    args: [at, BigInt(interval), ...encodeSettlementBatch(b)] as const,
  })
  const partCall = (interval: number, b: SettlementBatch, carried: readonly Address[]) => ({
    address: settlement,
    abi: energySettlementAbi,
    functionName: 'settleIntervalPart' as const,
    args: [community, BigInt(interval), ...encodeSettlementBatch(b), encodeCarried(carried)] as const,
  })

  const settle = async (interval: number, b: SettlementBatch) => {
    const hash = await chain.operator.writeContract({ ...call(interval, b), chain: chain.operator.chain, account: chain.operator.account! })
    return chain.publicClient.waitForTransactionReceipt({ hash })
  }

  /** Settles a part that is not the interval's last, `carried` continuing into later parts. */
  const settlePart = async (interval: number, b: SettlementBatch, carried: readonly Address[]) => {
    const hash = await chain.operator.writeContract({ ...partCall(interval, b, carried), chain: chain.operator.chain, account: chain.operator.account! })
    return chain.publicClient.waitForTransactionReceipt({ hash })
  }
  const simulatePart = (interval: number, b: SettlementBatch, carried: readonly Address[]) =>
    chain.publicClient.simulateContract({ ...partCall(interval, b, carried), account: chain.operator.account! })
  /** Simulates `settleInterval` naming another community than the contract's. */
  const simulateAt = (at: Hex, interval: number, b: SettlementBatch) => chain.publicClient.simulateContract({ ...call(interval, b, at), account: chain.operator.account! })

  /** Runs the call as the operator without sending it; rejects with the contract's error. */
  const simulate = (interval: number, b: SettlementBatch, account = chain.operator.account!) => chain.publicClient.simulateContract({ ...call(interval, b), account })

  const balance = (owner: `0x${string}`, blockNumber?: bigint) =>
    chain.publicClient.readContract({ address: settlement, abi: energySettlementAbi, functionName: 'balanceOf', args: [owner], blockNumber })

  // rawFill and rawReading: one fill or reading exactly as given, for batches the contract must refuse.
  return { address, order, sign, digest, reading, rawFill: contractFill, rawReading: contractReading, batch, parts, slot, settle, simulate, settlePart, simulatePart, simulateAt, balance }
}
