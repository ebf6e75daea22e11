import type { Snapshot } from '../protocol/snapshot.ts'
import type { Resolution, TelemetrySample } from '../protocol/telemetry-history.ts'

export type { Resolution, TelemetrySample } from '../protocol/telemetry-history.ts'

/** One snapshot of one home, as the sink stores it. */
export interface TelemetryPoint {
  community: string
  agentId: string
  snapshot: Snapshot
}

export interface HistoryQuery {
  community: string
  agentId: string
  fromMs: number
  toMs: number
  resolution: Resolution
}

/**
 * Where telemetry history lives: InfluxDB when configured, otherwise a bounded in-memory store.
 * The dashboard's history charts read through this interface only.
 */
export interface TelemetryStore {
  readonly kind: 'memory' | 'influxdb'
  write(points: TelemetryPoint[]): Promise<void>
  history(query: HistoryQuery): Promise<TelemetrySample[]>
  close(): Promise<void>
}

export const SAMPLE_FIELDS = ['pv_w', 'grid_w', 'battery_w', 'load_w', 'battery_soc_pct'] as const

export function sampleOf(snapshot: Snapshot): TelemetrySample {
  return {
    ts: snapshot.ts,
    pv_w: snapshot.pv_w,
    grid_w: snapshot.grid_w,
    battery_w: snapshot.battery_w,
    load_w: snapshot.load_w,
    battery_soc_pct: snapshot.battery_soc_pct,
  }
}

export const RESOLUTION_MS: Record<Exclude<Resolution, 'raw'>, number> = { '1m': 60_000, '15m': 900_000 }
