import { describe, expect, it } from 'vitest'
import { discoverSunSpec, readModels } from '../../edge-agent/sunspec/sunspec-discovery.ts'
import { sunspecModelTables as t } from '../../edge-agent/sunspec/model-tables.ts'
import { snapshotFromSunSpec } from '../../edge-agent/snapshot-normalizer.ts'
import { SunSpecImage } from '../../simulator/sunspec-image.ts'

describe('SunSpec model chain', () => {
  it('starts a new logical device at each model 1, and reads an inverter with its meter chained behind it', async () => {
    // An inverter (1, 103) with its meter presented as a second device (1, 203) on the same unit, then a vendor model (64110).
    const image = new SunSpecImage(40000, [
      { table: t[1]!, values: { Mn: 'Inverter Co', Md: 'INV-5', SN: 'A1' } },
      { table: t[103]!, values: { W: 3200, W_SF: 0, WH: 900_000, WH_SF: 0 } },
      { table: t[1]!, values: { Mn: 'Meter Co', Md: 'M-3', SN: 'B2' } },
      { table: t[203]!, values: { W: -1200, W_SF: 0, TotWhImp: 5000, TotWhExp: 7000, TotWh_SF: 0 } },
      { table: { id: 64110, label: 'vendor', group: { name: 'vendor', points: [{ name: 'ID', type: 'uint16', size: 1 }, { name: 'L', type: 'uint16', size: 1 }, { name: 'X', type: 'uint16', size: 1 }] } }, values: { X: 7 } },
    ])
    const read = async (address: number, length: number) => image.read(address, length)!
    const device = await discoverSunSpec(read)
    expect(device.models.map((m) => m.id)).toEqual([1, 103, 1, 203, 64110])
    expect(device.devices.map((d) => d.map((m) => m.id))).toEqual([[1, 103], [1, 203, 64110]])
    // The unknown vendor model is kept in the chain and skipped when decoding, without failing.
    const models = await readModels(read, device)
    expect(models.map((m) => m.id)).toEqual([1, 103, 1, 203])
    const snapshot = snapshotFromSunSpec(models, new Date())
    expect(snapshot).toMatchObject({ device: { manufacturer: 'Inverter Co', model: 'INV-5' }, inverter_ac_w: 3200, grid_w: -1200, energy: { grid_import_wh: 5000, grid_export_wh: 7000 } })
  })
})
