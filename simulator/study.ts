import { clearColumns, type OrderColumns } from '../market/engine/columnar-clearing.ts'
import { ClearingWorkspace } from '../market/engine/clearing-workspace.ts'
import { compileTopology } from '../market/engine/compiled-topology.ts'
import { CloudProcess } from './models/clouds.ts'
import { dayTypeOf, seasonalDayOfYear, standardLoadW, summerWeight } from './models/household-load.ts'
import { mulberry32 } from './random.ts'
import { scenarioHomes, scenarioTopology, type Scenario } from './scenario.ts'
import { cloudyPlaneIrradiance, sunPosition } from './solar.ts'
import { buyerPaysBaseUnitsNumber, sellerReceivesBaseUnitsNumber } from '../protocol/units.ts'

/**
 * How the homes run: `no-trading` is today (self-consumption, the rest to and from the utility at
 * retail and feed-in tariff); `p2p` adds the market (same physics, surplus and deficit offered to the
 * neighbours first); `p2p-battery` also lets batteries sell stored energy to neighbours in the evening.
 */
export type StudyMode = 'no-trading' | 'p2p' | 'p2p-battery'
export const studyModes: readonly StudyMode[] = ['no-trading', 'p2p', 'p2p-battery']

export interface StudyOptions {
  days: number
  mode: StudyMode
  /** Called after each simulated day. */
  onDay?: (daysDone: number) => void
  /** Days per independent chunk (default STUDY_CHUNK_DAYS). */
  chunkDays?: number
}

/** Everything a study measured, in integer Wh and base units, for KPIs, the report and the CSV. */
export interface StudyRun {
  mode: StudyMode
  scenario: Scenario
  days: number
  intervalMinutes: number
  /** Start of each interval, ms since the epoch (UTC). */
  intervalStartMs: Float64Array
  /** Community totals per interval. */
  series: {
    pvWh: Float64Array
    loadWh: Float64Array
    /** From and to the utility, i.e. across the community's boundary. */
    gridImportWh: Float64Array
    gridExportWh: Float64Array
    tradedWh: Float64Array
    /** Paid by buyers for the interval's trades, base units. */
    tradedPaid: Float64Array
    /** Highest transformer loading in the interval, share of its capacity (0 when unconstrained). */
    maxTransformerLoading: Float64Array
  }
  transformers: {
    ids: string[]
    capacityW: number | null
    /** Physical net flow through each transformer, W: peak import from upstream and peak export. */
    peakImportW: Float64Array
    peakExportW: Float64Array
    intervalsOverCapacity: Float64Array
    /** Highest loading of each day per transformer, [day * transformers + t]. */
    dailyPeakLoading: Float64Array
  }
  /** Community net surplus (PV − load, Wh) per day and local hour, [day * 24 + hour]. */
  surplusByDayHour: Float64Array
  homes: {
    ids: string[]
    pvWh: Float64Array
    loadWh: Float64Array
    importWh: Float64Array
    exportWh: Float64Array
    boughtWh: Float64Array
    soldWh: Float64Array
    paid: Float64Array
    received: Float64Array
  }
}

const PERFORMANCE_RATIO = 0.85
const BATTERY_FLOOR = 0.05
/** Share of its capacity a battery keeps for its own home when selling to neighbours in the evening. */
const BATTERY_EVENING_RESERVE = 0.5
const EV_CHARGER_W = 7400

