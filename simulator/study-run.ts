import { scenarioHomes, scenarioTopology, type Scenario } from './scenario.ts'

// What a study records (StudyRun) and how its days are cut into chunks that run independently.

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
