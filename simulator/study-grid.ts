import { scenarioHomes, scenarioTopology, type Scenario } from './scenario.ts'
import type { Topology } from '../market/engine/topology.ts'
import { hostingCapacityW } from './grid/hosting-capacity.ts'
import { layoutOf, transformerNetwork, type TransformerNetwork } from './grid/lv-network.ts'
import { PowerFlowWorkspace, solveRadialNetwork } from './grid/power-flow.ts'
import { mulberry32 } from './random.ts'
import type { LowVoltageRecord } from './study-run.ts'

/** EN 50160: supply voltage within ±10 % of nominal. */
const BAND_PU = 0.1
/** VDE-AR-N 4105: generation may raise the voltage at the worst connection point by 3 % at most. */
const RISE_LIMIT_PU = 0.03

/**
 * The study's low-voltage grid: one radial network per transformer (grid/lv-network.ts) and its power
 * flow every interval (grid/power-flow.ts), fed with what each home's meter exchanged. Balanced (one
 * solve per network, every home's power shared by three phases) unless the scenario connects some
 * homes on one phase (`singlePhaseShare`): then each phase is solved on its own with what its homes
 * put on it, and each home sees its own phase (a three-phase home the worst of the three). Null when
 * the scenario gives no cables.
 */
export function lowVoltageGrid(scenario: Scenario, transformerOf: Int32Array, transformerIds: readonly string[]) {
  const lv = scenario.grid.lowVoltage
  if (!lv) return null
  const transformers = transformerIds.length
  const homesOf: number[][] = Array.from({ length: transformers }, () => [])
  transformerOf.forEach((t, h) => homesOf[t]!.push(h))
  const phaseOf = homePhases(transformerOf.length, lv.singlePhaseShare, scenario.seed)
  const phases = lv.singlePhaseShare > 0 ? 3 : 1
  const networks: TransformerNetwork[] = homesOf.map((homes, x) => transformerNetwork(homes.length, layoutOf(lv, transformerIds[x]!)))
  const loads = networks.map((net) => Array.from({ length: phases }, () => new Float64Array(net.network.parent.length)))
  const workspaces = networks.map(() => Array.from({ length: phases }, () => new PowerFlowWorkspace()))
  /** Each home's net exchange with the grid this interval, Wh (+ import, − export); filled by the caller. */
  const homeNetWh = new Float64Array(transformerOf.length)

  /** Solves every transformer's network for interval `t` and records it. */
  const solve = (t: number, dtHours: number, record: LowVoltageRecord) => {
    let lossesWh = 0
    let deliveredWh = 0
    let minPu = Number.POSITIVE_INFINITY
    let maxPu = 0
    for (let x = 0; x < transformers; x++) {
      const { network, homeBus, ampacityA } = networks[x]!
      const homes = homesOf[x]!
      let loading = 0
      for (let phase = 0; phase < phases; phase++) {
        const load = loads[x]![phase]!
        // The solver takes a three-phase total and divides it by three: a phase's own load goes in three times over.
        for (let k = 0; k < homes.length; k++) {
          const home = homes[k]!
          const on = phaseOf[home]!
          load[homeBus[k]!] = phases === 1 || on < 0 ? homeNetWh[home]! / dtHours : on === phase ? (3 * homeNetWh[home]!) / dtHours : 0
        }
        // Warm: a network's voltages move little from one interval to the next. 1e-8 pu is 2 µV.
        const flow = solveRadialNetwork(network, load, null, { slackPu: lv.busbarPu, workspace: workspaces[x]![phase], warmStart: true, tolerancePu: 1e-8 })
        if (!flow.converged) record.notConverged++
        lossesWh += (flow.lossesW / phases) * dtHours
        deliveredWh += (flow.slackW / phases) * dtHours
        for (let bus = 1; bus < network.parent.length; bus++) {
          const share = flow.currentA[bus]! / ampacityA[bus]!
          if (share > loading) loading = share
        }
      }
      const h = record.homes
      for (let k = 0; k < homes.length; k++) {
        const home = homes[k]!
        const bus = homeBus[k]!
        const on = phaseOf[home]!
        let low = Number.POSITIVE_INFINITY
        let high = 0
        for (let phase = 0; phase < phases; phase++) {
          if (on >= 0 && phases > 1 && on !== phase) continue
          const v = workspaces[x]![phase]!.vPu[bus]!
          if (v < low) low = v
          if (v > high) high = v
        }
        if (low < h.minPu[home]!) h.minPu[home] = low
        if (high > h.maxPu[home]!) h.maxPu[home] = high
        if (low < 1 - BAND_PU || high > 1 + BAND_PU) h.intervalsOutsideBand[home]!++
        const rise = high - lv.busbarPu
        if (rise > h.maxRisePu[home]!) h.maxRisePu[home] = rise
        if (rise > RISE_LIMIT_PU) h.intervalsRiseOver3Pct[home]!++
        if (low < minPu) minPu = low
        if (high > maxPu) maxPu = high
      }
      if (loading > record.transformers.maxCableLoading[x]!) record.transformers.maxCableLoading[x] = loading
      if (loading > 1) record.transformers.intervalsCableOverloaded[x]!++
    }
    record.series.lossesWh[t] = lossesWh
    record.series.deliveredWh[t] = deliveredWh
    record.series.minPu[t] = minPu === Number.POSITIVE_INFINITY ? 0 : minPu
    record.series.maxPu[t] = maxPu
  }
  return { homeNetWh, solve }
}

