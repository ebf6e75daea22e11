import type { StudyRun } from './study-run.ts'
import { buyerPaysBaseUnitsNumber, sellerReceivesBaseUnitsNumber } from '../protocol/units.ts'

/**
 * The study's key figures, by the published definitions (docs: README "Simulating a year"):
 * - self-sufficiency = demand covered from inside the community / total demand (Quaschning, "Autarkiegrad");
 * - self-consumption = PV energy used inside the community / PV energy produced ("Eigenverbrauchsanteil");
 *   "inside the community" counts a home's own use, its battery and neighbours who bought it;
 * - savings = what the homes would have paid with no trading (retail for every import, feed-in tariff
 *   for every export, same weather, load and battery, run alongside in the same study) minus what they
 *   pay in this run, imbalance charges included; positive is a gain;
 * - traded / delivered / shortfall: energy the market awarded, the part the sellers' meters covered,
 *   and the rest, for which sellers paid their buyers the imbalance price (the contract's rule);
 * - peak import / export per transformer: highest physical net flow through it in any interval, W;
 * - hours over capacity: hours in which a transformer's net flow exceeded its rating;
 * - average price: volume-weighted buyer price of delivered energy, base units per kWh;
 * - CO₂ avoided: demand covered inside the community × the grid's emission factor;
 * - low-voltage grid (with cables in the scenario): lowest and highest voltage at any home, hours with
 *   any home outside EN 50160's ±10 %, the highest rise above the transformer's busbar and hours with
 *   it above VDE-AR-N 4105's 3 %, homes that ever see that, the highest cable current against its
 *   ampacity and hours above it (summed over transformers), and cable losses.
 */
export interface StudyKpis {
  mode: string
  days: number
  homes: number
  demandKwh: number
  pvKwh: number
  gridImportKwh: number
  gridExportKwh: number
  selfSufficiency: number
  selfConsumption: number
  tradedKwh: number
  deliveredKwh: number
  shortfallKwh: number
  /** Imbalance charges sellers paid their buyers, base units. */
  imbalanceChargesBaseUnits: number
  /** Bought and delivered but not drawn by the buyer: on to the utility unpaid. */
  spilledKwh: number
  averagePricePerKwh: number | null
  /** Base units: what the homes pay the utility and each other, net of what they earn. */
  netCostBaseUnits: number
  savingsBaseUnits: number
  co2AvoidedKg: number
  transformers: { id: string; peakImportKw: number; peakExportKw: number; hoursOverCapacity: number }[]
  peakTransformerImportKw: number
  peakTransformerExportKw: number
  hoursOverCapacity: number
  lowVoltage: LowVoltageKpis | null
}

export interface LowVoltageKpis {
  minVoltagePu: number
  maxVoltagePu: number
  hoursOutsideEn50160: number
  maxRisePct: number
  hoursRiseOver3Pct: number
  homesRiseOver3Pct: number
  maxCableLoading: number
  hoursCableOverloaded: number
  lossesKwh: number
  /** Losses as a share of the energy the transformers delivered into their networks, both ways. */
  lossesShare: number
  /**
   * Transformer-intervals whose power flow did not converge: the cables cannot carry what the homes
   * ask of them, and the voltages of those intervals are not physical.
   */
  powerFlowsNotConverged: number
}

/**
 * What each home pays in a run, base units: imports at retail, exports at the feed-in tariff, plus
 * what it paid neighbours and imbalance charges it paid, minus what it received for both. Integers throughout.
 *
 * @example homeCosts(run)[0] // 1048200 (1.05 in a 6-decimal stablecoin)
 */
export function homeCosts(run: StudyRun): Float64Array {
  const { retailPerKwh, feedInPerKwh } = run.scenario.tariffs
  const h = run.homes
  return Float64Array.from(h.ids, (_, i) => buyerPaysBaseUnitsNumber(h.importWh[i]!, retailPerKwh) - sellerReceivesBaseUnitsNumber(h.exportWh[i]!, feedInPerKwh) + h.paid[i]! - h.received[i]! + h.imbalancePaid[i]! - h.imbalanceReceived[i]!)
}

/**
 * What each home would pay with no trading: its no-trading twin's imports at retail and exports at
 * the feed-in tariff, from the same weather, load and battery run alongside in the same study (trading
 * changes what the batteries do, so the baseline cannot be worked back from the trades).
 */
export function noTradingCosts(run: StudyRun): Float64Array {
  const { retailPerKwh, feedInPerKwh } = run.scenario.tariffs
  const h = run.homes
  return Float64Array.from(h.ids, (_, i) => buyerPaysBaseUnitsNumber(h.baselineImportWh[i]!, retailPerKwh) - sellerReceivesBaseUnitsNumber(h.baselineExportWh[i]!, feedInPerKwh))
}

