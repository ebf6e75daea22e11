import { encodeAbiParameters, keccak256, parseSignature, signatureToCompactSignature, type AccessList, type Address, type Hex } from 'viem'
import { energySettlementAccountsSlot } from '../../contracts/generated/artifacts.ts'
import type { SignedMeterReading } from '../../protocol/meter-reading.ts'
import type { Trade } from '../../protocol/messages.ts'
import type { SignedOrder } from '../../protocol/order.ts'
import type { OrderFill } from '../engine/book.ts'

/** One order's fill at one grid node and price, summed over the trades there. */
interface GroupedFill {
  node: string
  price: number
  filledWh: number
}

/** A fill's key: under pay-as-bid one node trades an order at several prices. */
export const fillKey = (hash: string, node: string, price: number) => `${hash}|${node}|${price}`

/**
 * An interval's trades as fills, grouped by order (by its hash, in order of first appearance) and keyed
 * by `fillKey`: each at the order's own side of the price (buyers pay `price`, sellers receive
 * `sellerPrice`). The one grouping behind both the awards and the settlement batch.
 */
function groupFills(trades: readonly BatchTrade[]): Map<string, Map<string, GroupedFill>> {
  const byOrder = new Map<string, Map<string, GroupedFill>>()
  const add = (hash: string, node: string, price: number, energyWh: number) => {
    const fills = byOrder.get(hash) ?? new Map<string, GroupedFill>()
    const key = fillKey(hash, node, price)
    const fill = fills.get(key) ?? { node, price, filledWh: 0 }
    fill.filledWh += energyWh
    fills.set(key, fill)
    byOrder.set(hash, fills)
  }
  for (const t of trades) {
    add(t.buyOrder, t.node, t.price, t.energyWh)
    add(t.sellOrder, t.node, t.sellerPrice, t.energyWh)
  }
  return byOrder
}

/**
 * The settlement fills of a cleared interval, from its trades: one per order, grid node and price,
 * each at the order's own side of the price. Pure.
 */
export function fillsOf(result: { trades: readonly BatchTrade[] }, orders: readonly { hash: Hex; owner: Address; side: 0 | 1 }[]): OrderFill[] {
  const byHash = new Map(orders.map((o) => [o.hash as string, o]))
  return [...groupFills(result.trades)].flatMap(([hash, fills]) => {
    const order = byHash.get(hash)
    if (!order) throw new Error(`trade names unknown order ${hash}`)
    return [...fills.values()].map((f) => ({ hash: order.hash, owner: order.owner, side: order.side, filledWh: f.filledWh, price: f.price }))
  })
}

/** One `Fill` of the contract's `settleInterval`. */
export interface ContractFill {
  owner: Address
  side: number
  energyWh: bigint
  limitPrice: bigint
  nonce: bigint
  filledWh: bigint
  price: bigint
  r: Hex
  vs: Hex
}

/** One `Trade` of `settleInterval`: energy from the sell fill at index `sellFill` to the buy fill at `buyFill`. */
export interface ContractTrade {
  buyFill: number
  sellFill: number
  energyWh: bigint
}

/** One `Reading` of the contract's `settleInterval`. */
export interface ContractReading {
  owner: Address
  exportedWh: bigint
  importedWh: bigint
  r: Hex
  vs: Hex
}

export interface SettlementBatch {
  fills: ContractFill[]
  trades: ContractTrade[]
  readings: ContractReading[]
}

/** A batch as the market built it, with the order hash of every fill (what a revert's fill index names). */
export interface BuiltBatch extends SettlementBatch {
  fillOrders: string[]
}

/**
 * The batch as `settleInterval`'s packed `fills`, `trades` and `readings` bytes (layouts in
 * EnergySettlement.sol: FILL_BYTES, TRADE_BYTES, READING_BYTES).
 * @example
 * const [fills, trades, readings] = encodeSettlementBatch(batch)
 */
export function encodeSettlementBatch(batch: SettlementBatch): [Hex, Hex, Hex] {
  const fills = batch.fills.map(
    (f) =>
      f.owner.slice(2) +
      uintHex(BigInt(f.side), 1) +
      uintHex(f.energyWh, 8) +
      uintHex(f.limitPrice, 8) +
      uintHex(f.nonce, 8) +
      uintHex(f.filledWh, 8) +
      uintHex(f.price, 8) +
      f.r.slice(2).padStart(64, '0') +
      f.vs.slice(2).padStart(64, '0'),
  )
  const trades = batch.trades.map((t) => uintHex(BigInt(t.buyFill), 2) + uintHex(BigInt(t.sellFill), 2) + uintHex(t.energyWh, 8))
  const readings = batch.readings.map((r) => r.owner.slice(2) + uintHex(r.exportedWh, 8) + uintHex(r.importedWh, 8) + r.r.slice(2).padStart(64, '0') + r.vs.slice(2).padStart(64, '0'))
  return [`0x${fills.join('')}`, `0x${trades.join('')}`, `0x${readings.join('')}`]
}

