import { homeSavings } from './study-kpis.ts'
import type { StudyRun } from './study-run.ts'

/**
 * The runs' community time series as CSV, one row per interval and mode: energies in Wh (the
 * batteries' net output; traded = awarded, of which delivered and short), money in base units (paid
 * for delivered energy, imbalance charges), the interval's volume-weighted price of delivered energy
 * in base units per kWh (empty when nothing was delivered) and the most loaded transformer's loading (share of its rating); with cables in the
 * scenario also the cable losses (Wh) and the lowest and highest home voltage (share of nominal).
 *
 * @example writeFileSync('timeseries.csv', studyCsv([p2p]))
 */
export function studyCsv(runs: readonly StudyRun[]): string {
  const grid = runs.every((r) => r.lowVoltage)
  const lines = [`interval_start_utc,mode,pv_wh,load_wh,battery_wh,grid_import_wh,grid_export_wh,traded_wh,delivered_wh,shortfall_wh,traded_paid,imbalance_charges,price_per_kwh,max_transformer_loading${grid ? ',losses_wh,min_voltage_pu,max_voltage_pu' : ''}`]
  for (const run of runs) {
    const s = run.series
    for (let t = 0; t < run.intervalStartMs.length; t++) {
      const price = s.deliveredWh[t]! > 0 ? Math.round((s.tradedPaid[t]! * 1000) / s.deliveredWh[t]!) : ''
      const lv = grid ? run.lowVoltage!.series : null
      const gridColumns = lv ? `,${lv.lossesWh[t]!.toFixed(1)},${lv.minPu[t]!.toFixed(5)},${lv.maxPu[t]!.toFixed(5)}` : ''
      lines.push(`${new Date(run.intervalStartMs[t]!).toISOString()},${run.mode},${s.pvWh[t]},${s.loadWh[t]},${s.batteryWh[t]},${s.gridImportWh[t]},${s.gridExportWh[t]},${s.tradedWh[t]},${s.deliveredWh[t]},${s.shortfallWh[t]},${s.tradedPaid[t]},${s.imbalanceCharges[t]},${price},${s.maxTransformerLoading[t]!.toFixed(4)}${gridColumns}`)
    }
  }
  return `${lines.join('\n')}\n`
}

/**
 * Every home of every run as CSV, one row per home and mode: its year in Wh and base units (meters,
 * trades delivered and short, payments, imbalance charges, saving against no trading), and with
 * cables its own lowest and highest voltage (share of nominal), its largest rise above the busbar (%)
 * and the intervals it spent outside EN 50160's band or above a 3 % rise.
 *
 * @example writeFileSync('homes.csv', homesCsv([p2p]))
 */
export function homesCsv(runs: readonly StudyRun[]): string {
  const grid = runs.every((r) => r.lowVoltage)
  const lines = [`home,mode,pv_wh,load_wh,import_wh,export_wh,bought_wh,sold_wh,shortfall_wh,paid,received,imbalance_paid,imbalance_received,savings${grid ? ',min_voltage_pu,max_voltage_pu,max_rise_pct,intervals_outside_en50160,intervals_rise_over_3pct' : ''}`]
  for (const run of runs) {
    const h = run.homes
    const savings = homeSavings(run)
    h.ids.forEach((id, i) => {
      const lv = run.lowVoltage?.homes
      const gridColumns = grid && lv ? `,${lv.minPu[i]!.toFixed(5)},${lv.maxPu[i]!.toFixed(5)},${(lv.maxRisePu[i]! * 100).toFixed(3)},${lv.intervalsOutsideBand[i]},${lv.intervalsRiseOver3Pct[i]}` : ''
      lines.push(`${id},${run.mode},${h.pvWh[i]},${h.loadWh[i]},${h.importWh[i]},${h.exportWh[i]},${h.boughtWh[i]},${h.soldWh[i]},${h.shortfallWh[i]},${h.paid[i]},${h.received[i]},${h.imbalancePaid[i]},${h.imbalanceReceived[i]},${savings[i]}${gridColumns}`)
    })
  }
  return `${lines.join('\n')}\n`
}
