/**
 * A radial low-voltage network under one transformer, as the power flow sees it: bus 0 is the
 * transformer's LV busbar (the slack, its voltage held), every other bus hangs on a parent with a
 * smaller index through one cable. Balanced: one phase of a symmetrical three-phase system, so
 * powers are divided by three and cable impedances are per phase.
 */
export interface RadialNetwork {
  /** parent[i] < i for every bus i ≥ 1; parent[0] is −1. */
  parent: Int32Array
  /** Series resistance and reactance of the cable from the parent into each bus, Ω per phase (index 0 unused). */
  rOhm: Float64Array
  xOhm: Float64Array
  /** Nominal phase-to-neutral voltage, V (230 in a 400 V network). */
  nominalV: number
}

export interface PowerFlowResult {
  /** Voltage magnitude at each bus, per unit of the nominal voltage. */
  vPu: Float64Array
  /** Phase current in the cable into each bus, A (index 0: the transformer's own current). */
  currentA: Float64Array
  /** Losses in all cables, W (three phases). */
  lossesW: number
  /** Active power the transformer delivers into the network, W (three phases; negative: the network feeds back). */
  slackW: number
  iterations: number
  converged: boolean
}

/**
 * Arrays reused from one interval to the next (a study solves each feeder 35,040 times a year). One
 * per network, with `warmStart`: each solve starts from the last one's voltages, which are close.
 * A result's `vPu` and `currentA` are the workspace's own: read them before the next solve.
 */
export class PowerFlowWorkspace {
  /** Buses of the last solve whose voltages are still in vRe/vIm; 0 when none. */
  solved = 0
  vRe = new Float64Array(0)
  vIm = new Float64Array(0)
  jRe = new Float64Array(0)
  jIm = new Float64Array(0)
  vPu = new Float64Array(0)
  currentA = new Float64Array(0)

  ensure(n: number): void {
    if (this.vRe.length === n) return
    this.vRe = new Float64Array(n)
    this.vIm = new Float64Array(n)
    this.jRe = new Float64Array(n)
    this.jIm = new Float64Array(n)
    this.vPu = new Float64Array(n)
    this.currentA = new Float64Array(n)
    this.solved = 0
  }
}

/** Checks a network's shape; the power flow relies on it. */
export function checkRadialNetwork(network: RadialNetwork): void {
  const { parent, rOhm, xOhm } = network
  const n = parent.length
  if (n < 1 || parent[0] !== -1) throw new Error('bus 0 must be the slack (parent −1)')
  if (rOhm.length !== n || xOhm.length !== n) throw new Error(`rOhm and xOhm need one value per bus (${n})`)
  for (let i = 1; i < n; i++) {
    if (!(parent[i]! >= 0 && parent[i]! < i)) throw new Error(`bus ${i}: its parent must be a bus before it (got ${parent[i]})`)
    if (!(rOhm[i]! >= 0 && xOhm[i]! >= 0) || rOhm[i]! + xOhm[i]! === 0) throw new Error(`bus ${i}: the cable into it needs a positive impedance`)
  }
}

/**
 * Backward/forward sweep power flow of a radial network (Shirmohammadi et al., 1988). Each bus
 * draws `loadW` (three-phase total; negative: the bus feeds in, e.g. PV) and `loadVar` (reactive,
 * optional) as constant power. Backward: every bus's load current, summed up the tree into each
 * cable; forward: every bus's voltage, its parent's less the drop across the cable. Repeated until no
 * voltage moves by more than `tolerancePu`. O(buses) per sweep; a few sweeps on a real feeder.
 */
export function solveRadialNetwork(
  network: RadialNetwork,
  loadW: Float64Array,
  loadVar: Float64Array | null,
  options: { slackPu?: number; tolerancePu?: number; maxIterations?: number; workspace?: PowerFlowWorkspace; warmStart?: boolean } = {},
): PowerFlowResult {
  const { parent, rOhm, xOhm, nominalV } = network
  const n = parent.length
  const workspace = options.workspace ?? new PowerFlowWorkspace()
  workspace.ensure(n)
  const { vRe, vIm, jRe, jIm } = workspace
  const slackV = (options.slackPu ?? 1) * nominalV
  const toleranceV = (options.tolerancePu ?? 1e-10) * nominalV
  const maxIterations = options.maxIterations ?? 50
  if (!(options.warmStart && workspace.solved === n)) {
    for (let i = 0; i < n; i++) {
      vRe[i] = slackV
      vIm[i] = 0
    }
  }
  vRe[0] = slackV
  vIm[0] = 0
  let iterations = 0
  let converged = false
  while (iterations < maxIterations && !converged) {
    iterations++
    // Backward: load current I = conj(S / V) of each bus (per phase), then each cable carries its
    // bus's current and everything below it. Children have larger indices than their parents.
    for (let i = 0; i < n; i++) {
      const p = loadW[i]! / 3
      const q = loadVar ? loadVar[i]! / 3 : 0
      // Junctions draw nothing: half the buses of a street, and a division saved on each.
      if (p === 0 && q === 0) {
        jRe[i] = 0
        jIm[i] = 0
        continue
      }
      const re = vRe[i]!
      const im = vIm[i]!
      const mag2 = re * re + im * im
      jRe[i] = (p * re + q * im) / mag2
      jIm[i] = (p * im - q * re) / mag2
    }
    for (let i = n - 1; i > 0; i--) {
      const up = parent[i]!
      jRe[up]! += jRe[i]!
      jIm[up]! += jIm[i]!
    }
    // Forward: each bus at its parent's voltage less the drop Z·I across its cable.
    let largestChange = 0
    for (let i = 1; i < n; i++) {
      const up = parent[i]!
      const r = rOhm[i]!
      const x = xOhm[i]!
      const re = vRe[up]! - (r * jRe[i]! - x * jIm[i]!)
      const im = vIm[up]! - (r * jIm[i]! + x * jRe[i]!)
      const change = Math.abs(re - vRe[i]!) + Math.abs(im - vIm[i]!)
      if (change > largestChange) largestChange = change
      vRe[i] = re
      vIm[i] = im
    }
    converged = largestChange <= toleranceV
  }
  workspace.solved = converged ? n : 0
  const { vPu, currentA } = workspace
  let lossesW = 0
  for (let i = 0; i < n; i++) {
    vPu[i] = Math.sqrt(vRe[i]! * vRe[i]! + vIm[i]! * vIm[i]!) / nominalV
    const i2 = jRe[i]! * jRe[i]! + jIm[i]! * jIm[i]!
    currentA[i] = Math.sqrt(i2)
    if (i > 0) lossesW += 3 * i2 * rOhm[i]!
  }
  const slackW = 3 * (vRe[0]! * jRe[0]! + vIm[0]! * jIm[0]!)
  return { vPu, currentA, lossesW, slackW, iterations, converged }
}
