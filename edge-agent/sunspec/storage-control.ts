import type { DecodedModel } from './sunspec-decoder.ts'
import type { SunSpecModelTable } from './sunspec-types.ts'
import { encodePoint } from './point-codec.ts'

/** StorCtl_Mod bits (SunSpec model 124): bit 0 charge, bit 1 discharge; 0 hands the battery back to the inverter. */
const CHARGE = 1
const DISCHARGE = 2

export interface RegisterWrite {
  address: number
  values: number[]
}

/** The register offset of a point in a model with fixed points only, counted from its ID register. */
function offsetOf(table: SunSpecModelTable, name: string): { offset: number; point: SunSpecModelTable['group']['points'][number] } {
  let offset = 0
  for (const point of table.group.points) {
    if (point.name === name) return { offset, point }
    offset += point.size
  }
  throw new Error(`model ${table.id} has no point ${name}`)
}

/**
 * The writes that set a battery setpoint through SunSpec 124 storage controls: the rates and the
 * revert timer first (OutWRte, InWRte, InOutWRte_WinTms, InOutWRte_RvrtTms, one block), then
 * StorCtl_Mod, so the mode never applies stale rates. Rates are % of WChaMax, scaled by
 * InOutWRte_SF. `setpointW` null returns the battery to the inverter's own mode. Pure.
 */
export function storageControlWrites(table: SunSpecModelTable, modelAddress: number, model: DecodedModel, setpointW: number | null, revertSeconds: number): RegisterWrite[] {
  const at = (name: string) => offsetOf(table, name)
  const mode = at('StorCtl_Mod')
  if (setpointW === null) return [{ address: modelAddress + mode.offset, values: encodePoint(mode.point.type, 0, mode.point.size) }]
  const maxW = Number(model.values.WChaMax ?? 0)
  const sf = Number(model.raw.InOutWRte_SF ?? 0)
  const pct = maxW > 0 ? Math.min(100, (Math.abs(setpointW) / maxW) * 100) : 0
  const rate = Math.round(pct / 10 ** sf)
  const out = setpointW > 0 ? rate : 0
  const inn = setpointW < 0 ? rate : 0
  const block = ['OutWRte', 'InWRte', 'InOutWRte_WinTms', 'InOutWRte_RvrtTms'].map((name) => at(name))
  const values = [out, inn, 0, Math.ceil(revertSeconds)].flatMap((v, i) => encodePoint(block[i]!.point.type, v, block[i]!.point.size))
  return [
    { address: modelAddress + block[0]!.offset, values },
    { address: modelAddress + mode.offset, values: encodePoint(mode.point.type, setpointW > 0 ? DISCHARGE : setpointW < 0 ? CHARGE : CHARGE | DISCHARGE, mode.point.size) },
  ]
}

/**
 * The writes that set the inverter's AC active power through SunSpec 704 (DER AC controls), for
 * devices that expose no model 124: WSetMod WATTS, WSet in W (scaled by WSet_SF, int32, positive =
 * injecting), a reversion timer WSetRvrtTms after which the function falls back to WSetEnaRvrt =
 * disabled, all in one block from WSetMod to WSetRvrtTms; then WSetEna = enabled, so the function
 * never runs on stale values. `acW` null disables the function: the inverter's own mode again. Pure.
 *
 * @example
 * derActivePowerWrites(sunspecModelTables[704], 40200, decoded, 3000, 15) // block write, then WSetEna = 1
 */
export function derActivePowerWrites(table: SunSpecModelTable, modelAddress: number, model: DecodedModel, acW: number | null, revertSeconds: number): RegisterWrite[] {
  const at = (name: string) => offsetOf(table, name)
  const enable = at('WSetEna')
  if (acW === null) return [{ address: modelAddress + enable.offset, values: encodePoint(enable.point.type, 0, enable.point.size) }]
  const sf = Number(model.raw.WSet_SF ?? 0)
  const raw = Math.round(acW / 10 ** sf)
  const names = ['WSetMod', 'WSet', 'WSetRvrt', 'WSetPct', 'WSetPctRvrt', 'WSetEnaRvrt', 'WSetRvrtTms']
  const values: Record<string, number> = { WSetMod: 1, WSet: raw, WSetRvrt: 0, WSetPct: 0, WSetPctRvrt: 0, WSetEnaRvrt: 0, WSetRvrtTms: Math.ceil(revertSeconds) }
  const block = names.map((name) => at(name))
  return [
    { address: modelAddress + block[0]!.offset, values: block.flatMap((b, i) => encodePoint(b.point.type, values[names[i]!]!, b.point.size)) },
    { address: modelAddress + enable.offset, values: encodePoint(enable.point.type, 1, enable.point.size) },
  ]
}

/** The battery model 802's reserve limits, raw register values (scaled by SoC_SF): what to restore on release. */
export interface BatteryReserves {
  SocRsvMax: number
  SoCRsvMin: number
}

/**
 * The writes that steer a battery through the battery model 802 alone, which has no power setpoint:
 * its reserve limits (SocRsvMax, SoCRsvMin; % of capacity by SoC_SF), within which the battery runs
 * its own self-consumption. A sale keeps the battery from charging (SocRsvMax at the present state of
 * charge), so the PV surplus goes to the grid; a purchase keeps it from discharging (SoCRsvMin just
 * above it), so the home's load comes from the grid; a hold does both. The homeowner's floor and ceiling
 * bound both limits. The battery cannot be made to export or to charge from the grid this way.
 * `setpointW` null writes `original` back: the owner's own limits. One write of both (adjacent). Pure.
 */
export function batteryReserveWrites(table: SunSpecModelTable, modelAddress: number, model: DecodedModel, setpointW: number | null, socPct: number, limits: { socFloorPct: number; socCeilingPct: number }, original: BatteryReserves): RegisterWrite[] {
  const max = offsetOf(table, 'SocRsvMax')
  const min = offsetOf(table, 'SoCRsvMin')
  if (min.offset !== max.offset + 1) throw new Error('model 802: SocRsvMax and SoCRsvMin are expected side by side')
  let raw: BatteryReserves
  if (setpointW === null) raw = original
  else {
    const sf = 10 ** Number(model.raw.SoC_SF ?? 0)
    const floor = Math.round(limits.socFloorPct / sf)
    const ceiling = Math.round(limits.socCeilingPct / sf)
    const within = (v: number) => Math.min(ceiling, Math.max(floor, v))
    const reading = Math.round(socPct / sf)
    // A purchase or a sale sets its limit one register step past the reading: the reading is rounded,
    // and at a limit equal to it the battery would still give (or take) the fraction rounded away,
    // which at a small load takes minutes. A hold keeps both at the reading.
    raw = {
      SocRsvMax: setpointW > 0 ? within(reading - 1) : setpointW === 0 ? within(reading) : ceiling,
      SoCRsvMin: setpointW < 0 ? within(reading + 1) : setpointW === 0 ? within(reading) : floor,
    }
  }
  return [{ address: modelAddress + max.offset, values: [...encodePoint(max.point.type, raw.SocRsvMax, 1), ...encodePoint(min.point.type, raw.SoCRsvMin, 1)] }]
}
