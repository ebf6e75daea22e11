/** Named integer counters, e.g. rejected orders by reason. Exposed on /api/health and later /metrics. */
export class Counters {
  private readonly values = new Map<string, number>()
  increment(name: string, by = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + by)
  }
  get(name: string): number {
    return this.values.get(name) ?? 0
  }
  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.values.entries()].sort(([a], [b]) => a.localeCompare(b)))
  }
}
