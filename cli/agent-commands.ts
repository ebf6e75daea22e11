import { z } from 'zod'
import { ModbusLink } from '../edge-agent/modbus/modbus-link.ts'
import { parseModbusUrl } from '../edge-agent/modbus/modbus-url.ts'
import { discoverSunSpec, readModels } from '../edge-agent/sunspec/sunspec-discovery.ts'
import { sunspecModelTables } from '../edge-agent/sunspec/model-tables.ts'
import { snapshotFromSunSpec } from '../edge-agent/snapshot-normalizer.ts'
import { vendorMap } from '../edge-agent/device-maps/vendor-map.ts'
import { readVendorSnapshot } from '../edge-agent/device-maps/vendor-reader.ts'
import { parseOptions } from './parse-options.ts'

const unitSchema = z.coerce.number().int().min(0).max(247)
const readSchema = z.object({ modbus: z.string(), unit: unitSchema.optional(), json: z.boolean().optional(), profile: z.string().optional() })
const scanSchema = z.object({
  modbus: z.string(),
  units: z
    .string()
    .regex(/^\d+(-\d+)?(,\d+(-\d+)?)*$/, 'a list such as 1-10,100,126')
    .transform((text) => text.split(',').flatMap((part) => {
      const [from, to] = part.split('-').map(Number)
      return Array.from({ length: (to ?? from!) - from! + 1 }, (_, i) => from! + i)
    }))
    .pipe(z.array(z.number().int().min(0).max(247)).min(1)),
  timeout: z.coerce.number().int().min(100).max(10_000),
})

/**
 * `vpp agent read --modbus URL [--unit N] [--profile NAME] --json`: one normalized snapshot, through
 * SunSpec or a vendor profile (`edge-agent/device-maps/maps/NAME.json`).
 */
export async function agentReadCommand(raw: Record<string, unknown>): Promise<void> {
  const options = parseOptions(readSchema, raw)
  const profile = options.profile ? vendorMap(options.profile) : undefined
  const link = new ModbusLink(parseModbusUrl(options.modbus), { warmupMs: profile?.defaults.warmupMs ?? 0 })
  await link.connect()
  try {
    let snapshot
    if (profile) snapshot = await readVendorSnapshot(options.unit === undefined ? profile : { ...profile, defaults: { ...profile.defaults, unit: options.unit } }, link, new Date())
    else {
      const read = (address: number, length: number) => link.readHolding(options.unit ?? 1, address, length)
      snapshot = snapshotFromSunSpec(await readModels(read, await discoverSunSpec(read)), new Date())
    }
    console.log(options.json ? JSON.stringify(snapshot, null, 2) : formatSnapshot(snapshot))
  } finally {
    await link.close()
  }
}

/** `vpp agent scan --modbus URL [--units 1-10,100]`: which unit ids answer with SunSpec, and their models. */
export async function agentScanCommand(raw: Record<string, unknown>): Promise<void> {
  const options = parseOptions(scanSchema, raw)
  const link = new ModbusLink(parseModbusUrl(options.modbus), options.timeout)
  await link.connect()
  let found = 0
  try {
    for (const unit of options.units) {
      try {
        const device = await discoverSunSpec((address, length) => link.readHolding(unit, address, length))
        found++
        const models = device.models.map((m) => `${m.id}${sunspecModelTables[m.id] ? ` (${sunspecModelTables[m.id]!.label})` : ' (unknown)'}`)
        console.log(`unit ${unit}: SunSpec at ${device.base}: ${models.join(', ')}`)
      } catch {
        if (!link.isOpen) await link.connect()
      }
    }
  } finally {
    await link.close()
  }
  if (!found) console.log(`No SunSpec device answered on units ${options.units.join(',')}. Check the unit ids in the inverter's Modbus settings.`)
}

function formatSnapshot(s: ReturnType<typeof snapshotFromSunSpec>): string {
  const w = (v: number | null) => (v === null ? 'n/a' : `${v} W`)
  return [
    `${s.device.manufacturer ?? '?'} ${s.device.model ?? '?'} (serial ${s.device.serial ?? '?'}), models ${s.models.join(', ')}`,
    `PV ${w(s.pv_w)}  inverter AC ${w(s.inverter_ac_w)}  grid ${w(s.grid_w)} (+ import)  battery ${w(s.battery_w)} (+ discharge)  load ${w(s.load_w)}`,
    `battery SoC ${s.battery_soc_pct ?? 'n/a'} %  PV total ${s.energy.pv_total_wh ?? 'n/a'} Wh  import ${s.energy.grid_import_wh ?? 'n/a'} Wh  export ${s.energy.grid_export_wh ?? 'n/a'} Wh`,
  ].join('\n')
}
