import { dirname, isAbsolute, join } from 'node:path'
import { z } from 'zod'
import { settlementDefaults } from '../protocol/settlement-defaults.ts'
import type { Topology } from '../market/engine/topology.ts'
import { loadConfigFile } from '../platform/config-file.ts'
import { mulberry32 } from './random.ts'
import { lowVoltageSchema } from './grid/lv-network.ts'
import { readMeasuredCsv } from './measured-csv.ts'

const range = (min: number, max: number) =>
  z
    .tuple([z.number().min(min).max(max), z.number().min(min).max(max)])
    .refine(([a, b]) => a <= b, { message: 'must be [low, high] with low ≤ high' })
const share = z.number().min(0).max(1)
const measuredFile = z.object({ file: z.string().min(1), unit: z.enum(['Wh', 'W']) }).strict()

/**
 * A study scenario (`simulator/scenarios/*.yaml`): where, how many homes with what equipment, the
 * grid they hang on, tariffs, market rules and the random seed. Validated with errors that name the key.
 */
export const scenarioSchema = z
  .object({
    name: z.string().min(1),
    location: z.object({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180), timeZone: z.string().min(1) }).strict(),
    /** First day of the study, YYYY-MM-DD. */
    start: z.iso.date(),
    homes: z
      .object({
        count: z.number().int().min(1).max(100_000),
        /** Household consumption per year, kWh, drawn per home within the range. */
        annualLoadKwh: range(500, 50_000),
        pv: z.object({ share, kWp: range(0.3, 100), tiltDeg: z.number().min(0).max(90), azimuthDeg: range(0, 360) }).strict(),
        battery: z.object({ share, kWh: range(0.5, 200), kW: range(0.3, 100), efficiency: z.number().min(0.5).max(1) }).strict(),
        ev: z.object({ share, kWhPerDay: z.number().positive().max(200) }).strict().optional(),
        heatPump: z.object({ share, kWhPerYear: z.number().positive().max(50_000) }).strict().optional(),
        /**
         * Measured data instead of the models (simulator/measured-csv.ts): household load and PV per home
         * from CSV files, one column per home (column k is home k; homes beyond the columns are
         * modelled). A path is relative to the scenario file.
         */
        measured: z.object({ load: measuredFile.optional(), pv: measuredFile.optional() }).strict().optional(),
      })
      .strict(),
    grid: z
      .object({
        feeders: z.number().int().min(1).max(1000),
        transformersPerFeeder: z.number().int().min(1).max(1000),
        transformerKw: z.number().positive().nullable(),
        feederKw: z.number().positive().nullable(),
        /**
         * The cables under each transformer (grid/lv-network.ts): with it, every interval gets a power
         * flow (voltages, cable currents, losses); without it the grid is transformer ratings only.
         */
        lowVoltage: lowVoltageSchema.optional(),
      })
      .strict(),
    tariffs: z
      .object({
        /** Base units per kWh (6-decimal stablecoin: 300000 = 0.30 per kWh). */
        retailPerKwh: z.number().int().positive(),
        feedInPerKwh: z.number().int().nonnegative(),
        fees: z.object({ transformer: z.number().int().nonnegative(), feeder: z.number().int().nonnegative(), substation: z.number().int().nonnegative() }).strict(),
      })
      .strict()
      .refine((t) => t.retailPerKwh > t.feedInPerKwh, { message: 'retailPerKwh must be above feedInPerKwh', path: ['retailPerKwh'] }),
    market: z
      .object({
        pricing: z.enum(['pay-as-clear', 'pay-as-bid']).default('pay-as-clear'),
        intervalMinutes: z.number().int().min(1).max(60).default(15),
        /** Base units per kWh a seller pays the buyer it left short (the contract's imbalance price). */
        imbalancePerKwh: z.number().int().nonnegative().default(settlementDefaults.imbalancePrice),
      })
      .strict(),
    /** Grid emissions avoided per kWh of local solar, g CO₂/kWh. */
    co2GramsPerKwh: z.number().nonnegative().default(380),
    seed: z.number().int().nonnegative(),
  })
  .strict()
  .superRefine((s, ctx) => {
    // A layout for a transformer the grid does not have is a typo.
    const ids = scenarioTopology(s).filter((n) => n.level === 'transformer').map((n) => n.id)
    for (const [id, own] of Object.entries(s.grid.lowVoltage?.transformers ?? {})) {
      const x = ids.indexOf(id)
      if (x < 0) {
        ctx.addIssue({ code: 'custom', path: ['grid', 'lowVoltage', 'transformers', id], message: `no transformer "${id}" in this grid: they are ${ids[0]} … ${ids.at(-1)}` })
        continue
      }
      const under = homesUnderTransformer(x, ids.length, s.homes.count)
      if (own.homes && own.homes.length !== under) {
        ctx.addIssue({ code: 'custom', path: ['grid', 'lowVoltage', 'transformers', id, 'homes'], message: `lists ${own.homes.length} connections, but ${under} homes are under ${id}: list each of them, in order` })
      }
    }
  })
