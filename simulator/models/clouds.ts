import { mulberry32 } from '../random.ts'

/** Mean clearness index (share of clear-sky irradiance reaching the ground) of each kind of day. */
const DAY_KINDS = [
  { name: 'clear', mean: 0.78, spread: 0.05 },
  { name: 'broken', mean: 0.5, spread: 0.16 },
  { name: 'overcast', mean: 0.18, spread: 0.06 },
] as const

/**
 * A stochastic cloud process shared by a neighbourhood (the same sky is over every roof): each day is
 * clear, broken or overcast by a Markov chain whose odds follow the season (more clear days in
 * summer, weather tends to persist), and within the day the clearness index follows an AR(1) process
 * around the day's mean, so broken days flicker and clear days stay clear. Deterministic for a seed.
 *
 * @example
 * const sky = new CloudProcess(42, 52.5)
 * sky.startDay(172) // midsummer
 * sky.next() // clearness index in [0.05, 0.85] for the next interval
 */
export class CloudProcess {
  private readonly random: () => number
  private kind = 1
  private clearness: number = DAY_KINDS[1].mean

  constructor(seed: number, private readonly latDeg: number) {
    this.random = mulberry32(seed ^ 0x5eed)
  }

  /** Chooses the kind of day `dayOfYear` (0-based) will be. */
  startDay(dayOfYear: number): void {
    // 1 at the local midsummer, -1 at midwinter.
    const summer = Math.cos((2 * Math.PI * (dayOfYear - 172)) / 365) * (this.latDeg >= 0 ? 1 : -1)
    const pClear = 0.3 + 0.15 * summer
    const pOvercast = 0.3 - 0.15 * summer
    const u = this.random()
    // Persistence: half the time tomorrow is like today.
    if (u < 0.5) return
    const v = this.random()
    this.kind = v < pClear ? 0 : v < pClear + pOvercast ? 2 : 1
  }

  /** The clearness index of the next interval. */
  next(): number {
    const day = DAY_KINDS[this.kind]!
    const noise = (this.random() + this.random() + this.random() - 1.5) * 2 * day.spread
    this.clearness = day.mean + 0.8 * (this.clearness - day.mean) + noise
    this.clearness = Math.min(0.85, Math.max(0.05, this.clearness))
    return this.clearness
  }

  get dayKind(): (typeof DAY_KINDS)[number]['name'] {
    return DAY_KINDS[this.kind]!.name
  }
}
