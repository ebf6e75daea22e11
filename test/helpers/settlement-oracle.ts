import type { Address } from 'viem'
import type { SettlementBatch } from '../../market/service/settlement-batch.ts'
import { buyerPaysBaseUnits, imbalanceChargeBaseUnits, sellerReceivesBaseUnits } from '../../protocol/units.ts'

// A test oracle: the contract's settlement rules written again, plainly, in TypeScript, so tests can
// tell what a batch should do to balances without asking the contract. Production code reads the
// contract's events instead (settlement-submitter.ts).

export interface SellerDelivery {
  owner: Address
  soldWh: number
  deliveredWh: number
  shortfallWh: number
  /** What the seller paid its buyers for its shortfall. */
  chargedBaseUnits: bigint
}

export interface SettlementOutcomePreview {
  /** Change of each owner's escrow balance (lower-case address), fee recipient excluded. */
  deltas: Map<string, bigint>
  fees: bigint
  deliveries: SellerDelivery[]
}

/**
 * What `settleInterval` does to balances, worked out independently of the contract from the same
 * rules (EnergySettlement.sol): a seller's reading is given to its trades in batch order, a buyer pays
 * its price (rounded up) for the delivered energy only, a seller is paid its price (rounded down) for
 * it and pays the imbalance price (rounded down) per trade to the buyer it left short. A test oracle
 * and a preview: it does not check signatures, limits or escrow. Pure.
 */
export function previewSettlement(batch: SettlementBatch, imbalancePrice: bigint): SettlementOutcomePreview {
  const deltas = new Map<string, bigint>()
  const add = (owner: string, amount: bigint) => deltas.set(owner.toLowerCase(), (deltas.get(owner.toLowerCase()) ?? 0n) + amount)
  const exportLeft = new Map(batch.readings.map((r) => [r.owner.toLowerCase(), r.exportedWh]))
  const delivered = batch.fills.map(() => 0n)
  const deliveries = new Map<string, SellerDelivery>()
  for (const t of batch.trades) {
    const seller = batch.fills[t.sellFill]!
    const buyer = batch.fills[t.buyFill]!
    const owner = seller.owner.toLowerCase()
    const left = exportLeft.get(owner) ?? 0n
    const got = left < t.energyWh ? left : t.energyWh
    exportLeft.set(owner, left - got)
    delivered[t.sellFill]! += got
    delivered[t.buyFill]! += got
    const d = deliveries.get(owner) ?? { owner: seller.owner, soldWh: 0, deliveredWh: 0, shortfallWh: 0, chargedBaseUnits: 0n }
    d.soldWh += Number(t.energyWh)
    d.deliveredWh += Number(got)
    if (got < t.energyWh) {
      const charge = imbalanceChargeBaseUnits(t.energyWh - got, imbalancePrice)
      d.shortfallWh += Number(t.energyWh - got)
      d.chargedBaseUnits += charge
      add(owner, -charge)
      add(buyer.owner, charge)
    }
    deliveries.set(owner, d)
  }
  let paid = 0n
  let received = 0n
  batch.fills.forEach((f, i) => {
    if (f.side === 0) {
      const amount = buyerPaysBaseUnits(delivered[i]!, f.price)
      paid += amount
      add(f.owner, -amount)
    } else {
      const amount = sellerReceivesBaseUnits(delivered[i]!, f.price)
      received += amount
      add(f.owner, amount)
    }
  })
  return { deltas, fees: paid - received, deliveries: [...deliveries.values()] }
}