export type Scenario = z.infer<typeof scenarioSchema>

/**
 * Reads and checks a scenario file; an error names the file, the key and what it expects. Measured
 * CSV files are found relative to it, and read and checked now (an error names file, line and column).
 */
export function loadScenario(path: string): Scenario {
  const scenario = loadConfigFile(path, scenarioSchema)
  const measured = scenario.homes.measured
  if (!measured) return scenario
  const resolve = (input: { file: string; unit: 'Wh' | 'W' } | undefined) => {
    if (!input) return undefined
    const file = isAbsolute(input.file) ? input.file : join(dirname(path), input.file)
    readMeasuredCsv(file, input.unit)
    return { ...input, file }
  }
  return { ...scenario, homes: { ...scenario.homes, measured: { load: resolve(measured.load), pv: resolve(measured.pv) } } }
}

/**
 * The scenario's grid tree for the market engine: one substation, its feeders, their transformers,
 * with the scenario's fees and line capacities. Pure.
 */
export function scenarioTopology(s: Scenario): Topology {
  const nodes: Topology = [{ id: 'substation', parent: null, level: 'substation', capacityKw: null, feePerKwh: s.tariffs.fees.substation }]
  for (let f = 0; f < s.grid.feeders; f++) {
    nodes.push({ id: `feeder-${f + 1}`, parent: 'substation', level: 'feeder', capacityKw: s.grid.feederKw, feePerKwh: s.tariffs.fees.feeder })
    for (let t = 0; t < s.grid.transformersPerFeeder; t++) {
      nodes.push({ id: `tx-${f + 1}-${t + 1}`, parent: `feeder-${f + 1}`, level: 'transformer', capacityKw: s.grid.transformerKw, feePerKwh: s.tariffs.fees.transformer })
    }
  }
  return nodes
}

export interface StudyHome {
  id: string
  transformer: string
  annualLoadKwh: number
  pv: { kWp: number; tiltDeg: number; azimuthDeg: number } | null
  battery: { kWh: number; kW: number; efficiency: number } | null
  evKwhPerDay: number
  heatPumpKwhPerYear: number
  /** Seeds this home's own random streams (load noise, clouds are shared by the street). */
  seed: number
}

/** Which of `transformers` home `i` of `homes` hangs on: the homes in order, spread evenly. */
export function transformerOfHome(i: number, transformers: number, homes: number): number {
  return Math.floor((i * transformers) / homes)
}

/** How many of `homes` hang on transformer `x` (`transformerOfHome`). */
export function homesUnderTransformer(x: number, transformers: number, homes: number): number {
  let n = 0
  for (let i = 0; i < homes; i++) if (transformerOfHome(i, transformers, homes) === x) n++
  return n
}

/** The scenario's homes, equipment drawn from its mix with its seed, spread evenly over the transformers. Pure. */
export function scenarioHomes(s: Scenario): StudyHome[] {
  const random = mulberry32(s.seed)
  const between = ([lo, hi]: readonly [number, number]) => lo + random() * (hi - lo)
  const transformers = scenarioTopology(s).filter((n) => n.level === 'transformer').map((n) => n.id)
  return Array.from({ length: s.homes.count }, (_, i) => {
    const h = s.homes
    const hasPv = random() < h.pv.share
    const hasBattery = random() < h.battery.share
    const hasEv = h.ev ? random() < h.ev.share : false
    const hasHeatPump = h.heatPump ? random() < h.heatPump.share : false
    return {
      id: `home-${String(i + 1).padStart(String(h.count).length, '0')}`,
      transformer: transformers[transformerOfHome(i, transformers.length, h.count)]!,
      annualLoadKwh: Math.round(between(h.annualLoadKwh)),
      pv: hasPv ? { kWp: Math.round(between(h.pv.kWp) * 10) / 10, tiltDeg: h.pv.tiltDeg, azimuthDeg: Math.round(between(h.pv.azimuthDeg)) } : null,
      battery: hasBattery ? { kWh: Math.round(between(h.battery.kWh) * 10) / 10, kW: Math.round(between(h.battery.kW) * 10) / 10, efficiency: h.battery.efficiency } : null,
      evKwhPerDay: hasEv ? h.ev!.kWhPerDay : 0,
      heatPumpKwhPerYear: hasHeatPump ? h.heatPump!.kWhPerYear : 0,
      seed: s.seed * 100_003 + i,
    }
  })
}
