import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { VppError } from '../../protocol/errors.ts'

const registerType = z.enum(['int16', 'uint16', 'int32', 'uint32', 'float32'])

/** One register value in a sum: raw × scale gives the field in its unit (W, Wh, %). */
const registerTerm = z
  .object({
    address: z.number().int().min(0).max(65_535),
    type: registerType,
    /** Multiplies the raw value: units, decimals, and sign (negative turns "positive = export" into import). */
    scale: z.number().default(1),
    function: z.enum(['holding', 'input']).optional(),
    unit: z.number().int().min(0).max(247).optional(),
    wordOrder: z.enum(['high-first', 'low-first']).optional(),
    /** A magnitude whose direction is in status bits elsewhere: negative when `negativeMask` is set, positive when `positiveMask` is, else 0. */
    sign: z.object({ address: z.number().int().min(0).max(65_535), negativeMask: z.number().int().positive(), positiveMask: z.number().int().positive() }).strict().optional(),
  })
  .strict()

/** A point of the device's SunSpec models, e.g. `160.module[3].DCW` or `124.ChaState`. */
const sunspecTerm = z.object({ sunspec: z.string().regex(/^\d+(\.[A-Za-z]\w*\[\d+\])?\.[A-Za-z]\w*$/, 'like 103.W or 160.module[2].DCW'), scale: z.number().default(1) }).strict()

const term = z.union([registerTerm, sunspecTerm])
export type RegisterTerm = z.infer<typeof registerTerm>
export type MapTerm = z.infer<typeof term>

/** [lowest, highest] value a command write of each type holds. */
export const WRITE_RANGES = { uint16: [0, 0xffff], int32: [-0x80000000, 0x7fffffff], uint32: [0, 0xffffffff] } as const

/**
 * One register write of a battery command: a constant; `power`, the setpoint's magnitude (W × scale);
 * or `grid-setpoint`, the grid exchange that makes the battery deliver it (W, positive = from the
 * grid, as Victron's ESS setpoint takes it). `int32` and `uint32` span two registers in the map's
 * word order.
 */
const controlWrite = z
  .object({
    address: z.number().int().min(0).max(65_535),
    value: z.union([z.number().int(), z.literal('power'), z.literal('grid-setpoint')]),
    type: z.enum(['uint16', 'int32', 'uint32']).default('uint16'),
    scale: z.number().positive().default(1),
  })
  .strict()
  .superRefine((w, ctx) => {
    const [min, max] = WRITE_RANGES[w.type]
    if (typeof w.value === 'number' && (w.value < min || w.value > max)) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `a ${w.type} value must be ${min}–${max}` })
    }
  })
export type ControlWrite = z.infer<typeof controlWrite>

export const SNAPSHOT_FIELDS = ['inverter_ac_w', 'pv_w', 'grid_w', 'battery_w', 'battery_soc_pct', 'load_w', 'pv_total_wh', 'grid_import_wh', 'grid_export_wh'] as const
export type SnapshotField = (typeof SNAPSHOT_FIELDS)[number]

/**
 * A vendor register map (`edge-agent/device-maps/maps/NAME.json`): how one product family's registers
 * become the normalized snapshot (grid_w positive = import, battery_w positive = discharging).
 * Adding a device is a new file of this shape and a test.
 */
export const vendorMapSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9-]+$/),
    manufacturer: z.string().max(64),
    /** The product line as the snapshot names it. */
    model: z.string().max(64),
    description: z.string(),
    /** What a homeowner should know: connection, dongles, settings to enable. */
    notes: z.string().optional(),
    defaults: z
      .object({
        unit: z.number().int().min(0).max(247),
        port: z.number().int().min(1).max(65_535).default(502),
        function: z.enum(['holding', 'input']).default('holding'),
        /** 1 when the vendor numbers registers from 1: the address on the wire is one less. */
        addressing: z.union([z.literal(0), z.literal(1)]).default(0),
        wordOrder: z.enum(['high-first', 'low-first']).default('high-first'),
        /** Devices that answer only after a pause once connected, ms. */
        warmupMs: z.number().int().min(0).default(0),
        /** Values meaning "not available": SunSpec-style sentinels (0x8000, 0xFFFF, 0x80000000, 0xFFFFFFFF, NaN) become null. */
        sentinels: z.boolean().default(false),
      })
      .strict(),
    /** Read the SunSpec models first (inverter on the default unit, meter on `meterUnit`); points below override. */
    sunspec: z.object({ meterUnit: z.number().int().min(0).max(247).optional(), meterSign: z.enum(['import-positive', 'export-positive']).default('import-positive') }).strict().optional(),
    /** Where the battery sits: `dc` (hybrid inverter) or `ac`; decides how the load is derived when not measured. */
    coupling: z.enum(['dc', 'ac']).default('dc'),
    points: z.partialRecord(z.enum(SNAPSHOT_FIELDS), z.array(term).min(1)),
    /**
     * How the product takes battery commands, in order, for each action; `release` hands the battery
     * back to the product's own mode. Products with a revert timer (SunSpec 124) need none of this.
     */
    batteryControl: z
      .object({ charge: z.array(controlWrite).min(1), discharge: z.array(controlWrite).min(1), hold: z.array(controlWrite).min(1), release: z.array(controlWrite).min(1) })
      .strict()
      .optional(),
  })
  .strict()
export type VendorMap = z.infer<typeof vendorMapSchema>

const mapsDir = join(dirname(fileURLToPath(import.meta.url)), 'maps')

/** Every shipped vendor map, by name; a broken file is an error naming the file and the key. */
export function loadVendorMaps(dir = mapsDir): Map<string, VendorMap> {
  const maps = new Map<string, VendorMap>()
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const parsed = vendorMapSchema.safeParse(JSON.parse(readFileSync(join(dir, file), 'utf8')))
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      throw new VppError('VPP_ERR_CONFIG', `vendor map ${file}: ${issue?.path.join('.')}: ${issue?.message}`)
    }
    if (`${parsed.data.name}.json` !== file) throw new VppError('VPP_ERR_CONFIG', `vendor map ${file} is named "${parsed.data.name}"; name and file must match`)
    maps.set(parsed.data.name, parsed.data)
  }
  return maps
}

/** The shipped map called `name`, or an error listing the ones there are. */
export function vendorMap(name: string): VendorMap {
  const maps = loadVendorMaps()
  const map = maps.get(name)
  if (!map) throw new VppError('VPP_ERR_CONFIG', `no vendor profile "${name}"; profiles: ${[...maps.keys()].join(', ')}`)
  return map
}
