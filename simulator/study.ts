import { clearColumns, type OrderColumns } from '../market/engine/columnar-clearing.ts'
import { ClearingWorkspace } from '../market/engine/clearing-workspace.ts'
import { compileTopology } from '../market/engine/compiled-topology.ts'
import { CloudProcess } from './models/clouds.ts'
import { dayTypeOf, seasonalDayOfYear, standardLoadW, summerWeight } from './models/household-load.ts'
import { loadScaleOf } from './models/household.ts'
import { stepHomes, type HomeState } from './study-homes.ts'
import { lowVoltageGrid } from './study-grid.ts'
import { measuredInputs } from './study-measured.ts'
import { measuredInterval } from './measured-csv.ts'
import { annualStandardKwh, heatingDegreeDays, utcOffsetMinutes } from './study-calendar.ts'
import { emptyStudyRun, studyChunks, type StudyChunk, type StudyMode, type StudyOptions, type StudyRun } from './study-run.ts'
import { mulberry32 } from './random.ts'
import { scenarioHomes, scenarioTopology, type Scenario } from './scenario.ts'
import { cloudyPlaneIrradiance, sunPosition } from './solar.ts'
import { buyerPaysBaseUnitsNumber, sellerReceivesBaseUnitsNumber } from '../protocol/units.ts'


/**
 * Runs a scenario through the real market engine (`clearColumns`, the service's own code) at every
 * interval: PV from the sun's position and the cloud process, household load from the standard
 * profile with each home's own variation, EVs and heat pumps, batteries with power and energy limits
 * and losses. Energy is whole Wh per home per interval and money whole base units. Pure and
 * deterministic: the same scenario and options give the same run, here or chunk by chunk on worker
 * threads (`runStudyOnThreads`).
 *
 * @example
 * const run = runStudy(loadScenario('simulator/scenarios/street-10.yaml'), { days: 7, mode: 'p2p' })
 * run.series.tradedWh // Wh traded between neighbours in each interval
 */
export function runStudy(scenario: Scenario, options: StudyOptions): StudyRun {
  const run = emptyStudyRun(scenario, options.mode, options.days)
  let done = 0
  for (const chunk of studyChunks(options.days, options.chunkDays)) {
    simulateChunk(scenario, options.mode, chunk, run, (d) => options.onDay?.(done + d))
    done += chunk.to - chunk.from
  }
  return run
}

