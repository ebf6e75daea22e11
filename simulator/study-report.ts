import type { StudyRun } from './study-run.ts'
import { homeSavings, type StudyKpis } from './study-kpis.ts'

/** Okabe–Ito: distinguishable with every common colour-vision deficiency (same palette as the dashboard). */
const MODE_COLOURS: Record<string, string> = { 'no-trading': '#999999', p2p: '#0072B2', 'p2p-battery': '#D55E00', 'p2p-perfect': '#009E73', 'p2p-voltage-limit': '#CC79A7' }
const MODE_NAMES: Record<string, string> = { 'no-trading': 'No trading', p2p: 'P2P trading', 'p2p-battery': 'P2P + battery strategy', 'p2p-perfect': 'P2P, perfect foresight', 'p2p-voltage-limit': 'P2P, voltage limit in clearing' }
const W = 760
const H = 220
const PAD = 44

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)
const fmt = (v: number, digits = 0) => v.toLocaleString('en-GB', { maximumFractionDigits: digits, minimumFractionDigits: digits })

/**
 * The study as one self-contained HTML page (inline SVG, no scripts, no network): the KPIs side by
 * side for every mode run, transformer loading over the year, a heat map of when energy is available,
 * price and volume distributions, and every home's savings. `currency` divides base units for display.
 *
 * @example writeFileSync('report.html', studyReport(runs, kpis))
 */
