import { RESOLUTION_MS, SAMPLE_FIELDS, sampleOf, type HistoryQuery, type TelemetryPoint, type TelemetrySample, type TelemetryStore } from './telemetry-store.ts'

/**
 * The embedded store used when no InfluxDB is configured: the newest `maxSamplesPerAgent` samples of
 * each home, downsampled to 1-minute or 15-minute means on query.
 */
export class MemoryTelemetryStore implements TelemetryStore {
  readonly kind = 'memory'
  private readonly series = new Map<string, TelemetrySample[]>()

  constructor(private readonly maxSamplesPerAgent = 3600) {}

  async write(points: TelemetryPoint[]): Promise<void> {
    for (const p of points) {
      const key = `${p.community}/${p.agentId}`
      const list = this.series.get(key) ?? []
      list.push(sampleOf(p.snapshot))
      if (list.length > this.maxSamplesPerAgent) list.splice(0, list.length - this.maxSamplesPerAgent)
      this.series.set(key, list)
    }
  }

  async history(q: HistoryQuery): Promise<TelemetrySample[]> {
    const inRange = (this.series.get(`${q.community}/${q.agentId}`) ?? []).filter((s) => {
      const t = Date.parse(s.ts)
      return t >= q.fromMs && t <= q.toMs
    })
    if (q.resolution === 'raw') return inRange
    return downsample(inRange, RESOLUTION_MS[q.resolution])
  }

  async close(): Promise<void> {}
}

/** Mean of each field per time bucket, null where no sample in the bucket had the field. */
export function downsample(samples: TelemetrySample[], bucketMs: number): TelemetrySample[] {
  const buckets = new Map<number, TelemetrySample[]>()
  for (const s of samples) {
    const bucket = Math.floor(Date.parse(s.ts) / bucketMs) * bucketMs
    buckets.set(bucket, [...(buckets.get(bucket) ?? []), s])
  }
  return [...buckets.entries()]
    .sort(([a], [b]) => a - b)
    .map(([bucket, group]) => {
      const out: TelemetrySample = { ts: new Date(bucket).toISOString(), pv_w: null, grid_w: null, battery_w: null, load_w: null, battery_soc_pct: null }
      for (const field of SAMPLE_FIELDS) {
        const values = group.map((s) => s[field]).filter((v): v is number => v !== null)
        if (values.length) out[field] = values.reduce((a, b) => a + b, 0) / values.length
      }
      return out
    })
}
