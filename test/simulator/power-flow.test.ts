import { describe, expect, it } from 'vitest'
import { solveRadialNetwork, checkRadialNetwork, type RadialNetwork } from '../../simulator/grid/power-flow.ts'
import { mulberry32 } from '../../simulator/random.ts'

/**
 * An independent solver to check the sweep against: Newton–Raphson in polar form on the dense bus
 * admittance matrix, written out plainly (textbook equations, Gaussian elimination), per phase.
 */
function newtonRaphson(network: RadialNetwork, loadW: Float64Array, loadVar: Float64Array): Float64Array {
  const n = network.parent.length
  const g = Array.from({ length: n }, () => new Float64Array(n))
  const b = Array.from({ length: n }, () => new Float64Array(n))
  for (let i = 1; i < n; i++) {
    const p = network.parent[i]!
    const r = network.rOhm[i]!
    const x = network.xOhm[i]!
    const yRe = r / (r * r + x * x)
    const yIm = -x / (r * r + x * x)
    for (const [a, c, sign] of [[i, i, 1], [p, p, 1], [i, p, -1], [p, i, -1]] as const) {
      g[a]![c]! += sign * yRe
      b[a]![c]! += sign * yIm
    }
  }
  const v = new Float64Array(n).fill(network.nominalV)
  const theta = new Float64Array(n)
  // Injected per phase: a load draws, so it injects −P/3.
  const pSpec = (i: number) => -loadW[i]! / 3
  const qSpec = (i: number) => -loadVar[i]! / 3
  const calc = (i: number) => {
    let p = 0
    let q = 0
    for (let k = 0; k < n; k++) {
      const t = theta[i]! - theta[k]!
      p += v[i]! * v[k]! * (g[i]![k]! * Math.cos(t) + b[i]![k]! * Math.sin(t))
      q += v[i]! * v[k]! * (g[i]![k]! * Math.sin(t) - b[i]![k]! * Math.cos(t))
    }
    return [p, q] as const
  }
  const m = n - 1
  for (let iteration = 0; iteration < 30; iteration++) {
    const pq = Array.from({ length: n }, (_, i) => calc(i))
    const mismatch = new Float64Array(2 * m)
    for (let i = 1; i < n; i++) {
      mismatch[i - 1] = pSpec(i) - pq[i]![0]
      mismatch[m + i - 1] = qSpec(i) - pq[i]![1]
    }
    // 10 µW per phase: the mismatch cannot go much lower in doubles (V² · G is about 1e7 W here).
    if (Math.max(...mismatch.map(Math.abs)) < 1e-5) return v.map((x) => x / network.nominalV)
    const jac = Array.from({ length: 2 * m }, () => new Float64Array(2 * m))
    for (let i = 1; i < n; i++) {
      const [pi, qi] = pq[i]!
      for (let k = 1; k < n; k++) {
        const t = theta[i]! - theta[k]!
        const G = g[i]![k]!
        const B = b[i]![k]!
        if (i === k) {
          jac[i - 1]![k - 1] = -qi - B * v[i]! ** 2
          jac[i - 1]![m + k - 1] = pi / v[i]! + G * v[i]!
          jac[m + i - 1]![k - 1] = pi - G * v[i]! ** 2
          jac[m + i - 1]![m + k - 1] = qi / v[i]! - B * v[i]!
        } else {
          jac[i - 1]![k - 1] = v[i]! * v[k]! * (G * Math.sin(t) - B * Math.cos(t))
          jac[i - 1]![m + k - 1] = v[i]! * (G * Math.cos(t) + B * Math.sin(t))
          jac[m + i - 1]![k - 1] = -v[i]! * v[k]! * (G * Math.cos(t) + B * Math.sin(t))
          jac[m + i - 1]![m + k - 1] = v[i]! * (G * Math.sin(t) - B * Math.cos(t))
        }
      }
    }
    const dx = gaussianElimination(jac, mismatch)
    for (let i = 1; i < n; i++) {
      theta[i]! += dx[i - 1]!
      v[i]! += dx[m + i - 1]!
    }
  }
  throw new Error('Newton–Raphson did not converge')
}

