import { z } from 'zod'
import type { RadialNetwork } from './power-flow.ts'

/**
 * Low-voltage cables by type: resistance and reactance per km per phase at 20 °C conductor
 * temperature, and the current they carry laid in the ground (load factor 0.7), from typical
 * manufacturer data sheets for DIN VDE 0276-603 cables. NAYY: aluminium, the usual street main in
 * Germany; NYY: copper, house service connections.
 */
export const CABLE_TYPES = {
  'NAYY 4x240': { rOhmPerKm: 0.125, xOhmPerKm: 0.08, ampacityA: 357 },
  'NAYY 4x150': { rOhmPerKm: 0.206, xOhmPerKm: 0.08, ampacityA: 275 },
  'NAYY 4x95': { rOhmPerKm: 0.32, xOhmPerKm: 0.082, ampacityA: 215 },
  'NAYY 4x50': { rOhmPerKm: 0.641, xOhmPerKm: 0.085, ampacityA: 144 },
  'NYY 4x35': { rOhmPerKm: 0.524, xOhmPerKm: 0.086, ampacityA: 158 },
  'NYY 4x16': { rOhmPerKm: 1.15, xOhmPerKm: 0.09, ampacityA: 102 },
} as const satisfies Record<string, Cable>

export interface Cable {
  rOhmPerKm: number
  xOhmPerKm: number
  ampacityA: number
}

const cableTypes = Object.keys(CABLE_TYPES) as [keyof typeof CABLE_TYPES, ...(keyof typeof CABLE_TYPES)[]]
/** A cable by type name, or by its own figures. */
export const cableSchema = z.union(
  [
    z.enum(cableTypes),
    z.object({ rOhmPerKm: z.number().positive().max(100), xOhmPerKm: z.number().nonnegative().max(100), ampacityA: z.number().positive().max(10_000) }).strict(),
  ],
  { error: `must be a cable type (${cableTypes.join(', ')}) or { rOhmPerKm, xOhmPerKm, ampacityA }` },
)

/** How the homes under one transformer are wired. */
const layoutShape = {
  lines: z.number().int().min(1).max(32),
  mainCable: cableSchema,
  serviceCable: cableSchema,
  homeSpacingM: z.number().positive().max(1000),
  serviceLengthM: z.number().positive().max(1000),
}

/**
 * Where one home connects: on street main `line` (1 = the first), `distanceM` from the transformer
 * along it, by `serviceLengthM` of service cable (default the transformer's). Homes at the same
 * distance on a line share the junction.
 */
const connectionSchema = z
  .object({ line: z.number().int().min(1).max(32), distanceM: z.number().positive().max(5000), serviceLengthM: z.number().positive().max(1000).optional() })
  .strict()

/**
 * How the homes under each transformer are wired: `lines` cables leave the transformer's busbar, the
 * homes take turns along them, `homeSpacingM` apart on the main cable, each by its own service cable.
 * `transformers` changes any of that for named transformers (e.g. `tx-1-2: { mainCable: NAYY 4x50 }`
 * for the old street at the end of the feeder), and can list where each of its homes connects
 * (`homes`, in the order of the transformer's homes); the voltage and the busbar's setting are the
 * community's.
 */
export const lowVoltageSchema = z
  .object({
    /** Line-to-line voltage, V. */
    nominalV: z.number().positive().max(1000).default(400),
    /** The transformers hold their busbars at this voltage (their tap), per unit. */
    busbarPu: z.number().min(0.9).max(1.1).default(1),
    lines: layoutShape.lines.default(4),
    mainCable: layoutShape.mainCable.default('NAYY 4x150'),
    serviceCable: layoutShape.serviceCable.default('NYY 4x35'),
    homeSpacingM: layoutShape.homeSpacingM.default(25),
    serviceLengthM: layoutShape.serviceLengthM.default(15),
    transformers: z.record(z.string(), z.object({ ...layoutShape, homes: z.array(connectionSchema).min(1) }).partial().strict()).default({}),
    /**
     * Share of the homes connected on one phase (L1, L2, L3 in turn), the rest three-phase. Above 0 the
     * power flow solves each phase with what its homes put on it; 0 is the balanced network.
     */
    singlePhaseShare: z.number().min(0).max(1).default(0),
  })
  .strict()