/** A run with nothing recorded yet: the arrays a study (or each chunk of one) fills. */
export function emptyStudyRun(scenario: Scenario, mode: StudyMode, days: number): StudyRun {
  const topology = scenarioTopology(scenario)
  const transformerIds = topology.filter((t) => t.level === 'transformer').map((t) => t.id)
  const homes = scenarioHomes(scenario)
  const n = homes.length
  const intervalMinutes = scenario.market.intervalMinutes
  const intervals = days * Math.floor((24 * 60) / intervalMinutes)
  return {
    mode,
    scenario,
    days,
    intervalMinutes,
    intervalStartMs: new Float64Array(intervals),
    series: {
      pvWh: new Float64Array(intervals),
      loadWh: new Float64Array(intervals),
      gridImportWh: new Float64Array(intervals),
      gridExportWh: new Float64Array(intervals),
      tradedWh: new Float64Array(intervals),
      tradedPaid: new Float64Array(intervals),
      maxTransformerLoading: new Float64Array(intervals),
    },
    transformers: {
      ids: transformerIds,
      capacityW: scenario.grid.transformerKw === null ? null : scenario.grid.transformerKw * 1000,
      peakImportW: new Float64Array(transformerIds.length),
      peakExportW: new Float64Array(transformerIds.length),
      intervalsOverCapacity: new Float64Array(transformerIds.length),
      dailyPeakLoading: new Float64Array(days * transformerIds.length),
    },
    surplusByDayHour: new Float64Array(days * 24),
    homes: {
      ids: homes.map((h) => h.id),
      pvWh: new Float64Array(n),
      loadWh: new Float64Array(n),
      importWh: new Float64Array(n),
      exportWh: new Float64Array(n),
      boughtWh: new Float64Array(n),
      soldWh: new Float64Array(n),
      paid: new Float64Array(n),
      received: new Float64Array(n),
    },
  }
}

/** A run of consecutive days, and the warm-up days simulated before it to settle the batteries. */
export interface StudyChunk {
  warmupFrom: number
  from: number
  to: number
}

/** Days per chunk and warm-up days before each chunk but the first; fixed, so results never depend on the number of threads. */
export const STUDY_CHUNK_DAYS = 28
export const STUDY_WARMUP_DAYS = 1

/**
 * The study's days in chunks that can run independently (in order or on several threads) and give
 * the same result: every chunk starts its batteries half full a day early (a day of charging and discharging forgets where it started).
 *
 * @example studyChunks(60) // [{ warmupFrom: 0, from: 0, to: 28 }, { warmupFrom: 27, from: 28, to: 56 }, { warmupFrom: 55, from: 56, to: 60 }]
 */
export function studyChunks(days: number, chunkDays = STUDY_CHUNK_DAYS): StudyChunk[] {
  const chunks: StudyChunk[] = []
  for (let from = 0; from < days; from += chunkDays) chunks.push({ warmupFrom: Math.max(0, from - STUDY_WARMUP_DAYS), from, to: Math.min(days, from + chunkDays) })
  return chunks
}

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

/**
 * Adds what a chunk recorded into the whole run: its days are its own, so sums add and peaks take
 * the larger.
 */
export function mergeStudyRun(into: StudyRun, part: StudyRun): void {
  const add = (a: Float64Array, b: Float64Array) => {
    for (let i = 0; i < a.length; i++) a[i]! += b[i]!
  }
  const max = (a: Float64Array, b: Float64Array) => {
    for (let i = 0; i < a.length; i++) if (b[i]! > a[i]!) a[i] = b[i]!
  }
  add(into.intervalStartMs, part.intervalStartMs)
  for (const key of Object.keys(into.series) as (keyof StudyRun['series'])[]) add(into.series[key], part.series[key])
  for (const key of ['pvWh', 'loadWh', 'importWh', 'exportWh', 'boughtWh', 'soldWh', 'paid', 'received'] as const) add(into.homes[key], part.homes[key])
  max(into.transformers.peakImportW, part.transformers.peakImportW)
  max(into.transformers.peakExportW, part.transformers.peakExportW)
  add(into.transformers.intervalsOverCapacity, part.transformers.intervalsOverCapacity)
  add(into.transformers.dailyPeakLoading, part.transformers.dailyPeakLoading)
  add(into.surplusByDayHour, part.surplusByDayHour)
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
  const loadScale = Float64Array.from(homes, (h) => h.annualLoadKwh / standardKwh)
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
  const homeState: HomeState = { orientationOf, kWp, loadScale, shiftQuarter, heatPumpKwh, evLeftWh, evArrivalHour, batteryWh, batteryW, batteryEfficiency, socWh, batteryOffer, surplus, deficit, homePvWh: run.homes.pvWh, homeLoadWh: run.homes.loadWh, askPrice, bidPrice, nodeOf, orders, orderNames, homeOfOrder, isBatteryOrder }
  const poa = new Float64Array(orientations.length)
  const profileAtShift = new Float64Array(7)
  const capacityWh = scenario.grid.transformerKw === null ? null : scenario.grid.transformerKw * 1000 * dtHours

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
    }
    if (record) onDay?.(day + 1 - chunk.from)
  }
}