/** `settleIntervalPart`'s packed `carried` owners (20 bytes each, as given: increasing). */
export function encodeCarried(owners: readonly Address[]): Hex {
  return `0x${owners.map((o) => o.slice(2).toLowerCase()).join('')}`
}

/**
 * The EIP-2930 access list of a settlement transaction: the settlement contract with the account slot
 * of every owner in the batch and of the fee recipient. A listed slot costs 1,900 gas up front instead
 * of 2,100 on first touch.
 */
export function settlementAccessList(batch: SettlementBatch, settlement: Address, feeRecipient: Address): AccessList {
  const owners = new Set([...batch.fills.map((f) => f.owner.toLowerCase()), feeRecipient.toLowerCase()])
  const storageKeys = [...owners].map((owner) => keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }], [owner as Address, energySettlementAccountsSlot])))
  return [{ address: settlement, storageKeys }]
}

function uintHex(value: bigint, bytes: number): string {
  if (value < 0n || value >= 1n << BigInt(bytes * 8)) throw new RangeError(`${value} does not fit in ${bytes} bytes`)
  return value.toString(16).padStart(bytes * 2, '0')
}

/** What the batch builder needs of one trade: the two orders, where it cleared, how much, at what prices. */
export type BatchTrade = Pick<Trade, 'buyOrder' | 'sellOrder' | 'node' | 'energyWh' | 'price' | 'sellerPrice'>

/**
 * The contract's arguments for one interval, in the order it requires: one fill per order, grid node
 * and price, an order's fills next to each other, distinct orders by increasing EIP-712 digest (their
 * `hash`); one trade per pair of fills that traded; one meter reading per seller that has one, by
 * increasing address. Pure.
 *
 * @example
 * const batch = buildSettlementBatch(result.trades, ordersByHash, readingsByOwner)
 */
export function buildSettlementBatch(
  trades: readonly BatchTrade[],
  orders: ReadonlyMap<string, { signed: SignedOrder }>,
  readings: ReadonlyMap<string, SignedMeterReading>,
): BuiltBatch {
  const byOrder = groupFills(trades)
  const index = new Map<string, number>()
  const contractFills: ContractFill[] = []
  const fillOrders: string[] = []
  for (const hash of [...byOrder.keys()].sort(compareHex)) {
    const stored = orders.get(hash)
    if (!stored) throw new Error(`trade names unknown order ${hash}`)
    for (const [key, f] of byOrder.get(hash)!) {
      index.set(key, contractFills.length)
      contractFills.push(contractFill(stored.signed, f.filledWh, f.price))
      fillOrders.push(hash)
    }
  }
  // One trade per pair of fills, in the order the engine matched them (a seller's delivery goes to its
  // trades in this order).
  const pairs = new Map<string, ContractTrade>()
  for (const t of trades) {
    const buyFill = index.get(fillKey(t.buyOrder, t.node, t.price))!
    const sellFill = index.get(fillKey(t.sellOrder, t.node, t.sellerPrice))!
    const pair = pairs.get(`${buyFill}:${sellFill}`) ?? { buyFill, sellFill, energyWh: 0n }
    pair.energyWh += BigInt(t.energyWh)
    pairs.set(`${buyFill}:${sellFill}`, pair)
  }
  const sellers = [...new Set(contractFills.filter((f) => f.side === 1).map((f) => f.owner.toLowerCase()))].sort(compareHex)
  const contractReadings = sellers.flatMap((owner) => {
    const signed = readings.get(owner)
    return signed ? [contractReading(signed)] : []
  })
  return { fills: contractFills, trades: [...pairs.values()], readings: contractReadings, fillOrders }
}

/** One signed order's fill as the contract takes it: the order's fields, the fill, the EIP-2098 compact signature. */
export function contractFill(signed: SignedOrder, filledWh: number, price: number): ContractFill {
  const { order } = signed
  const { r, yParityAndS } = signatureToCompactSignature(parseSignature(signed.signature))
  return {
    owner: order.owner,
    side: order.side,
    energyWh: BigInt(order.energyWh),
    limitPrice: BigInt(order.limitPrice),
    nonce: BigInt(order.nonce),
    filledWh: BigInt(filledWh),
    price: BigInt(price),
    r,
    vs: yParityAndS,
  }
}

/** A signed meter reading as the contract takes it. */
export function contractReading(signed: SignedMeterReading): ContractReading {
  const { r, yParityAndS } = signatureToCompactSignature(parseSignature(signed.signature))
  const { reading } = signed
  return { owner: reading.owner, exportedWh: BigInt(reading.exportedWh), importedWh: BigInt(reading.importedWh), r, vs: yParityAndS }
}

function compareHex(a: string, b: string): number {
  const x = BigInt(a)
  const y = BigInt(b)
  return x < y ? -1 : x > y ? 1 : 0
}
