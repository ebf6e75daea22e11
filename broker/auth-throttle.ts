/**
 * Slows down password guessing: after `freeFailures` bad passwords from one address within
 * `windowMs`, each further attempt from it is answered only after a delay that doubles per failure,
 * up to `maxDelayMs`. A success clears the address. Pure apart from the clock passed in.
 */
export class AuthThrottle {
  private readonly failures = new Map<string, { count: number; first: number }>()

  constructor(
    private readonly options: { freeFailures: number; windowMs: number; baseDelayMs: number; maxDelayMs: number } = {
      freeFailures: 3,
      windowMs: 60_000,
      baseDelayMs: 250,
      maxDelayMs: 10_000,
    },
    private readonly now: () => number = Date.now,
  ) {}

  /** How long to hold the next answer to this address. */
  delayMs(address: string): number {
    const entry = this.current(address)
    if (!entry || entry.count < this.options.freeFailures) return 0
    const doublings = entry.count - this.options.freeFailures
    return Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** doublings)
  }

  failed(address: string): void {
    const entry = this.current(address) ?? { count: 0, first: this.now() }
    entry.count++
    this.failures.set(address, entry)
    if (this.failures.size > 100_000) this.failures.delete(this.failures.keys().next().value!)
  }

  succeeded(address: string): void {
    this.failures.delete(address)
  }

  private current(address: string) {
    const entry = this.failures.get(address)
    if (entry && this.now() - entry.first > this.options.windowMs) {
      this.failures.delete(address)
      return undefined
    }
    return entry
  }
}