/**
 * Which phase each home is on: −1 for a three-phase connection, else 0, 1 or 2. A share of the homes,
 * drawn with the scenario's seed, is connected on one phase, and those take L1, L2, L3 in turn, as an
 * installer spreads them.
 */
export function homePhases(homes: number, singlePhaseShare: number, seed: number): Int8Array {
  const draw = mulberry32((seed ^ 0x9a5e) >>> 0)
  const phaseOf = new Int8Array(homes)
  let next = 0
  for (let h = 0; h < homes; h++) phaseOf[h] = draw() < singlePhaseShare ? next++ % 3 : -1
  return phaseOf
}

/**
 * The scenario's topology with each transformer's capacity cut to what its cables carry inside the
 * voltage limits (VDE-AR-N 4105's 3 % rise, EN 50160's band; grid/hosting-capacity.ts), the smaller of
 * export and import: clearing then never trades more across a transformer than that.
 */
export function voltageLimitedTopology(scenario: Scenario): Topology {
  const lv = scenario.grid.lowVoltage
  if (!lv) throw new Error('mode p2p-voltage-limit needs the scenario\'s cables: add grid.lowVoltage (see the README, "Simulating a year")')
  const homesUnder = new Map<string, number>()
  for (const h of scenarioHomes(scenario)) homesUnder.set(h.transformer, (homesUnder.get(h.transformer) ?? 0) + 1)
  // Transformers with as many homes on the same wiring have the same network: one search each.
  const searched = new Map<string, number>()
  const limitKw = (id: string) => {
    const homes = homesUnder.get(id) ?? 0
    const layout = layoutOf(lv, id)
    const key = `${homes}/${JSON.stringify(lv.transformers[id] ?? null)}`
    let kw = searched.get(key)
    if (kw === undefined) {
      const { exportW, importW } = hostingCapacityW(transformerNetwork(homes, layout), { busbarPu: lv.busbarPu, maxRisePu: RISE_LIMIT_PU, minPu: 1 - BAND_PU, maxPu: 1 + BAND_PU })
      searched.set(key, (kw = Math.min(exportW, importW) / 1000))
    }
    return kw
  }
  return scenarioTopology(scenario).map((node) => {
    if (node.level !== 'transformer') return node
    const kw = Math.min(node.capacityKw ?? Number.POSITIVE_INFINITY, limitKw(node.id))
    // A network that cannot keep its band even idle still trades nothing across it (capacity ≈ 0).
    return { ...node, capacityKw: kw === Number.POSITIVE_INFINITY ? null : Math.max(0.001, kw) }
  })
}
