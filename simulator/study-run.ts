import { scenarioHomes, scenarioTopology, type Scenario } from './scenario.ts'
import type { DeliveryRecords } from './study-delivery.ts'
import type { HomeRecords } from './study-homes.ts'

// What a study records (StudyRun) and how its days are cut into chunks that run independently.

/**
 * How the homes run: `no-trading` is today (self-consumption, the rest to and from the utility at
 * retail and feed-in tariff); `p2p` adds the market, every home's agent trading its forecast position
 * with the edge agent's own code and steering its battery to deliver, imbalance settled by the
 * contract's rules; `p2p-battery` also lets batteries sell stored energy to neighbours in the evening;
 * `p2p-perfect` is `p2p` with perfect foresight (each home trades what its devices will actually do),
 * so a comparison shows what forecast error costs; `p2p-voltage-limit` is `p2p` with each transformer's
 * capacity in clearing cut to what its cables carry inside the voltage limits (needs the scenario's cables).
 */
export type StudyMode = 'no-trading' | 'p2p' | 'p2p-battery' | 'p2p-perfect' | 'p2p-voltage-limit'
export const studyModes: readonly StudyMode[] = ['no-trading', 'p2p', 'p2p-battery', 'p2p-perfect', 'p2p-voltage-limit']

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
    /** Awarded by the market. */
    tradedWh: Float64Array
    /** Of that, delivered (the sellers' meters covered it) and not delivered. */
    deliveredWh: Float64Array
    shortfallWh: Float64Array
    /** Paid by buyers for the delivered energy, base units. */
    tradedPaid: Float64Array
    /** Imbalance charges sellers paid their buyers, base units. */
    imbalanceCharges: Float64Array
    /** The batteries' net output, Wh (discharge − charge before losses). */
    batteryWh: Float64Array
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
  /** The low-voltage grid's power flow, when the scenario describes its cables (`grid.lowVoltage`). */
  lowVoltage: LowVoltageRecord | null
  /** Per home, whole Wh and base units: its devices (study-homes.ts) and its trades (study-delivery.ts). */
  homes: { ids: string[] } & HomeRecords & DeliveryRecords
}

/**
 * What the power flow measured. Voltages per unit of nominal at each home's connection; "rise" is
 * the voltage above the transformer's busbar, caused by the street's feed-in (VDE-AR-N 4105 allows
 * generation to raise it by 3 % at most); EN 50160 wants supply voltage within ±10 % of nominal.
 */
export interface LowVoltageRecord {
  busbarPu: number
  homes: {
    minPu: Float64Array
    maxPu: Float64Array
    /** Intervals with the home's voltage outside 0.9 … 1.1 pu. */
    intervalsOutsideBand: Float64Array
    maxRisePu: Float64Array
    /** Intervals with the rise above 3 %. */
    intervalsRiseOver3Pct: Float64Array
  }
  transformers: {
    /** Highest current of any of its cables, share of that cable's ampacity. */
    maxCableLoading: Float64Array
    /** Intervals with any of its cables above its ampacity. */
    intervalsCableOverloaded: Float64Array
  }
  series: {
    /** Energy lost in the cables, Wh. */
    lossesWh: Float64Array
    /** What all transformers delivered into their networks, Wh (homes' net plus losses). */
    deliveredWh: Float64Array
    /** Lowest and highest home voltage in the interval, pu. */
    minPu: Float64Array
    maxPu: Float64Array
  }
  /** Power flows that did not converge (reported; their figures are the last iterate's). */
  notConverged: number
}

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
      deliveredWh: new Float64Array(intervals),
      shortfallWh: new Float64Array(intervals),
      tradedPaid: new Float64Array(intervals),
      imbalanceCharges: new Float64Array(intervals),
      batteryWh: new Float64Array(intervals),
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
    lowVoltage: scenario.grid.lowVoltage
      ? {
          busbarPu: scenario.grid.lowVoltage.busbarPu,
          homes: {
            minPu: new Float64Array(n).fill(Number.POSITIVE_INFINITY),
            maxPu: new Float64Array(n),
            intervalsOutsideBand: new Float64Array(n),
            maxRisePu: new Float64Array(n),
            intervalsRiseOver3Pct: new Float64Array(n),
          },
          transformers: { maxCableLoading: new Float64Array(transformerIds.length), intervalsCableOverloaded: new Float64Array(transformerIds.length) },
          series: { lossesWh: new Float64Array(intervals), deliveredWh: new Float64Array(intervals), minPu: new Float64Array(intervals), maxPu: new Float64Array(intervals) },
          notConverged: 0,
        }
      : null,
    homes: {
      ids: homes.map((h) => h.id),
      pvWh: new Float64Array(n),
      loadWh: new Float64Array(n),
      importWh: new Float64Array(n),
      exportWh: new Float64Array(n),
      boughtWh: new Float64Array(n),
      soldWh: new Float64Array(n),
      shortfallWh: new Float64Array(n),
      paid: new Float64Array(n),
      received: new Float64Array(n),
      imbalancePaid: new Float64Array(n),
      imbalanceReceived: new Float64Array(n),
      spilledWh: new Float64Array(n),
      baselineImportWh: new Float64Array(n),
      baselineExportWh: new Float64Array(n),
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
  for (const key of Object.keys(into.homes) as (keyof StudyRun['homes'])[]) if (key !== 'ids') add(into.homes[key], part.homes[key])
  max(into.transformers.peakImportW, part.transformers.peakImportW)
  max(into.transformers.peakExportW, part.transformers.peakExportW)
  add(into.transformers.intervalsOverCapacity, part.transformers.intervalsOverCapacity)
  add(into.transformers.dailyPeakLoading, part.transformers.dailyPeakLoading)
  add(into.surplusByDayHour, part.surplusByDayHour)
  const lv = into.lowVoltage
  const other = part.lowVoltage
  if (lv && other) {
    for (let i = 0; i < lv.homes.minPu.length; i++) if (other.homes.minPu[i]! < lv.homes.minPu[i]!) lv.homes.minPu[i] = other.homes.minPu[i]!
    max(lv.homes.maxPu, other.homes.maxPu)
    max(lv.homes.maxRisePu, other.homes.maxRisePu)
    add(lv.homes.intervalsOutsideBand, other.homes.intervalsOutsideBand)
    add(lv.homes.intervalsRiseOver3Pct, other.homes.intervalsRiseOver3Pct)
    max(lv.transformers.maxCableLoading, other.transformers.maxCableLoading)
    add(lv.transformers.intervalsCableOverloaded, other.transformers.intervalsCableOverloaded)
    for (const key of Object.keys(lv.series) as (keyof LowVoltageRecord['series'])[]) add(lv.series[key], other.series[key])
    lv.notConverged += other.notConverged
  }
}
