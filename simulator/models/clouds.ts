import { mulberry32 } from '../random.ts'
import { summerWeight } from './household-load.ts'

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
 * around the day's mean, so broken days flicker and clear days stay clear.
 *
 * Deterministic for a seed, and any day can be started on its own: the chain of day kinds is one
 * cheap stream replayed from day 0, and each day's own flicker has a stream seeded by the day. That is
 * what lets a study run its year in chunks on several threads and still give the same sky.
 *
 * @example
 * const sky = new CloudProcess(42, 52.5, 172) // day 0 is midsummer
 * sky.startDay(0)
 * sky.next() // clearness index in [0.05, 0.85] for the next interval
 */
export class CloudProcess {
  private kindStream: () => number
  private kindDay = -1
  private kind = 1
  private random: () => number = () => 0.5
  private clearness: number = DAY_KINDS[1].mean

  /** `firstDayOfYear`: the day of the year (0-based) of day 0, for the season's odds. */
  constructor(private readonly seed: number, private readonly latDeg: number, private readonly firstDayOfYear = 0) {
    this.kindStream = mulberry32(seed ^ 0x5eed)
  }

  /** Chooses the kind of day `day` (counted from day 0) will be. */
  startDay(day: number): void {
    if (day < this.kindDay) {
      this.kindStream = mulberry32(this.seed ^ 0x5eed)
      this.kindDay = -1
      this.kind = 1
    }
    while (this.kindDay < day) this.drawKind(++this.kindDay)
    this.random = mulberry32((this.seed ^ 0xc10d) + day * 7919)
    this.clearness = DAY_KINDS[this.kind]!.mean
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

  private drawKind(day: number): void {
    // 1 at the local midsummer, -1 at midwinter.
    const summer = 2 * summerWeight((this.firstDayOfYear + day) % 365, this.latDeg) - 1
    const pClear = 0.3 + 0.15 * summer
    const pOvercast = 0.3 - 0.15 * summer
    // Persistence: half the time tomorrow is like today.
    const stay = this.kindStream() < 0.5
    const v = this.kindStream()
    if (!stay) this.kind = v < pClear ? 0 : v < pClear + pOvercast ? 2 : 1
  }
}