/** Simulates one chunk of a study into `run` (days `chunk.from`…`chunk.to`; warm-up days unrecorded). */
export function simulateChunk(scenario: Scenario, mode: StudyMode, chunk: StudyChunk, run: StudyRun, onDay?: (daysDone: number) => void): void {
  const homes = scenarioHomes(scenario)
  const n = homes.length
  const topology = scenarioTopology(scenario)
  const tree = compileTopology(topology)
  const transformerIds = topology.filter((t) => t.level === 'transformer').map((t) => t.id)
  const transformerOf = Int32Array.from(homes, (h) => transformerIds.indexOf(h.transformer))
  const nodeOf = Int32Array.from(homes, (h) => tree.indexOf.get(h.transformer)!)
  const intervalMinutes = scenario.market.intervalMinutes
  const perDay = Math.floor((24 * 60) / intervalMinutes)
  const dtHours = intervalMinutes / 60
  const { lat, lon, timeZone } = scenario.location
  const { retailPerKwh, feedInPerKwh } = scenario.tariffs
  const trading = mode !== 'no-trading'

  // Each home's own habits, drawn once from the scenario's seed.
  const habits = mulberry32(scenario.seed ^ 0xa11ce)
  const orientations = [...new Set(homes.map((h) => (h.pv ? `${h.pv.tiltDeg}/${h.pv.azimuthDeg}` : '')))].filter(Boolean)
  const tilts = orientations.map((o) => Number(o.split('/')[0]))
  const azimuths = orientations.map((o) => Number(o.split('/')[1]))
  const orientationOf = Int32Array.from(homes, (h) => (h.pv ? orientations.indexOf(`${h.pv.tiltDeg}/${h.pv.azimuthDeg}`) : -1))
  const kWp = Float64Array.from(homes, (h) => h.pv?.kWp ?? 0)
  const shiftQuarter = Int32Array.from(homes, () => Math.floor(habits() * 7) - 3) // −45 … +45 min
  const evArrivalHour = Float64Array.from(homes, () => 17 + habits() * 3)
  const askPrice = Float64Array.from(homes, () => feedInPerKwh + Math.floor(habits() * 0.25 * (retailPerKwh - feedInPerKwh)))
  const bidPrice = Float64Array.from(homes, () => retailPerKwh - Math.floor(habits() * 0.25 * (retailPerKwh - feedInPerKwh)))
  const batteryWh = Float64Array.from(homes, (h) => (h.battery ? Math.round(h.battery.kWh * 1000) : 0))
  const batteryW = Float64Array.from(homes, (h) => (h.battery ? h.battery.kW * 1000 : 0))
  const batteryEfficiency = Float64Array.from(homes, (h) => h.battery?.efficiency ?? 1)
  const socWh = Float64Array.from(batteryWh, (wh) => Math.round(wh * 0.5))
  const heatPumpKwh = Float64Array.from(homes, (h) => h.heatPumpKwhPerYear)
  const evKwhPerDay = Float64Array.from(homes, (h) => h.evKwhPerDay)
  const evLeftWh = new Float64Array(n)

  const start = Date.parse(`${scenario.start}T00:00:00Z`)
  const offsetMinutes = utcOffsetMinutes(timeZone)
  const standardKwh = annualStandardKwh(scenario.start, intervalMinutes, lat)
  const loadScale = Float64Array.from(homes, (h) => loadScaleOf(h.annualLoadKwh, standardKwh))
  const heatingDegreeShare = heatingDegreeDays(lat)

  const startDate = new Date(start)
  const sky = new CloudProcess(scenario.seed, lat, Math.floor((start - Date.UTC(startDate.getUTCFullYear(), 0, 1)) / 86_400_000))

  const { series, transformers } = run
  // Locals for the hot loop (a property load per home per interval adds up over 350 million of them).
  const { pvWh: homePvWh, loadWh: homeLoadWh, importWh: homeImportWh, exportWh: homeExportWh, boughtWh: homeBoughtWh, soldWh: homeSoldWh, paid: homePaid, received: homeReceived } = run.homes

  // Per interval: each home's net after its own battery (+ surplus, − deficit), what it offers and wants.
  const surplus = new Float64Array(n)
  const deficit = new Float64Array(n)
  const batteryOffer = new Float64Array(n)
  const transformerNetWh = new Float64Array(transformerIds.length)
  // One order per home with a surplus or a deficit, plus one per battery selling in the evening.
  const orders: OrderColumns = {
    count: 0,
    side: new Uint8Array(2 * n),
    energyWh: new Float64Array(2 * n),
    limitPrice: new Float64Array(2 * n),
    seq: new Float64Array(2 * n),
    node: new Int32Array(2 * n),
    hash: new Array<string>(2 * n),
  }
  const orderNames = homes.map((h) => h.id).concat(homes.map((h) => `${h.id}/battery`))
  const homeOfOrder = new Int32Array(2 * n)
  const isBatteryOrder = new Uint8Array(2 * n)
  const workspace = new ClearingWorkspace()
  const measured = measuredInputs(scenario, run.days)
  const homeState: HomeState = {
    orientationOf, kWp, loadScale, shiftQuarter, heatPumpKwh, evLeftWh, evArrivalHour, batteryWh, batteryW, batteryEfficiency, socWh, batteryOffer, surplus, deficit,
    homePvWh: run.homes.pvWh, homeLoadWh: run.homes.loadWh, askPrice, bidPrice, nodeOf, orders, orderNames, homeOfOrder, isBatteryOrder,
    measuredLoadWh: new Float64Array(n), measuredLoadHomes: Math.min(n, measured.load?.homes.length ?? 0),
    measuredPvWh: new Float64Array(n), measuredPvHomes: Math.min(n, measured.pv?.homes.length ?? 0),
  }
  const poa = new Float64Array(orientations.length)
  const profileAtShift = new Float64Array(7)
  const capacityWh = scenario.grid.transformerKw === null ? null : scenario.grid.transformerKw * 1000 * dtHours
  const lowVoltage = lowVoltageGrid(scenario, transformerOf, transformerIds.length)
  // Trades move money, not energy: what each home's meter sees is its net before trading, less what its battery sold.
  const tradeCorrectionWh = new Float64Array(n)

  for (let day = chunk.warmupFrom; day < chunk.to; day++) {
    // Warm-up days settle the batteries' charge before the chunk's own days; nothing of them is recorded.
    const record = day >= chunk.from
    const noise = mulberry32(((scenario.seed ^ 0x10ad) + day * 104_729) >>> 0)
    const dayStart = start + day * 86_400_000
    const local = new Date(dayStart + offsetMinutes(dayStart) * 60_000)
    const dayOfYear = Math.floor((local.getTime() - Date.UTC(local.getUTCFullYear(), 0, 1)) / 86_400_000)
    const weekday = local.getUTCDay()
    const dayType = dayTypeOf(weekday)
    const summer = summerWeight(dayOfYear, lat)
    const season = seasonalDayOfYear(dayOfYear, lat)
    const heatPumpDayShare = heatingDegreeShare[Math.min(dayOfYear, 364)]!
    sky.startDay(day)
    for (let h = 0; h < n; h++) evLeftWh[h] = evKwhPerDay[h]! * 1000

    for (let q = 0; q < perDay; q++) {
      const t = day * perDay + q
      // The study's days are local days: interval q starts q × interval after local midnight.
      const localHour = q * dtHours
      const startMs = dayStart + localHour * 3_600_000 - offsetMinutes(dayStart) * 60_000
      if (record) run.intervalStartMs[t] = startMs
      const sun = sunPosition(new Date(startMs + (dtHours * 3_600_000) / 2), lat, lon)
      const clearness = sky.next()
      for (let i = 0; i < orientations.length; i++) poa[i] = cloudyPlaneIrradiance(sun, clearness, tilts[i]!, azimuths[i]!)
      for (let s = 0; s < 7; s++) profileAtShift[s] = standardLoadW(dayType, localHour + dtHours / 2 - (s - 3) * 0.25, summer, season)
      const heatPumpShape = localHour >= 6 && localHour < 9 ? 1.3 : 0.9

      transformerNetWh.fill(0)
      if (measured.load) measuredInterval(measured.load, startMs, intervalMinutes, homeState.measuredLoadWh)
      if (measured.pv) measuredInterval(measured.pv, startMs, intervalMinutes, homeState.measuredPvWh)
      const totals = stepHomes(homeState, {
        n, localHour, dtHours, heatPumpDayShare, heatPumpShape, record, trading, batteryStrategy: mode === 'p2p-battery',
        batteryAskPrice: Math.floor((retailPerKwh + feedInPerKwh) / 2), noise, poa, profileAtShift,
      })
      const pvTotal = totals.pvWh
      const loadTotal = totals.loadWh
      if (record) run.surplusByDayHour[day * 24 + Math.floor(localHour)]! += pvTotal - loadTotal
      let traded = 0
      let paid = 0
      if (trading && orders.count > 0) {
        const result = clearColumns(orders, tree, { intervalSeconds: intervalMinutes * 60, pricing: scenario.market.pricing }, workspace)
        const { tradeBuy, tradeSell, tradeEnergyWh, tradeBuyerPrice, tradeNode } = result
        const feePerKwh = tree.feePerKwh
        for (let k = 0; k < result.tradeCount; k++) {
          const buyOrder = tradeBuy[k]!
          const sellOrder = tradeSell[k]!
          const buyer = homeOfOrder[buyOrder]!
          const seller = homeOfOrder[sellOrder]!
          const energyWh = tradeEnergyWh[k]!
          const buyerPrice = tradeBuyerPrice[k]!
          const sellerPrice = buyerPrice - feePerKwh[tradeNode[k]!]!
          // As the settlement contract computes it (protocol/units.ts): the buyer pays rounded up, the seller gets rounded down.
          const pay = buyerPaysBaseUnitsNumber(energyWh, buyerPrice)
          if (record) {
            homeBoughtWh[buyer]! += energyWh
            homeSoldWh[seller]! += energyWh
            homePaid[buyer]! += pay
            homeReceived[seller]! += sellerReceivesBaseUnitsNumber(energyWh, sellerPrice)
          }
          deficit[buyer]! -= energyWh
          tradeCorrectionWh[buyer]! += energyWh
          tradeCorrectionWh[seller]! -= energyWh
          if (isBatteryOrder[sellOrder]) {
            // The battery delivers what it sold: from its own store, out through the home's meter.
            socWh[seller]! -= energyWh
            transformerNetWh[transformerOf[seller]!]! -= energyWh
          } else {
            surplus[seller]! -= energyWh
            transformerNetWh[transformerOf[seller]!]! -= energyWh
          }
          transformerNetWh[transformerOf[buyer]!]! += energyWh
          traded += energyWh
          paid += pay
        }
      }

      // What is left goes to and from the utility; the transformer carries every home's net physically.
      let gridImport = 0
      let gridExport = 0
      for (let h = 0; h < n; h++) {
        gridImport += deficit[h]!
        gridExport += surplus[h]!
        if (record) {
          homeImportWh[h]! += deficit[h]!
          homeExportWh[h]! += surplus[h]!
        }
        transformerNetWh[transformerOf[h]!]! += deficit[h]! - surplus[h]!
      }
      if (record) {
        let maxLoading = 0
        for (let x = 0; x < transformerIds.length; x++) {
          const w = (transformerNetWh[x]! / dtHours)
          if (w > transformers.peakImportW[x]!) transformers.peakImportW[x] = w
          if (-w > transformers.peakExportW[x]!) transformers.peakExportW[x] = -w
          if (capacityWh !== null) {
            const loading = Math.abs(transformerNetWh[x]!) / capacityWh
            if (loading > 1) transformers.intervalsOverCapacity[x]!++
            if (loading > maxLoading) maxLoading = loading
            const cell = day * transformerIds.length + x
            if (loading > transformers.dailyPeakLoading[cell]!) transformers.dailyPeakLoading[cell] = loading
          }
        }
        series.pvWh[t] = pvTotal
        series.loadWh[t] = loadTotal
        series.gridImportWh[t] = gridImport
        series.gridExportWh[t] = gridExport
        series.tradedWh[t] = traded
        series.tradedPaid[t] = paid
        series.maxTransformerLoading[t] = maxLoading
      }
      if (lowVoltage && record) {
        for (let h = 0; h < n; h++) lowVoltage.homeNetWh[h] = deficit[h]! - surplus[h]! + tradeCorrectionWh[h]!
        lowVoltage.solve(t, dtHours, run.lowVoltage!)
      }
      tradeCorrectionWh.fill(0)
    }
    if (record) onDay?.(day + 1 - chunk.from)
  }
}