/** One interval of every home's own devices: PV, load, EV, heat pump, its battery first; surplus and deficit become orders. */
interface HomeState {
  orientationOf: Int32Array
  kWp: Float64Array
  loadScale: Float64Array
  shiftQuarter: Int32Array
  heatPumpKwh: Float64Array
  evLeftWh: Float64Array
  evArrivalHour: Float64Array
  batteryWh: Float64Array
  batteryW: Float64Array
  batteryEfficiency: Float64Array
  socWh: Float64Array
  batteryOffer: Float64Array
  surplus: Float64Array
  deficit: Float64Array
  homePvWh: Float64Array
  homeLoadWh: Float64Array
  askPrice: Float64Array
  bidPrice: Float64Array
  nodeOf: Int32Array
  orders: OrderColumns
  orderNames: readonly string[]
  homeOfOrder: Int32Array
  isBatteryOrder: Uint8Array
}

interface IntervalInputs {
  n: number
  localHour: number
  dtHours: number
  heatPumpDayShare: number
  heatPumpShape: number
  record: boolean
  trading: boolean
  batteryStrategy: boolean
  batteryAskPrice: number
  noise: () => number
  poa: Float64Array
  profileAtShift: Float64Array
}

// A function of its own, with its arrays in locals: the simulator's hottest loop (350 million turns a year).
function stepHomes(state: HomeState, p: IntervalInputs): { pvWh: number; loadWh: number } {
  const { orientationOf, kWp, loadScale, shiftQuarter, heatPumpKwh, evLeftWh, evArrivalHour, batteryWh, batteryW, batteryEfficiency, socWh, batteryOffer, surplus, deficit, homePvWh, homeLoadWh, askPrice, bidPrice, nodeOf, orders, orderNames, homeOfOrder, isBatteryOrder } = state
  const { n, localHour, dtHours, heatPumpDayShare, heatPumpShape, record, trading, noise, poa, profileAtShift } = p
  let pvTotal = 0
  let loadTotal = 0
  orders.count = 0
  for (let h = 0; h < n; h++) {
    const pvWh = orientationOf[h]! >= 0 ? Math.round(kWp[h]! * poa[orientationOf[h]!]! * PERFORMANCE_RATIO * dtHours) : 0
    let loadWh = Math.round(loadScale[h]! * profileAtShift[shiftQuarter[h]! + 3]! * (0.55 + 0.9 * noise()) * dtHours)
    if (heatPumpKwh[h]! > 0) loadWh += Math.round(((heatPumpKwh[h]! * 1000 * heatPumpDayShare) / 24) * heatPumpShape * dtHours)
    if (evLeftWh[h]! > 0 && localHour + dtHours > evArrivalHour[h]!) {
      const evWh = Math.min(evLeftWh[h]!, Math.round(EV_CHARGER_W * dtHours))
      evLeftWh[h]! -= evWh
      loadWh += evWh
    }
    // The home's own battery first (self-consumption): charge from surplus, cover deficit.
    let net = pvWh - loadWh
    if (batteryWh[h]! > 0) {
      const maxWh = Math.floor(batteryW[h]! * dtHours)
      if (net > 0) {
        const charge = Math.min(net, maxWh, Math.floor((batteryWh[h]! - socWh[h]!) / batteryEfficiency[h]!))
        socWh[h]! += Math.floor(charge * batteryEfficiency[h]!)
        net -= charge
        batteryOffer[h] = 0
      } else {
        const floor = Math.ceil(batteryWh[h]! * BATTERY_FLOOR)
        const discharge = Math.min(-net, maxWh, Math.max(0, socWh[h]! - floor))
        socWh[h]! -= discharge
        net += discharge
        // Evening: what the battery could still give beyond its home's own reserve, for the neighbours.
        const evening = localHour >= 17 && localHour < 22
        const reserve = Math.ceil(batteryWh[h]! * BATTERY_EVENING_RESERVE)
        batteryOffer[h] = p.batteryStrategy && evening && net === 0 ? Math.max(0, Math.min(maxWh - discharge, socWh[h]! - reserve)) : 0
      }
    }
    surplus[h] = net > 0 ? net : 0
    deficit[h] = net < 0 ? -net : 0
    pvTotal += pvWh
    loadTotal += loadWh
    if (record) {
      homePvWh[h]! += pvWh
      homeLoadWh[h]! += loadWh
    }
    if (trading && net !== 0) addOrder(orders, orderNames, homeOfOrder, isBatteryOrder, h, net > 0 ? 1 : 0, Math.abs(net), net > 0 ? askPrice[h]! : bidPrice[h]!, nodeOf[h]!, 0)
    if (trading && batteryOffer[h]! > 0) addOrder(orders, orderNames, homeOfOrder, isBatteryOrder, h, 1, batteryOffer[h]!, p.batteryAskPrice, nodeOf[h]!, 1)
  }

  return { pvWh: pvTotal, loadWh: loadTotal }
}

