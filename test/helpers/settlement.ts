import { hashTypedData, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { energySettlementAbi } from '../../contracts/generated/artifacts.ts'
import { signMeterReading } from '../../edge-agent/meter-reading-signer.ts'
import { signOrder } from '../../edge-agent/order-signer.ts'
import { buildSettlementBatch, contractFill, contractReading, encodeSettlementBatch, type SettlementBatch } from '../../market/service/settlement-batch.ts'
import type { SignedMeterReading } from '../../protocol/meter-reading.ts'
import { orderDomain, orderMessage, orderTypes, type Order, type SignedOrder } from '../../protocol/order.ts'
import type { TestChain } from './chain.ts'

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
   * A well-formed batch from fills and readings, ordered by the market's own batch builder. Orders are
   * sorted by the digest the contract computes: under this kit's community and the batch's interval
   * (`interval`, default each order's own), whatever the order itself names.
   */
  const batch = (fills: { signed: SignedOrder; filledWh: number; price: number }[], readings: SignedMeterReading[] = [], interval?: number): SettlementBatch => {
    const onChain = (o: Order) => digest({ ...o, community, interval: interval ?? o.interval })
    const orders = new Map(fills.map((f) => [onChain(f.signed.order) as string, { signed: f.signed }]))
    const orderFills = fills.map((f) => ({ hash: onChain(f.signed.order), owner: f.signed.order.owner, side: f.signed.order.side, filledWh: f.filledWh, price: f.price }))
    return buildSettlementBatch(orderFills, orders, new Map(readings.map((r) => [r.reading.owner.toLowerCase(), r])))
  }

  const call = (interval: number, b: SettlementBatch) => ({
    address: settlement,
    abi: energySettlementAbi,
    functionName: 'settleInterval' as const,
    args: [community, BigInt(interval), ...encodeSettlementBatch(b)] as const,
  })

  const settle = async (interval: number, b: SettlementBatch) => {
    const hash = await chain.operator.writeContract({ ...call(interval, b), chain: chain.operator.chain, account: chain.operator.account! })
    return chain.publicClient.waitForTransactionReceipt({ hash })
  }

  /** Runs the call as the operator without sending it; rejects with the contract's error. */
  const simulate = (interval: number, b: SettlementBatch, account = chain.operator.account!) => chain.publicClient.simulateContract({ ...call(interval, b), account })

  const balance = (owner: `0x${string}`, blockNumber?: bigint) =>
    chain.publicClient.readContract({ address: settlement, abi: energySettlementAbi, functionName: 'balanceOf', args: [owner], blockNumber })

  // rawFill and rawReading: one fill or reading exactly as given, for batches the contract must refuse.
  return { address, order, sign, digest, reading, rawFill: contractFill, rawReading: contractReading, batch, settle, simulate, balance }
}