/**
 * Each home's saving against no trading, base units.
 *
 * @example homeSavings(p2p)[3] // 74100
 */
export function homeSavings(run: StudyRun): Float64Array {
  const before = noTradingCosts(run)
  const after = homeCosts(run)
  return before.map((b, i) => b - after[i]!)
}

/**
 * The KPIs of a run.
 *
 * @example studyKpis(p2p).selfSufficiency // 0.43
 */
export function studyKpis(run: StudyRun): StudyKpis {
  const sum = (a: Float64Array) => a.reduce((x, y) => x + y, 0)
  const demandWh = sum(run.series.loadWh)
  const pvWh = sum(run.series.pvWh)
  const importWh = sum(run.series.gridImportWh)
  const exportWh = sum(run.series.gridExportWh)
  const tradedWh = sum(run.series.tradedWh)
  const deliveredWh = sum(run.series.deliveredWh)
  const paid = sum(run.series.tradedPaid)
  const cost = sum(homeCosts(run))
  const savings = sum(homeSavings(run))
  const hoursPerInterval = run.intervalMinutes / 60
  const transformers = run.transformers.ids.map((id, x) => ({
    id,
    peakImportKw: round(run.transformers.peakImportW[x]! / 1000, 2),
    peakExportKw: round(run.transformers.peakExportW[x]! / 1000, 2),
    hoursOverCapacity: run.transformers.intervalsOverCapacity[x]! * hoursPerInterval,
  }))
  return {
    mode: run.mode,
    days: run.days,
    homes: run.homes.ids.length,
    demandKwh: round(demandWh / 1000, 1),
    pvKwh: round(pvWh / 1000, 1),
    gridImportKwh: round(importWh / 1000, 1),
    gridExportKwh: round(exportWh / 1000, 1),
    selfSufficiency: demandWh > 0 ? round(1 - importWh / demandWh, 4) : 0,
    selfConsumption: pvWh > 0 ? round(1 - exportWh / pvWh, 4) : 0,
    tradedKwh: round(tradedWh / 1000, 1),
    deliveredKwh: round(deliveredWh / 1000, 1),
    shortfallKwh: round(sum(run.series.shortfallWh) / 1000, 1),
    imbalanceChargesBaseUnits: sum(run.series.imbalanceCharges),
    spilledKwh: round(sum(run.homes.spilledWh) / 1000, 1),
    averagePricePerKwh: deliveredWh > 0 ? Math.round((paid * 1000) / deliveredWh) : null,
    netCostBaseUnits: cost,
    savingsBaseUnits: savings,
    co2AvoidedKg: round(((demandWh - importWh) / 1000) * (run.scenario.co2GramsPerKwh / 1000), 1),
    transformers,
    peakTransformerImportKw: Math.max(0, ...transformers.map((t) => t.peakImportKw)),
    peakTransformerExportKw: Math.max(0, ...transformers.map((t) => t.peakExportKw)),
    hoursOverCapacity: transformers.reduce((n, t) => n + t.hoursOverCapacity, 0),
    lowVoltage: lowVoltageKpis(run),
  }
}

function lowVoltageKpis(run: StudyRun): LowVoltageKpis | null {
  const lv = run.lowVoltage
  if (!lv) return null
  const hours = run.intervalMinutes / 60
  let outside = 0
  let riseOver = 0
  let through = 0
  for (let t = 0; t < lv.series.minPu.length; t++) {
    if (lv.series.minPu[t]! < 0.9 || lv.series.maxPu[t]! > 1.1) outside++
    if (lv.series.maxPu[t]! - lv.busbarPu > 0.03) riseOver++
    through += Math.abs(lv.series.deliveredWh[t]!)
  }
  const lossesWh = lv.series.lossesWh.reduce((a, b) => a + b, 0)
  return {
    minVoltagePu: round(Math.min(...lv.homes.minPu), 4),
    maxVoltagePu: round(Math.max(...lv.homes.maxPu), 4),
    hoursOutsideEn50160: outside * hours,
    maxRisePct: round(Math.max(0, ...lv.homes.maxRisePu) * 100, 2),
    hoursRiseOver3Pct: riseOver * hours,
    homesRiseOver3Pct: lv.homes.intervalsRiseOver3Pct.filter((n) => n > 0).length,
    maxCableLoading: round(Math.max(0, ...lv.transformers.maxCableLoading), 3),
    hoursCableOverloaded: lv.transformers.intervalsCableOverloaded.reduce((a, b) => a + b, 0) * hours,
    lossesKwh: round(lossesWh / 1000, 1),
    lossesShare: through > 0 ? round(lossesWh / through, 4) : 0,
    powerFlowsNotConverged: lv.notConverged,
  }
}

function round(value: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}