function addOrder(orders: OrderColumns, orderNames: readonly string[], homeOf: Int32Array, isBattery: Uint8Array, home: number, side: 0 | 1, energyWh: number, limitPrice: number, node: number, battery: 0 | 1): void {
  const k = orders.count++
  orders.side[k] = side
  orders.energyWh[k] = energyWh
  orders.limitPrice[k] = limitPrice
  // Acceptance order within the interval: homes in turn, batteries after them; unique, so ties never reach the hash.
  orders.seq[k] = battery * homeOf.length + home
  orders.node[k] = node
  homeOf[k] = home
  isBattery[k] = battery
  // Never read (sequence numbers are unique), but the engine's contract gives every order a hash.
  ;(orders.hash as string[])[k] = orderNames[(battery * homeOf.length) / 2 + home]!
}

/** The standard profile's energy over a year at this resolution, kWh per "1,000 kWh" (to scale homes exactly). */
function annualStandardKwh(startDate: string, intervalMinutes: number, latDeg: number): number {
  const start = Date.parse(`${startDate}T00:00:00Z`)
  const dtHours = intervalMinutes / 60
  let wh = 0
  for (let day = 0; day < 365; day++) {
    const date = new Date(start + day * 86_400_000)
    const dayOfYear = Math.floor((date.getTime() - Date.UTC(date.getUTCFullYear(), 0, 1)) / 86_400_000)
    const dayType = dayTypeOf(date.getUTCDay())
    // The same seasons as the homes' days below, so a home's year comes to its kWh/yr in either hemisphere.
    const summer = summerWeight(dayOfYear, latDeg)
    const season = seasonalDayOfYear(dayOfYear, latDeg)
    for (let hour = dtHours / 2; hour < 24; hour += dtHours) wh += standardLoadW(dayType, hour, summer, season) * dtHours
  }
  return wh / 1000
}

/**
 * Each day's share of a year's heating (by heating degree days below 15 °C) for a climate whose
 * daily mean temperature follows the season: about 9 °C on average and ±9 °C at 52° latitude.
 */
function heatingDegreeDays(latDeg: number): Float64Array {
  const amplitude = Math.min(14, Math.abs(latDeg) / 6)
  const mean = 25 - Math.abs(latDeg) / 3
  const hdd = Float64Array.from({ length: 365 }, (_, d) => Math.max(0, 15 - (mean - amplitude * Math.cos((2 * Math.PI * (d - 15)) / 365) * (latDeg >= 0 ? 1 : -1))))
  const total = hdd.reduce((a, b) => a + b, 0) || 1
  return hdd.map((v) => v / total)
}

/** The time zone's offset from UTC (minutes, DST included) at an instant, cached per day. */
function utcOffsetMinutes(timeZone: string): (atMs: number) => number {
  const format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' })
  const cache = new Map<number, number>()
  return (atMs) => {
    const key = Math.floor(atMs / 86_400_000)
    let offset = cache.get(key)
    if (offset === undefined) {
      const parts = Object.fromEntries(format.formatToParts(new Date(atMs)).map((p) => [p.type, p.value]))
      const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute))
      offset = Math.round((asUtc - Math.floor(atMs / 60_000) * 60_000) / 60_000)
      cache.set(key, offset)
    }
    return offset
  }
}