export type LowVoltage = z.infer<typeof lowVoltageSchema>

/** The wiring under transformer `id`: the community's, with that transformer's own changes. */
export function layoutOf(lv: LowVoltage, id: string): LowVoltage & { homes?: z.infer<typeof connectionSchema>[] } {
  const own = lv.transformers[id]
  return own ? { ...lv, ...own } : lv
}

const cableOf = (c: z.infer<typeof cableSchema>): Cable => (typeof c === 'string' ? CABLE_TYPES[c] : c)

/** The network under one transformer and where its homes are on it. */
export interface TransformerNetwork {
  network: RadialNetwork
  /** The bus of each of the transformer's homes, in the order given. */
  homeBus: Int32Array
  /** What the cable into each bus carries, A (index 0 unused). */
  ampacityA: Float64Array
  /** Whether the cable into each bus is a service cable (else a main). */
  isService: Uint8Array
}

/**
 * The radial network of one transformer with `homes` homes: bus 0 the busbar; on each line a junction
 * where a home connects (the main cable from the junction before), each with its home's bus behind
 * its service cable. Without a list of connections the homes take turns over the lines,
 * `homeSpacingM` apart, so every line gets its share. Pure.
 */
export function transformerNetwork(homes: number, lv: LowVoltage & { homes?: z.infer<typeof connectionSchema>[] }): TransformerNetwork {
  const main = cableOf(lv.mainCable)
  const service = cableOf(lv.serviceCable)
  if (lv.homes && lv.homes.length !== homes) throw new Error(`the list of connections has ${lv.homes.length} homes, but ${homes} are under this transformer: list each of them`)
  const line = Int32Array.from({ length: homes }, (_, h) => (lv.homes ? lv.homes[h]!.line - 1 : h % lv.lines))
  const distance = Float64Array.from({ length: homes }, (_, h) => (lv.homes ? lv.homes[h]!.distanceM : (Math.floor(h / lv.lines) + 1) * lv.homeSpacingM))
  const serviceM = Float64Array.from({ length: homes }, (_, h) => lv.homes?.[h]!.serviceLengthM ?? lv.serviceLengthM)
  // Nearest first (stable: homes at one distance keep their order), so a junction comes after the one before it on its line.
  const order = Array.from({ length: homes }, (_, h) => h).sort((a, b) => distance[a]! - distance[b]!)
  const lines = Math.max(lv.lines, ...Array.from(line, (l) => l + 1))
  const lastJunction = new Int32Array(lines) // 0: the busbar
  const lastDistance = new Float64Array(lines)
  const junctions = new Set<string>(order.map((h) => `${line[h]}/${distance[h]}`))
  const n = 1 + junctions.size + homes
  const parent = new Int32Array(n)
  const rOhm = new Float64Array(n)
  const xOhm = new Float64Array(n)
  const ampacityA = new Float64Array(n)
  const isService = new Uint8Array(n)
  const homeBus = new Int32Array(homes)
  parent[0] = -1
  let bus = 1
  for (const h of order) {
    const l = line[h]!
    if (distance[h]! > lastDistance[l]! || lastJunction[l] === 0) {
      const junction = bus++
      const lengthM = distance[h]! - lastDistance[l]!
      parent[junction] = lastJunction[l]!
      rOhm[junction] = (main.rOhmPerKm * lengthM) / 1000
      xOhm[junction] = (main.xOhmPerKm * lengthM) / 1000
      ampacityA[junction] = main.ampacityA
      lastJunction[l] = junction
      lastDistance[l] = distance[h]!
    }
    const home = bus++
    parent[home] = lastJunction[l]!
    rOhm[home] = (service.rOhmPerKm * serviceM[h]!) / 1000
    xOhm[home] = (service.xOhmPerKm * serviceM[h]!) / 1000
    ampacityA[home] = service.ampacityA
    isService[home] = 1
    homeBus[h] = home
  }
  return { network: { parent, rOhm, xOhm, nominalV: lv.nominalV / Math.sqrt(3) }, homeBus, ampacityA, isService }
}
