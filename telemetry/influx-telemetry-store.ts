import { InfluxDB, type IPoint } from 'influx'
import { VppError } from '../protocol/errors.ts'
import { SAMPLE_FIELDS, type HistoryQuery, type TelemetryPoint, type TelemetrySample, type TelemetryStore } from './telemetry-store.ts'

export interface InfluxTelemetryOptions {
  /** `http://host:8086/database` (VPP_INFLUX_URL). */
  url: string
  /** How long raw samples are kept (InfluxQL duration). Default 7 days. */
  rawRetention?: string
  /** How long 1-minute means are kept. Default 90 days; 15-minute means are kept forever. */
  minuteRetention?: string
}

const MEASUREMENT = 'telemetry'
/** Retention policies: raw samples, then continuous-query downsamples (InfluxDB 1.x "Downsampling and retention"). */
const RP = { raw: 'raw', '1m': 'history_1m', '15m': 'history_15m' } as const

export function parseInfluxUrl(url: string): { host: string; port: number; protocol: 'http' | 'https'; database: string } {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new VppError('VPP_ERR_CONFIG', `influx URL "${url}" is not a URL: use http://HOST:8086/DATABASE`)
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''))
  if (!['http:', 'https:'].includes(parsed.protocol) || !database || database.includes('/')) {
    throw new VppError('VPP_ERR_CONFIG', `influx URL "${url}" must look like http://HOST:8086/DATABASE`)
  }
  return { host: parsed.hostname, port: Number(parsed.port || 8086), protocol: parsed.protocol === 'https:' ? 'https' : 'http', database }
}

/**
 * Telemetry history in InfluxDB 1.x: every sample in the `raw` retention policy (tags: community,
 * agent), and continuous queries that keep 1-minute and 15-minute means in longer-lived policies.
 */
export class InfluxTelemetryStore implements TelemetryStore {
  readonly kind = 'influxdb'
  readonly database: string
  private readonly influx: InfluxDB

  private constructor(options: InfluxTelemetryOptions) {
    const target = parseInfluxUrl(options.url)
    this.database = target.database
    this.influx = new InfluxDB({ host: target.host, port: target.port, protocol: target.protocol, database: target.database })
  }

  /** Connects, and creates the database, retention policies and continuous queries when missing. */
  static async open(options: InfluxTelemetryOptions): Promise<InfluxTelemetryStore> {
    const store = new InfluxTelemetryStore(options)
    await store.prepare(options)
    return store
  }

  private async prepare(options: InfluxTelemetryOptions): Promise<void> {
    const db = this.database
    if (!(await this.influx.getDatabaseNames()).includes(db)) await this.influx.createDatabase(db)
    const existing = new Set((await this.influx.showRetentionPolicies(db)).map((p) => p.name))
    const policies = [
      { name: RP.raw, duration: options.rawRetention ?? '7d', isDefault: true },
      { name: RP['1m'], duration: options.minuteRetention ?? '90d', isDefault: false },
      { name: RP['15m'], duration: 'INF', isDefault: false },
    ]
    for (const p of policies) {
      const spec = { database: db, duration: p.duration, replication: 1, isDefault: p.isDefault }
      if (existing.has(p.name)) await this.influx.alterRetentionPolicy(p.name, spec)
      else await this.influx.createRetentionPolicy(p.name, spec)
    }
    const cqs = new Set((await this.influx.showContinousQueries(db)).map((q) => q.name))
    const from = `"${db}"."${RP.raw}"."${MEASUREMENT}"`
    // RESAMPLE … FOR re-computes recent buckets, so samples that arrive late (an agent's outbox after
    // an outage) still land in the downsampled history.
    const downsamples = [
      { name: 'cq_telemetry_1m', into: RP['1m'], every: '1m', resample: 'RESAMPLE EVERY 10s FOR 2h' },
      { name: 'cq_telemetry_15m', into: RP['15m'], every: '15m', resample: 'RESAMPLE EVERY 1m FOR 6h' },
    ]
    for (const cq of downsamples) {
      if (cqs.has(cq.name)) continue
      await this.influx.createContinuousQuery(cq.name, `SELECT mean(*) INTO "${db}"."${cq.into}"."${MEASUREMENT}" FROM ${from} GROUP BY time(${cq.every}), *`, db, cq.resample)
    }
  }

  async write(points: TelemetryPoint[]): Promise<void> {
    const rows: IPoint[] = points.map((p) => {
      const fields: Record<string, number> = {}
      for (const f of SAMPLE_FIELDS) {
        const v = p.snapshot[f]
        if (v !== null) fields[f] = v
      }
      const e = p.snapshot.energy
      if (e.pv_total_wh !== null) fields.pv_total_wh = e.pv_total_wh
      if (e.grid_import_wh !== null) fields.grid_import_wh = e.grid_import_wh
      if (e.grid_export_wh !== null) fields.grid_export_wh = e.grid_export_wh
      return { measurement: MEASUREMENT, tags: { community: p.community, agent: p.agentId }, fields, timestamp: new Date(p.snapshot.ts) }
    })
    // A sample with no numeric field cannot be stored as a point; it carries nothing to chart.
    const writable = rows.filter((r) => Object.keys(r.fields ?? {}).length > 0)
    if (writable.length) await this.influx.writePoints(writable, { retentionPolicy: RP.raw, precision: 'ms' })
  }

  async history(q: HistoryQuery): Promise<TelemetrySample[]> {
    const rp = RP[q.resolution]
    const column = (f: string) => (q.resolution === 'raw' ? `"${f}"` : `"mean_${f}"`)
    const rows = await this.influx.query<Record<string, unknown>>(
      `SELECT ${SAMPLE_FIELDS.map((f) => `${column(f)} AS "${f}"`).join(', ')} FROM "${this.database}"."${rp}"."${MEASUREMENT}"
       WHERE "community" = $community AND "agent" = $agent AND time >= $from AND time <= $to ORDER BY time ASC`,
      { placeholders: { community: q.community, agent: q.agentId, from: new Date(q.fromMs).toISOString(), to: new Date(q.toMs).toISOString() } },
    )
    return rows.map((r) => {
      const time = r.time as Date
      const num = (v: unknown) => (typeof v === 'number' ? v : null)
      return {
        ts: time.toISOString(),
        pv_w: num(r.pv_w),
        grid_w: num(r.grid_w),
        battery_w: num(r.battery_w),
        load_w: num(r.load_w),
        battery_soc_pct: num(r.battery_soc_pct),
      }
    })
  }

  async close(): Promise<void> {}
}
