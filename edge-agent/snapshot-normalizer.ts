import type { Snapshot } from '../protocol/snapshot.ts'
import type { DecodedModel, PointValue } from './sunspec/sunspec-decoder.ts'

const INVERTER_MODELS = [101, 102, 103, 111, 112, 113]
const METER_MODELS = [201, 202, 203, 204]

export interface NormalizeOptions {
  /**
   * SunSpec meter models do not fix the sign of `W`. The project's default is positive = import;
   * devices that report export as positive set `export-positive`.
   */
  meterSign?: 'import-positive' | 'export-positive'
}

/**
 * Turns decoded SunSpec models into the normalized snapshot of docs/architecture.md: whole watts and watt-hours,
 * null for anything the device does not report, `load_w` derived from the power balance when not measured.
 */
export function snapshotFromSunSpec(models: DecodedModel[], at: Date, options: NormalizeOptions = {}): Snapshot {
  const find = (ids: number[]) => models.find((m) => ids.includes(m.id))
  const common = find([1])
  const inverter = find(INVERTER_MODELS)
  const meter = find(METER_MODELS)
  const battery = find([802])
  const storage = find([124])
  const mppt = find([160])

  const inverterW = watts(inverter?.values.W)
  const mpptW = mppt ? sumOrNull((mppt.groups.module ?? []).map((m) => watts(m.values.DCW))) : null
  const pvW = mpptW ?? watts(inverter?.values.DCW) ?? inverterW
  const meterW = watts(meter?.values.W)
  const gridW = meterW === null ? null : options.meterSign === 'export-positive' ? -meterW : meterW
  const batteryW = watts(battery?.values.W)
  const soc = num(battery?.values.SoC) ?? num(storage?.values.ChaState)
  // The power balance holds on the AC side: inverter AC output (DC input loses the inverter's losses),
  // grid and an AC-coupled battery. DC-coupled hybrids are described by vendor profiles.
  const acSourceW = inverterW ?? pvW
  const loadW = acSourceW !== null && gridW !== null ? acSourceW + gridW + (batteryW ?? 0) : null

  return {
    device: {
      manufacturer: str(common?.values.Mn),
      model: str(common?.values.Md),
      serial: str(common?.values.SN),
      version: str(common?.values.Vr),
    },
    inverter_ac_w: inverterW,
    pv_w: pvW,
    grid_w: gridW,
    battery_w: batteryW,
    battery_soc_pct: soc === null ? null : Math.min(100, Math.max(0, Math.round(soc * 10) / 10)),
    load_w: loadW,
    energy: {
      pv_total_wh: wattHours(inverter?.values.WH),
      grid_import_wh: wattHours(meter?.values.TotWhImp),
      grid_export_wh: wattHours(meter?.values.TotWhExp),
    },
    models: models.map((m) => m.id),
    ts: at.toISOString(),
  }
}

function num(v: PointValue | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null
}
function watts(v: PointValue | undefined): number | null {
  const n = num(v)
  return n === null ? null : Math.round(n)
}
function wattHours(v: PointValue | undefined): number | null {
  const n = num(v)
  return n === null || n < 0 ? null : Math.round(n)
}
function str(v: PointValue | undefined): string | null {
  return typeof v === 'string' ? v : null
}
function sumOrNull(values: (number | null)[]): number | null {
  const present = values.filter((v): v is number => v !== null)
  return present.length ? present.reduce((a, b) => a + b, 0) : null
}
