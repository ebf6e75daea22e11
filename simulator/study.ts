import { clearColumns } from '../market/engine/columnar-clearing.ts'
import { batteryLimitsSchema } from '../edge-agent/battery-controller.ts'
import { strategyParamsSchema } from '../edge-agent/strategy.ts'
import { ClearingWorkspace } from '../market/engine/clearing-workspace.ts'
import { compileTopology } from '../market/engine/compiled-topology.ts'
import { CloudProcess } from './models/clouds.ts'
import { dayTypeOf, seasonalDayOfYear, standardLoadW, summerWeight } from './models/household-load.ts'
import { loadScaleOf } from './models/household.ts'
import { stepHomes, type HomeState } from './study-homes.ts'
import { agentMemory, agentOrders, observeInterval, planAgentOrders } from './study-agents.ts'
import { deliverInterval, deliveryScratch } from './study-delivery.ts'
import { lowVoltageGrid, voltageLimitedTopology } from './study-grid.ts'
import { measuredInputs } from './study-measured.ts'
import { measuredInterval } from './measured-csv.ts'
import { annualStandardKwh, heatingDegreeDays, utcOffsetMinutes } from './study-calendar.ts'
import { emptyStudyRun, studyChunks, type StudyChunk, type StudyMode, type StudyOptions, type StudyRun } from './study-run.ts'
import { mulberry32 } from './random.ts'
import { scenarioHomes, scenarioTopology, type Scenario } from './scenario.ts'
import { cloudyPlaneIrradiance, sunPosition } from './solar.ts'


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
  // With the voltage limit in clearing, each transformer takes only what its cables carry in the band.
  const topology = mode === 'p2p-voltage-limit' ? voltageLimitedTopology(scenario) : scenarioTopology(scenario)
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
  const batteryWh = Float64Array.from(homes, (h) => (h.battery ? Math.round(h.battery.kWh * 1000) : 0))
  const batteryW = Float64Array.from(homes, (h) => (h.battery ? h.battery.kW * 1000 : 0))
  const batteryEfficiency = Float64Array.from(homes, (h) => h.battery?.efficiency ?? 1)
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
  const homeRecords = run.homes
  const halfFull = Float64Array.from(batteryWh, (wh) => Math.round(wh * 0.5))
  const measured = measuredInputs(scenario, run.days)
  const homeState: HomeState = {
    orientationOf, kWp, loadScale, shiftQuarter, heatPumpKwh, evLeftWh, evArrivalHour, batteryWh, batteryW, batteryEfficiency,
    socWh: halfFull.slice(), baselineSocWh: halfFull.slice(), pvWh: new Float64Array(n), loadWh: new Float64Array(n),
    measuredLoadWh: new Float64Array(n), measuredLoadHomes: Math.min(n, measured.load?.homes.length ?? 0),
    measuredPvWh: new Float64Array(n), measuredPvHomes: Math.min(n, measured.pv?.homes.length ?? 0),
  }

  // Every home's agent, with the edge agent's own defaults: its strategy between the tariffs, its battery limits.
  const strategy = strategyParamsSchema.parse({ feedInPrice: feedInPerKwh, retailPrice: retailPerKwh })
  const limits = batteryLimitsSchema.parse({ maxW: 1 })
  const memory = agentMemory(n, intervalMinutes)
  const book = agentOrders(n, strategy.steps)
  const scratch = deliveryScratch(n, book.orders.side.length)
  const planInputs = {
    n, localHour: 0, dtHours, perfectForesight: mode === 'p2p-perfect', batterySale: mode === 'p2p-battery', batteryAskPrice: Math.floor((retailPerKwh + feedInPerKwh) / 2),
    strategy, socFloorPct: limits.socFloorPct, socCeilingPct: limits.socCeilingPct, nodeOf,
  }
  const deliveryInputs = { n, dtHours, record: false, imbalancePerKwh: scenario.market.imbalancePerKwh, socFloorPct: limits.socFloorPct, socCeilingPct: limits.socCeilingPct, feePerKwh: tree.feePerKwh }
  const clearing = { intervalSeconds: intervalMinutes * 60, pricing: scenario.market.pricing }
  const workspace = new ClearingWorkspace()

  const transformerNetWh = new Float64Array(transformerIds.length)
  const poa = new Float64Array(orientations.length)
  const profileAtShift = new Float64Array(7)
  const capacityWh = scenario.grid.transformerKw === null ? null : scenario.grid.transformerKw * 1000 * dtHours
  const lowVoltage = lowVoltageGrid(scenario, transformerOf, transformerIds)

  for (let day = chunk.warmupFrom; day < chunk.to; day++) {
    // Warm-up days settle the batteries' charge and the agents' memory before the chunk's own days; nothing of them is recorded.
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

      if (measured.load) measuredInterval(measured.load, startMs, intervalMinutes, homeState.measuredLoadWh)
      if (measured.pv) measuredInterval(measured.pv, startMs, intervalMinutes, homeState.measuredPvWh)
      // The weather and the households decide PV and load; the agents do not see them until the interval is over.
      const totals = stepHomes(homeState, homeRecords, { n, localHour, dtHours, heatPumpDayShare, heatPumpShape, record, noise, poa, profileAtShift })
      if (record) run.surplusByDayHour[day * 24 + Math.floor(localHour)]! += totals.pvWh - totals.loadWh

      let result = null
      book.orders.count = 0
      if (trading) {
        planInputs.localHour = localHour
        planAgentOrders(memory, homeState, book, planInputs)
        if (book.orders.count > 0) result = clearColumns(book.orders, tree, clearing, workspace)
      }
      deliveryInputs.record = record
      const delivery = deliverInterval(homeState, book, result, scratch, homeRecords, deliveryInputs)
      observeInterval(memory, homeState, n, localHour, dtHours)

      // The transformers and cables carry every home's physical net.
      transformerNetWh.fill(0)
      for (let h = 0; h < n; h++) transformerNetWh[transformerOf[h]!]! += scratch.netImportWh[h]!
      if (record) {
        let maxLoading = 0
        for (let x = 0; x < transformerIds.length; x++) {
          const w = transformerNetWh[x]! / dtHours
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
        series.pvWh[t] = totals.pvWh
        series.loadWh[t] = totals.loadWh
        series.gridImportWh[t] = delivery.gridImportWh
        series.gridExportWh[t] = delivery.gridExportWh
        series.tradedWh[t] = delivery.tradedWh
        series.deliveredWh[t] = delivery.deliveredWh
        series.shortfallWh[t] = delivery.shortfallWh
        series.tradedPaid[t] = delivery.paid
        series.imbalanceCharges[t] = delivery.imbalanceCharges
        series.batteryWh[t] = delivery.batteryWh
        series.maxTransformerLoading[t] = maxLoading
      }
      if (lowVoltage && record) {
        lowVoltage.homeNetWh.set(scratch.netImportWh)
        lowVoltage.solve(t, dtHours, run.lowVoltage!)
      }
    }
    if (record) onDay?.(day + 1 - chunk.from)
  }
}
