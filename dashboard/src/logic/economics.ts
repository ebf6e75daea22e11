import type { TradeView } from '../../../protocol/api.ts'
import { buyerPaysBaseUnitsNumber, sellerReceivesBaseUnitsNumber } from '../../../protocol/units.ts'

export interface HomeEconomics {
  soldWh: number
  boughtWh: number
  /** What the home was paid for what it sold, base units (docs/architecture.md rounding: the seller's side rounds down). */
  earned: number
  /** What it paid for what it bought (rounded up, as the buyer is charged). */
  paid: number
  /** Earned beyond what the utility's feed-in tariff would have paid for the same energy. */
  extraVsFeedIn: number
  /** Saved against buying the same energy from the utility at its retail tariff. */
  savedVsRetail: number
}

/**
 * A home's trading, and what it gained against the utility's tariffs, from its trades. Pure; money in
 * integer base units.
 * @example homeEconomics(trades, '0xabc…', { feedInPrice: 80_000, retailPrice: 300_000 })
 */
export function homeEconomics(trades: readonly TradeView[], address: string, tariffs: { feedInPrice: number; retailPrice: number } | undefined): HomeEconomics {
  const me = address.toLowerCase()
  const out: HomeEconomics = { soldWh: 0, boughtWh: 0, earned: 0, paid: 0, extraVsFeedIn: 0, savedVsRetail: 0 }
  for (const t of trades) {
    if (t.seller.toLowerCase() === me) {
      out.soldWh += t.energyWh
      out.earned += sellerReceivesBaseUnitsNumber(t.energyWh, t.sellerPrice)
      if (tariffs) out.extraVsFeedIn += sellerReceivesBaseUnitsNumber(t.energyWh, t.sellerPrice) - sellerReceivesBaseUnitsNumber(t.energyWh, tariffs.feedInPrice)
    }
    if (t.buyer.toLowerCase() === me) {
      out.boughtWh += t.energyWh
      out.paid += buyerPaysBaseUnitsNumber(t.energyWh, t.price)
      if (tariffs) out.savedVsRetail += buyerPaysBaseUnitsNumber(t.energyWh, tariffs.retailPrice) - buyerPaysBaseUnitsNumber(t.energyWh, t.price)
    }
  }
  return out
}
