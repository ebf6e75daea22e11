import { z } from 'zod'

/** How finely history is served: every sample, or means per minute or per quarter hour. */
export const resolutionSchema = z.enum(['raw', '1m', '15m'])
export type Resolution = z.infer<typeof resolutionSchema>

/** The numbers the history charts need, per sample or per downsampled bucket (means). */
export const telemetrySampleSchema = z.object({
  ts: z.string(),
  pv_w: z.number().nullable(),
  grid_w: z.number().nullable(),
  battery_w: z.number().nullable(),
  load_w: z.number().nullable(),
  battery_soc_pct: z.number().nullable(),
})
export type TelemetrySample = z.infer<typeof telemetrySampleSchema>

/** `GET /api/agents/{agentId}/telemetry`: a home's history, and which store served it. */
export const telemetryHistorySchema = z.object({
  agentId: z.string(),
  resolution: resolutionSchema,
  store: z.enum(['memory', 'influxdb']),
  samples: z.array(telemetrySampleSchema),
})
export type TelemetryHistory = z.infer<typeof telemetryHistorySchema>