export function studyReport(runs: readonly StudyRun[], kpis: readonly StudyKpis[], baseUnitsPerCurrency = 1_000_000): string {
  const first = runs[0]!
  const s = first.scenario
  const money = (baseUnits: number) => fmt(baseUnits / baseUnitsPerCurrency, 2)
  const pct = (share: number) => `${fmt(share * 100, 1)} %`
  const rows: [string, (k: StudyKpis) => string][] = [
    ['Self-sufficiency', (k) => pct(k.selfSufficiency)],
    ['Self-consumption of PV', (k) => pct(k.selfConsumption)],
    ['Demand, kWh', (k) => fmt(k.demandKwh)],
    ['PV production, kWh', (k) => fmt(k.pvKwh)],
    ['Import from the grid, kWh', (k) => fmt(k.gridImportKwh)],
    ['Export to the grid, kWh', (k) => fmt(k.gridExportKwh)],
    ['Traded between neighbours, kWh', (k) => fmt(k.tradedKwh)],
    ['Of that, not delivered (imbalance), kWh', (k) => fmt(k.shortfallKwh)],
    ['Imbalance charges sellers paid buyers', (k) => money(k.imbalanceChargesBaseUnits)],
    ['Bought but not drawn (on to the utility unpaid), kWh', (k) => fmt(k.spilledKwh)],
    ['Average trade price per kWh', (k) => (k.averagePricePerKwh === null ? '–' : money(k.averagePricePerKwh))],
    ['Net cost of all homes', (k) => money(k.netCostBaseUnits)],
    ['Savings against no trading', (k) => money(k.savingsBaseUnits)],
    ['Peak transformer import, kW', (k) => fmt(k.peakTransformerImportKw, 1)],
    ['Peak transformer export, kW', (k) => fmt(k.peakTransformerExportKw, 1)],
    ['Transformer hours over capacity', (k) => fmt(k.hoursOverCapacity, 2)],
    ['CO₂ avoided, kg', (k) => fmt(k.co2AvoidedKg)],
  ]
  if (kpis[0]?.lowVoltage) {
    const lv = (k: StudyKpis) => k.lowVoltage!
    rows.push(
      ['Lowest voltage at a home, % of nominal', (k) => fmt(lv(k).minVoltagePu * 100, 1)],
      ['Highest voltage at a home, % of nominal', (k) => fmt(lv(k).maxVoltagePu * 100, 1)],
      ['Hours outside EN 50160 (±10 %)', (k) => fmt(lv(k).hoursOutsideEn50160, 2)],
      ['Highest voltage rise from feed-in, %', (k) => fmt(lv(k).maxRisePct, 2)],
      ['Hours with rise above 3 % (VDE-AR-N 4105)', (k) => fmt(lv(k).hoursRiseOver3Pct, 2)],
      ['Homes ever above 3 % rise', (k) => fmt(lv(k).homesRiseOver3Pct)],
      ['Highest cable loading, % of ampacity', (k) => fmt(lv(k).maxCableLoading * 100, 1)],
      ['Cable hours over ampacity', (k) => fmt(lv(k).hoursCableOverloaded, 2)],
      ['Cable losses, kWh', (k) => fmt(lv(k).lossesKwh)],
      ['Cable losses, share of energy through the transformers', (k) => pct(lv(k).lossesShare)],
      ['Power flows that did not converge (voltages there not physical)', (k) => fmt(lv(k).powerFlowsNotConverged)],
    )
  }
  const table = `<table><thead><tr><th></th>${kpis.map((k) => `<th>${MODE_NAMES[k.mode]}</th>`).join('')}</tr></thead><tbody>${rows
    .map(([label, value]) => `<tr><th scope="row">${label}</th>${kpis.map((k) => `<td>${value(k)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`

  const loading = first.transformers.capacityW === null ? '<p>The transformers have no rating in this scenario, so there is no loading to show.</p>' : loadingChart(runs)
  const withSavings = runs.filter((r) => r.mode !== 'no-trading')
  const savingsCharts = withSavings
    .map((r) => sortedBars(Array.from(homeSavings(r)).map((v) => v / baseUnitsPerCurrency), `Savings per home, ${MODE_NAMES[r.mode]} (currency units, sorted)`, MODE_COLOURS[r.mode]!))
    .join('')
  const traded = withSavings.map((r) => {
    const prices: number[] = []
    const volumes: number[] = []
    for (let t = 0; t < r.series.tradedWh.length; t++) {
      if (r.series.deliveredWh[t]! > 0) prices.push(r.series.tradedPaid[t]! / r.series.deliveredWh[t]! / (baseUnitsPerCurrency / 1000))
      if (r.series.tradedWh[t]! > 0) {
        volumes.push(r.series.tradedWh[t]! / 1000)
      }
    }
    return `${histogram(prices, `Trade price per kWh, ${MODE_NAMES[r.mode]} (intervals with trades)`, MODE_COLOURS[r.mode]!)}${histogram(volumes, `Traded energy per interval, kWh, ${MODE_NAMES[r.mode]}`, MODE_COLOURS[r.mode]!)}`
  })

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>OpenVPP study: ${escape(s.name)}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:820px;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:right}
th[scope=row]{text-align:left;font-weight:normal}thead th{border-bottom:2px solid #444}
figure{margin:1.5rem 0}figcaption{font-weight:600;margin-bottom:.3rem}svg{max-width:100%;height:auto}
.note{color:#555;font-size:.9em}
</style></head><body>
<h1>${escape(s.name)}</h1>
<p>${fmt(first.homes.ids.length)} homes on ${fmt(first.transformers.ids.length)} transformer${first.transformers.ids.length === 1 ? "" : "s"}, ${first.days} days from ${s.start}, ${first.intervalMinutes}-minute intervals, ${s.market.pricing} pricing. Seed ${s.seed}: the same scenario gives the same study.</p>
<h2>Key figures</h2>
${table}
<p class="note">Definitions: self-sufficiency = demand covered inside the community / total demand; self-consumption = PV energy used inside the community (own use, batteries, neighbours) / PV produced; savings = cost with no trading (retail for imports, feed-in tariff for exports, same weather, load and battery) minus cost in the mode, imbalance charges included; CO₂ avoided = demand covered inside the community × ${s.co2GramsPerKwh} g/kWh. Every home's agent runs the edge agent's own forecast, order strategy and battery control, knowing only its past telemetry at gate closure; what a seller does not deliver it pays its buyer at the imbalance price (${money(s.market.imbalancePerKwh)} per kWh), as the settlement contract does. Perfect foresight trades what the devices will actually do: the difference is what forecast error costs. Trading moves money, and electrons only where it makes batteries behave differently.</p>
<h2>Transformer loading</h2>
${loading}
${first.lowVoltage ? `<h2>Voltage in the low-voltage grid</h2>\n${voltageChart(runs)}${worstHomes(first)}<p class="note">Power flow of every transformer's cables every interval (backward/forward sweep, balanced three-phase, the transformer holding its busbar at ${fmt(first.lowVoltage.busbarPu * 100, 1)} %). EN 50160 wants 90–110 % of nominal; VDE-AR-N 4105 lets generation raise the voltage by 3 % at most.</p>` : ''}
<h2>When energy is available</h2>
${heatMap(first)}
<h2>Prices and volumes</h2>
${traded.join('') || '<p>No trading mode in this study.</p>'}
<h2>Savings per home</h2>
${savingsCharts || '<p>No trading mode in this study.</p>'}
</body></html>
`
}

/** The ten homes with the largest voltage rise in a run, with their own lowest and highest voltage (homes.csv has them all). */
function worstHomes(run: StudyRun): string {
  const lv = run.lowVoltage!.homes
  const hours = run.intervalMinutes / 60
  const worst = run.homes.ids.map((id, i) => ({ id, i })).sort((a, b) => lv.maxRisePu[b.i]! - lv.maxRisePu[a.i]!).slice(0, 10)
  const rows = worst.map(({ id, i }) => `<tr><th scope="row">${escape(id)}</th><td>${fmt(lv.minPu[i]! * 100, 1)}</td><td>${fmt(lv.maxPu[i]! * 100, 1)}</td><td>${fmt(lv.maxRisePu[i]! * 100, 2)}</td><td>${fmt(lv.intervalsRiseOver3Pct[i]! * hours, 2)}</td><td>${fmt(lv.intervalsOutsideBand[i]! * hours, 2)}</td></tr>`)
  return `<table><caption>Homes with the largest voltage rise, ${MODE_NAMES[run.mode]} (every home in homes.csv)</caption><thead><tr><th></th><th>lowest, %</th><th>highest, %</th><th>rise, %</th><th>hours above 3 % rise</th><th>hours outside EN 50160</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
}

function axes(yMax: number, yLabel: (v: number) => string): string {
  const ticks = [0, 0.5, 1].map((f) => {
    const y = H - PAD + (-(H - 2 * PAD) * f)
    return `<line x1="${PAD}" x2="${W - 10}" y1="${y}" y2="${y}" stroke="#eee"/><text x="${PAD - 4}" y="${y + 4}" text-anchor="end" font-size="11">${yLabel(yMax * f)}</text>`
  })
  return `${ticks.join('')}<line x1="${PAD}" x2="${PAD}" y1="${PAD}" y2="${H - PAD}" stroke="#444"/><line x1="${PAD}" x2="${W - 10}" y1="${H - PAD}" y2="${H - PAD}" stroke="#444"/>`
}

/** Daily peak loading of the most loaded transformer, one line per mode; dashed line at 100 %. */
function loadingChart(runs: readonly StudyRun[]): string {
  const days = runs[0]!.days
  const count = runs[0]!.transformers.ids.length
  const series = runs.map((r) => Array.from({ length: days }, (_, d) => Math.max(...r.transformers.dailyPeakLoading.subarray(d * count, (d + 1) * count))))
  const yMax = Math.max(1.1, ...series.flat())
  const x = (d: number) => PAD + ((W - 10 - PAD) * d) / Math.max(1, days - 1)
  const y = (v: number) => H - PAD - ((H - 2 * PAD) * v) / yMax
  const lines = series.map((values, i) => `<polyline fill="none" stroke="${MODE_COLOURS[runs[i]!.mode]}" stroke-width="1.5" ${i > 0 ? `stroke-dasharray="${i * 3} 2"` : ''} points="${values.map((v, d) => `${x(d).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`)
  const legend = runs.map((r, i) => `<text x="${PAD + 10 + i * 190}" y="${PAD - 12}" font-size="12" fill="${MODE_COLOURS[r.mode]}">━ ${MODE_NAMES[r.mode]}</text>`).join('')
  return `<figure><figcaption>Daily peak loading of the most loaded transformer (share of its rating)</figcaption><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="transformer loading over the study">${axes(yMax, (v) => `${Math.round(v * 100)}%`)}<line x1="${PAD}" x2="${W - 10}" y1="${y(1)}" y2="${y(1)}" stroke="#000" stroke-dasharray="4 4"/>${lines.join('')}${legend}</svg></figure>`
}

/** Daily lowest and highest voltage at any home, one pair of lines per mode; the EN 50160 band dashed. */
function voltageChart(runs: readonly StudyRun[]): string {
  const days = runs[0]!.days
  const perDay = Math.round(1440 / runs[0]!.intervalMinutes)
  const daily = (values: Float64Array, pick: (a: number, b: number) => number) => Array.from({ length: days }, (_, d) => values.subarray(d * perDay, (d + 1) * perDay).reduce(pick))
  const series = runs.flatMap((r) => [daily(r.lowVoltage!.series.minPu, Math.min), daily(r.lowVoltage!.series.maxPu, Math.max)].map((values) => ({ values, mode: r.mode })))
  const lo = Math.min(0.88, ...series.flatMap((s) => s.values))
  const hi = Math.max(1.12, ...series.flatMap((s) => s.values))
  const x = (d: number) => PAD + ((W - 10 - PAD) * d) / Math.max(1, days - 1)
  const y = (v: number) => H - PAD - ((H - 2 * PAD) * (v - lo)) / (hi - lo)
  const band = [0.9, 1.1].map((v) => `<line x1="${PAD}" x2="${W - 10}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#000" stroke-dasharray="4 4"/><text x="${PAD - 4}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="11">${Math.round(v * 100)}%</text>`).join('')
  const lines = series.map((s) => `<polyline fill="none" stroke="${MODE_COLOURS[s.mode]}" stroke-width="1.5" points="${s.values.map((v, d) => `${x(d).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`).join('')
  return `<figure><figcaption>Lowest and highest voltage at any home each day (share of nominal)</figcaption><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="voltage band over the study"><line x1="${PAD}" x2="${PAD}" y1="${PAD}" y2="${H - PAD}" stroke="#444"/>${band}${lines}</svg></figure>`
}

/** Community PV minus load by day (x) and hour of day (y): orange where energy is spare, blue where it is short. */
function heatMap(run: StudyRun): string {
  const days = run.days
  const values = run.surplusByDayHour
  const scale = Math.max(1, ...Array.from(values, Math.abs))
  const cw = (W - PAD - 10) / days
  const ch = (H - PAD - 10) / 24
  const cells: string[] = []
  for (let d = 0; d < days; d++) {
    for (let h = 0; h < 24; h++) {
      const v = values[d * 24 + h]! / scale
      const colour = v >= 0 ? `rgba(230,159,0,${Math.min(1, v).toFixed(2)})` : `rgba(86,180,233,${Math.min(1, -v).toFixed(2)})`
      cells.push(`<rect x="${(PAD + d * cw).toFixed(1)}" y="${(10 + h * ch).toFixed(1)}" width="${(cw + 0.3).toFixed(2)}" height="${(ch + 0.3).toFixed(2)}" fill="${colour}"/>`)
    }
  }
  const hours = [0, 6, 12, 18].map((h) => `<text x="${PAD - 4}" y="${10 + h * ch + 9}" text-anchor="end" font-size="11">${h}:00</text>`).join('')
  return `<figure><figcaption>Energy availability: community PV minus load per hour (orange = spare, blue = short; day of the study across)</figcaption><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="heat map of energy availability">${cells.join('')}${hours}</svg></figure>`
}

function histogram(values: number[], caption: string, colour: string): string {
  if (values.length === 0) return `<figure><figcaption>${caption}</figcaption><p>Nothing traded.</p></figure>`
  const bins = 30
  const min = Math.min(...values)
  const max = Math.max(...values)
  const width = (max - min) / bins || 1
  const counts = new Array<number>(bins).fill(0)
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v - min) / width))]!++
  const top = Math.max(...counts)
  const bw = (W - 10 - PAD) / bins
  const bars = counts.map((c, i) => `<rect x="${(PAD + i * bw).toFixed(1)}" y="${(H - PAD - ((H - 2 * PAD) * c) / top).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${(((H - 2 * PAD) * c) / top).toFixed(1)}" fill="${colour}"/>`)
  const labels = [0, bins / 2, bins].map((i) => `<text x="${PAD + i * bw}" y="${H - PAD + 16}" text-anchor="middle" font-size="11">${fmt(min + i * width, 2)}</text>`).join('')
  return `<figure><figcaption>${caption}</figcaption><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${escape(caption)}">${axes(top, (v) => fmt(v))}${bars.join('')}${labels}</svg></figure>`
}

function sortedBars(values: number[], caption: string, colour: string): string {
  const sorted = [...values].sort((a, b) => a - b)
  const lo = Math.min(0, sorted[0] ?? 0)
  const hi = Math.max(0, sorted[sorted.length - 1] ?? 0) || 1
  const y = (v: number) => H - PAD - ((H - 2 * PAD) * (v - lo)) / (hi - lo)
  const bw = (W - 10 - PAD) / Math.max(1, sorted.length)
  const bars = sorted.map((v, i) => `<rect x="${(PAD + i * bw).toFixed(2)}" y="${Math.min(y(v), y(0)).toFixed(1)}" width="${Math.max(0.5, bw - 0.5).toFixed(2)}" height="${Math.abs(y(v) - y(0)).toFixed(1)}" fill="${colour}"/>`)
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0
  return `<figure><figcaption>${caption}: median ${fmt(median, 2)}</figcaption><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${escape(caption)}"><text x="${PAD - 4}" y="${y(hi) + 4}" text-anchor="end" font-size="11">${fmt(hi, 0)}</text><text x="${PAD - 4}" y="${y(lo) + 4}" text-anchor="end" font-size="11">${fmt(lo, 0)}</text><line x1="${PAD}" x2="${W - 10}" y1="${y(0)}" y2="${y(0)}" stroke="#444"/>${bars.join('')}</svg></figure>`
}
