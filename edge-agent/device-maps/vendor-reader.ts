import type { Snapshot } from '../../protocol/snapshot.ts'
import type { ModbusLink } from '../modbus/modbus-link.ts'
import { snapshotFromSunSpec } from '../snapshot-normalizer.ts'
import { discoverSunSpec, readModels } from '../sunspec/sunspec-discovery.ts'
import type { DecodedModel } from '../sunspec/sunspec-decoder.ts'
import { fieldValue, registerKey, wordsOf } from './vendor-decoder.ts'
import { SNAPSHOT_FIELDS, type SnapshotField, type VendorMap } from './vendor-map.ts'

const ENERGY_FIELDS = { pv_total_wh: 'pv_total_wh', grid_import_wh: 'grid_import_wh', grid_export_wh: 'grid_export_wh' } as const

/**
 * One normalized snapshot of a device described by a vendor map: its SunSpec models first when the
 * map builds on them, then every mapped register read over `link` (one request per value, so a
 * missing register costs only its own value), the load derived from the power balance when the
 * device does not measure it.
 */
export async function readVendorSnapshot(map: VendorMap, link: ModbusLink, at: Date): Promise<Snapshot> {
  const models: DecodedModel[] = []
  if (map.sunspec) {
    for (const unit of [map.defaults.unit, map.sunspec.meterUnit].filter((u): u is number => u !== undefined)) {
      const read = (address: number, length: number) => link.readHolding(unit, address, length)
      models.push(...(await readModels(read, await discoverSunSpec(read))))
    }
  }
  const words = new Map<string, number[] | undefined>()
  for (const field of SNAPSHOT_FIELDS) {
    for (const term of map.points[field] ?? []) {
      if ('sunspec' in term) continue
      const wanted: [string, number][] = [[registerKey(map, term), wordsOf(term.type)]]
      if (term.sign) wanted.push([registerKey(map, { ...term, type: 'uint16' }, term.sign.address), 1])
      for (const [key, count] of wanted) {
        if (words.has(key)) continue
        const [unit, fn, address] = key.split(':')
        const read = fn === 'input' ? link.readInput.bind(link) : link.readHolding.bind(link)
        // A register the device does not have is that value missing, not the whole snapshot lost.
        words.set(key, await read(Number(unit), Number(address), count).catch((error: { modbusCode?: number }) => {
          if (error.modbusCode === 0x02) return undefined
          throw error
        }))
      }
    }
  }
  const base = map.sunspec ? snapshotFromSunSpec(models, at, { meterSign: map.sunspec.meterSign }) : emptySnapshot(map, at)
  const value = (field: SnapshotField) => (map.points[field] ? fieldValue(map, field, (key) => words.get(key), models) : undefined)
  const watts = (field: SnapshotField, fallback: number | null) => {
    const v = value(field)
    return v === undefined ? fallback : v === null ? null : Math.round(v)
  }
  const pv = watts('pv_w', base.pv_w)
  const inverter = watts('inverter_ac_w', base.inverter_ac_w)
  const grid = watts('grid_w', base.grid_w)
  const battery = watts('battery_w', base.battery_w)
  const soc = value('battery_soc_pct')
  const energy = { ...base.energy }
  for (const field of Object.keys(ENERGY_FIELDS) as (keyof typeof ENERGY_FIELDS)[]) {
    const v = value(field)
    if (v !== undefined) energy[field] = v === null || v < 0 ? null : Math.round(v)
  }
  // Load from the power balance: a hybrid's battery is on the DC side with the panels, an AC battery beside the inverter.
  const source = map.coupling === 'dc' ? pv : (inverter ?? pv)
  const derivedLoad = source !== null && grid !== null ? source + grid + (battery ?? 0) : null
  return {
    ...base,
    inverter_ac_w: inverter,
    pv_w: pv,
    grid_w: grid,
    battery_w: battery,
    battery_soc_pct: soc === undefined ? base.battery_soc_pct : soc === null ? null : Math.min(100, Math.max(0, Math.round(soc * 10) / 10)),
    load_w: watts('load_w', map.points.load_w ? null : derivedLoad),
    energy,
  }
}

function emptySnapshot(map: VendorMap, at: Date): Snapshot {
  return {
    device: { manufacturer: map.manufacturer, model: map.model, serial: null, version: null },
    inverter_ac_w: null,
    pv_w: null,
    grid_w: null,
    battery_w: null,
    battery_soc_pct: null,
    load_w: null,
    energy: { pv_total_wh: null, grid_import_wh: null, grid_export_wh: null },
    models: [],
    ts: at.toISOString(),
  }
}
