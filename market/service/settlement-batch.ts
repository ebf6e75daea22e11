import { encodeAbiParameters, keccak256, parseSignature, signatureToCompactSignature, type AccessList, type Address, type Hex } from 'viem'
import { energySettlementAccountsSlot } from '../../contracts/generated/artifacts.ts'
import type { SignedMeterReading } from '../../protocol/meter-reading.ts'
import type { Trade } from '../../protocol/messages.ts'
import type { SignedOrder } from '../../protocol/order.ts'
import { buyerPaysBaseUnits, sellerReceivesBaseUnits } from '../../protocol/units.ts'
import type { OrderFill } from '../engine/clearing.ts'

/**
 * The settlement fills of a cleared interval, from its trades: one per order and grid node, each at
 * the order's own side of the price (buyers pay `price`, sellers receive `sellerPrice`). Pure.
 */
export function fillsOf(
  result: { trades: readonly Pick<Trade, 'buyOrder' | 'sellOrder' | 'node' | 'energyWh' | 'price' | 'sellerPrice'>[] },
  orders: readonly { hash: Hex; owner: Address; side: 0 | 1 }[],
): OrderFill[] {
  const byHash = new Map(orders.map((o) => [o.hash as string, o]))
  // Keyed by node and price: under pay-as-bid one node trades an order at several prices.
  const perOrder = new Map<string, Map<string, OrderFill>>()
  const add = (hash: string, node: string, energyWh: number, price: number) => {
    const order = byHash.get(hash)
    if (!order) throw new Error(`trade names unknown order ${hash}`)
    const fills = perOrder.get(hash) ?? new Map<string, OrderFill>()
    const key = `${node}@${price}`
    const fill = fills.get(key) ?? { hash: order.hash, owner: order.owner, side: order.side, filledWh: 0, price }
    fill.filledWh += energyWh
    fills.set(key, fill)
    perOrder.set(hash, fills)
  }
  for (const t of result.trades) {
    add(t.buyOrder, t.node, t.energyWh, t.price)
    add(t.sellOrder, t.node, t.energyWh, t.sellerPrice)
  }
  return [...perOrder.values()].flatMap((fills) => [...fills.values()])
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
  readings: ContractReading[]
}

/**
 * The batch as `settleInterval`'s packed `fills` and `readings` bytes (layouts in
 * EnergySettlement.sol: FILL_BYTES, READING_BYTES).
 * @example
 * const [fills, readings] = encodeSettlementBatch(batch)
 */
export function encodeSettlementBatch(batch: SettlementBatch): [Hex, Hex] {
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
  const readings = batch.readings.map((r) => r.owner.slice(2) + uintHex(r.exportedWh, 8) + uintHex(r.importedWh, 8) + r.r.slice(2).padStart(64, '0') + r.vs.slice(2).padStart(64, '0'))
  return [`0x${fills.join('')}`, `0x${readings.join('')}`]
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

/**
 * The contract's arguments for one interval, in the order it requires: an order's fills next to each
 * other, distinct orders by increasing EIP-712 digest (their `hash`), and one meter reading per
 * seller by increasing address. Pure.
 *
 * @example
 * const batch = buildSettlementBatch(fills, ordersByHash, readingsByOwner)
 */
export function buildSettlementBatch(
  fills: readonly OrderFill[],
  orders: ReadonlyMap<string, { signed: SignedOrder }>,
  readings: ReadonlyMap<string, SignedMeterReading>,
): SettlementBatch {
  const byOrder = new Map<string, OrderFill[]>()
  for (const f of fills) byOrder.set(f.hash, [...(byOrder.get(f.hash) ?? []), f])
  const hashes = [...byOrder.keys()].sort((a, b) => compareHex(a, b))
  const contractFills = hashes.flatMap((hash) => {
    const stored = orders.get(hash)
    if (!stored) throw new Error(`fill for unknown order ${hash}`)
    return byOrder.get(hash)!.map((f) => contractFill(stored.signed, f.filledWh, f.price))
  })
  const sellers = [...new Set(contractFills.filter((f) => f.side === 1).map((f) => f.owner.toLowerCase()))].sort(compareHex)
  const contractReadings = sellers.flatMap((owner) => {
    const signed = readings.get(owner)
    return signed ? [contractReading(signed)] : []
  })
  return { fills: contractFills, readings: contractReadings }
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

export interface SellerDelivery {
  owner: Address
  soldWh: number
  deliveredWh: number
  shortfallWh: number
  /** What the seller paid for its shortfall (capped by its balance). */
  chargedBaseUnits: bigint
}

export interface SettlementOutcomePreview {
  /** Change of each owner's escrow balance (lower-case address), fee recipient excluded. */
  deltas: Map<string, bigint>
  fees: bigint
  deliveries: SellerDelivery[]
}

/**
 * What `settleInterval` does to balances, computed exactly as the contract does (rounding,
 * delivery allocation in batch order, charges capped by the balance, pro-rata credits). Pure: the
 * balances before settlement are passed in.
 */
export function previewSettlement(batch: SettlementBatch, imbalancePrice: bigint, balanceBefore: (owner: string) => bigint): SettlementOutcomePreview {
  const deltas = new Map<string, bigint>()
  const add = (owner: string, amount: bigint) => deltas.set(owner, (deltas.get(owner) ?? 0n) + amount)
  const exportLeft = new Map(batch.readings.map((r) => [r.owner.toLowerCase(), r.exportedWh]))
  const deliveries = new Map<string, SellerDelivery>()
  let paid = 0n
  let received = 0n
  let pool = 0n
  let boughtWh = 0n
  for (const f of batch.fills) {
    const owner = f.owner.toLowerCase()
    if (f.side === 0) {
      const amount = buyerPaysBaseUnits(f.filledWh, f.price)
      add(owner, -amount)
      paid += amount
      boughtWh += f.filledWh
      continue
    }
    const left = exportLeft.get(owner) ?? 0n
    const delivered = left < f.filledWh ? left : f.filledWh
    exportLeft.set(owner, left - delivered)
    const amount = sellerReceivesBaseUnits(delivered, f.price)
    const due = sellerReceivesBaseUnits(f.filledWh, f.price)
    received += due
    add(owner, amount)
    const d = deliveries.get(owner) ?? { owner: f.owner, soldWh: 0, deliveredWh: 0, shortfallWh: 0, chargedBaseUnits: 0n }
    d.soldWh += Number(f.filledWh)
    d.deliveredWh += Number(delivered)
    if (delivered < f.filledWh) {
      const shortfall = f.filledWh - delivered
      let charge = buyerPaysBaseUnits(shortfall, imbalancePrice)
      const balance = balanceBefore(owner) + deltas.get(owner)!
      if (charge > balance) charge = balance
      add(owner, -charge)
      d.shortfallWh += Number(shortfall)
      d.chargedBaseUnits += charge
      pool += due - amount + charge
    }
    deliveries.set(owner, d)
  }
  let fees = paid - received
  if (pool > 0n) {
    let remainder = pool
    for (const f of batch.fills) {
      if (f.side !== 0) continue
      const share = (pool * f.filledWh) / boughtWh
      add(f.owner.toLowerCase(), share)
      remainder -= share
    }
    fees += remainder
  }
  return { deltas, fees, deliveries: [...deliveries.values()] }
}

function compareHex(a: string, b: string): number {
  const x = BigInt(a)
  const y = BigInt(b)
  return x < y ? -1 : x > y ? 1 : 0
}
