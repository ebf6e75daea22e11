/**
 * A token bucket per key (an agent): `burst` orders at once, refilled at `perSecond`. One agent's
 * flood empties only its own bucket. At most `maxKeys` buckets are kept; the least recently used goes
 * first (a forgotten key starts full again, so the bound costs no one their rate). Pure apart from the
 * clock passed in.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>()

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 100_000,
  ) {}

  /** Takes one token for `key`; false when its bucket is empty. */
  take(key: string): boolean {
    const now = this.now()
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now }
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond)
    bucket.at = now
    // Re-inserted, so the Map's order is least recently used first.
    this.buckets.delete(key)
    this.buckets.set(key, bucket)
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!)
    if (bucket.tokens < 1) return false
    bucket.tokens -= 1
    return true
  }

  /** Buckets kept. */
  get size(): number {
    return this.buckets.size
  }
}
