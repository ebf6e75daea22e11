import type { BookEntry } from '../../../protocol/api.ts'

/** One step of a curve: from `fromWh` to `toWh` of cumulative energy at `price` (base units per kWh). */
export interface CurveStep {
  fromWh: number
  toWh: number
  price: number
}

/**
 * The interval's demand curve (bids, highest price first) and supply curve (asks, lowest first) as
 * cumulative steps: where they cross is the uniform clearing point. Pure.
 * @example supplyDemandCurves([{ side: 0, energyWh: 50, limitPrice: 200_000 }]).demand // [{ fromWh: 0, toWh: 50, price: 200000 }]
 */
export function supplyDemandCurves(book: readonly BookEntry[]): { demand: CurveStep[]; supply: CurveStep[] } {
  const steps = (entries: BookEntry[]) => {
    let at = 0
    return entries.map((e) => {
      const step = { fromWh: at, toWh: at + e.energyWh, price: e.limitPrice }
      at += e.energyWh
      return step
    })
  }
  return {
    demand: steps(book.filter((e) => e.side === 0).sort((a, b) => b.limitPrice - a.limitPrice)),
    supply: steps(book.filter((e) => e.side === 1).sort((a, b) => a.limitPrice - b.limitPrice)),
  }
}
