import { z } from 'zod'

/** Watts or watt-hours read off a device; null when the device does not report it (SunSpec "not implemented"). */
const wattsOrNull = z.number().int().min(-10_000_000).max(10_000_000).nullable()
const counterWhOrNull = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).nullable()

export const deviceInfoSchema = z.object({
  manufacturer: z.string().max(64).nullable(),
  model: z.string().max(64).nullable(),
  serial: z.string().max(64).nullable(),
  version: z.string().max(64).nullable(),
})
export type DeviceInfo = z.infer<typeof deviceInfoSchema>

/**
 * The normalized device snapshot (docs/architecture.md): `vpp agent read --json` prints it and telemetry carries it.
 * Signs: `grid_w` positive = import, `battery_w` positive = discharging into the home.
 */
export const snapshotSchema = z.object({
  device: deviceInfoSchema,
  inverter_ac_w: wattsOrNull,
  pv_w: wattsOrNull,
  grid_w: wattsOrNull,
  battery_w: wattsOrNull,
  battery_soc_pct: z.number().min(0).max(100).nullable(),
  load_w: wattsOrNull,
  energy: z.object({
    pv_total_wh: counterWhOrNull,
    grid_import_wh: counterWhOrNull,
    grid_export_wh: counterWhOrNull,
  }),
  models: z.array(z.number().int().min(1).max(0xfffe)),
  ts: z.iso.datetime(),
})
export type Snapshot = z.infer<typeof snapshotSchema>