function gaussianElimination(a: Float64Array[], rhs: Float64Array): Float64Array {
  const n = rhs.length
  const x = Float64Array.from(rhs)
  for (let col = 0; col < n; col++) {
    let pivot = col
    for (let row = col + 1; row < n; row++) if (Math.abs(a[row]![col]!) > Math.abs(a[pivot]![col]!)) pivot = row
    ;[a[col], a[pivot]] = [a[pivot]!, a[col]!]
    ;[x[col], x[pivot]] = [x[pivot]!, x[col]!]
    for (let row = col + 1; row < n; row++) {
      const f = a[row]![col]! / a[col]![col]!
      if (f === 0) continue
      for (let k = col; k < n; k++) a[row]![k]! -= f * a[col]![k]!
      x[row]! -= f * x[col]!
    }
  }
  for (let row = n - 1; row >= 0; row--) {
    let s = x[row]!
    for (let k = row + 1; k < n; k++) s -= a[row]![k]! * x[k]!
    x[row] = s / a[row]![row]!
  }
  return x
}

/** A random radial feeder of `n` buses: NAYY-like cables of 10–60 m, homes drawing or feeding in up to 12 kW. */
function randomFeeder(n: number, seed: number) {
  const random = mulberry32(seed)
  const parent = new Int32Array(n)
  const rOhm = new Float64Array(n)
  const xOhm = new Float64Array(n)
  const loadW = new Float64Array(n)
  const loadVar = new Float64Array(n)
  parent[0] = -1
  for (let i = 1; i < n; i++) {
    // Mostly a line along the street, sometimes a branch from any earlier bus.
    parent[i] = random() < 0.7 ? i - 1 : Math.floor(random() * i)
    const km = (10 + random() * 50) / 1000
    rOhm[i] = 0.206 * km
    xOhm[i] = 0.08 * km
    loadW[i] = Math.round((random() * 2 - 1) * 12_000)
    loadVar[i] = Math.round((random() * 2 - 1) * 2_000)
  }
  return { network: { parent, rOhm, xOhm, nominalV: 230 }, loadW, loadVar }
}

describe('radial power flow (backward/forward sweep)', () => {
  it('solves a cable and one load as worked by hand', () => {
    // 230 V busbar, 0.1 Ω per phase, 2,300 W per phase at unity power factor:
    // V1 = 230 − 0.1 · 2300 / V1, so V1² − 230 V1 + 230 = 0 and V1 = (230 + √(230² − 4 · 230)) / 2.
    const network = { parent: Int32Array.of(-1, 0), rOhm: Float64Array.of(0, 0.1), xOhm: Float64Array.of(0, 0), nominalV: 230 }
    const result = solveRadialNetwork(network, Float64Array.of(0, 6_900), null)
    const v1 = (230 + Math.sqrt(230 ** 2 - 4 * 230)) / 2
    expect(result.converged).toBe(true)
    expect(result.vPu[1]! * 230).toBeCloseTo(v1, 9)
    expect(result.currentA[1]).toBeCloseTo(2300 / v1, 9)
    expect(result.lossesW).toBeCloseTo(3 * (2300 / v1) ** 2 * 0.1, 6)
  })

  it('raises the voltage where a home feeds in, and drops it where one draws', () => {
    const network = { parent: Int32Array.of(-1, 0), rOhm: Float64Array.of(0, 0.05), xOhm: Float64Array.of(0, 0.02), nominalV: 230 }
    expect(solveRadialNetwork(network, Float64Array.of(0, -10_000), null).vPu[1]).toBeGreaterThan(1)
    expect(solveRadialNetwork(network, Float64Array.of(0, 10_000), null).vPu[1]).toBeLessThan(1)
  })

  it('agrees with a dense Newton–Raphson to 1e-6 pu on random radial feeders of up to 300 buses', () => {
    for (const [n, seed] of [[2, 1], [5, 2], [17, 3], [60, 4], [150, 5], [300, 6]] as const) {
      const { network, loadW, loadVar } = randomFeeder(n, seed)
      const sweep = solveRadialNetwork(network, loadW, loadVar)
      expect(sweep.converged, `${n} buses`).toBe(true)
      // What the transformer delivers is what the homes draw plus what the cables lose.
      const drawn = loadW.reduce((a, b) => a + b, 0)
      expect(Math.abs(sweep.slackW - (drawn + sweep.lossesW)), `${n} buses: energy balance`).toBeLessThan(1e-6 * (1 + Math.abs(drawn)))
      const reference = newtonRaphson(network, loadW, loadVar)
      for (let i = 0; i < n; i++) expect(Math.abs(sweep.vPu[i]! - reference[i]!), `${n} buses, bus ${i}`).toBeLessThan(1e-6)
    }
  })

  it('refuses a network that is not radial in bus order', () => {
    expect(() => checkRadialNetwork({ parent: Int32Array.of(-1, 2, 0), rOhm: new Float64Array(3).fill(0.1), xOhm: new Float64Array(3), nominalV: 230 })).toThrow(/bus 1: its parent/)
  })
})
