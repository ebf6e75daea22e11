import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ModbusLink } from '../../edge-agent/modbus/modbus-link.ts'
import { decodeModel } from '../../edge-agent/sunspec/sunspec-decoder.ts'
import { sunspecModelTables } from '../../edge-agent/sunspec/model-tables.ts'
import { decodeRegister, fieldValue, registerKey } from '../../edge-agent/device-maps/vendor-decoder.ts'
import { loadVendorMaps, vendorMap, type SnapshotField, type VendorMap } from '../../edge-agent/device-maps/vendor-map.ts'
import { readVendorSnapshot } from '../../edge-agent/device-maps/vendor-reader.ts'
import { freePort } from '../../platform/free-port.ts'
import { snapshotSchema } from '../../protocol/snapshot.ts'
import { SunSpecImage } from '../../simulator/sunspec-image.ts'
import { VirtualVendorDevice, encodeVendorRegisters } from '../../simulator/virtual-vendor-device.ts'

const maps = loadVendorMaps()
/** A raw register image written word by word, as the vendor documents it (wire keys). */
const image = (map: VendorMap, entries: [address: number, words: number[], fn?: 'holding' | 'input', unit?: number][]) => {
  const regs = new Map<string, number>()
  for (const [address, words, fn, unit] of entries) words.forEach((w, i) => regs.set(registerKey(map, { address: address + i, type: 'uint16', scale: 1, function: fn, unit }), w))
  return (key: string, count: number) => {
    const [u, f, a] = key.split(':')
    const words = Array.from({ length: count }, (_, i) => regs.get(`${u}:${f}:${Number(a) + i}`))
    return words.every((w) => w !== undefined) ? (words as number[]) : undefined
  }
}
const field = (map: VendorMap, name: SnapshotField, read: ReturnType<typeof image>) => fieldValue(map, name, read, [])

describe('vendor maps as data', () => {
  it('ships the seven product families, each valid, each mapping the grid and the battery', () => {
    expect([...maps.keys()]).toEqual(['fronius-gen24', 'growatt-hybrid', 'huawei-sun2000', 'sma', 'solaredge-hybrid', 'sungrow-sh', 'victron-gx'])
    for (const map of maps.values()) {
      expect(map.points.battery_w ?? map.sunspec, `${map.name} battery`).toBeDefined()
      expect(map.points.grid_w ?? map.sunspec, `${map.name} grid`).toBeDefined()
    }
    expect(() => vendorMap('acme')).toThrow(/no vendor profile "acme"; profiles: fronius-gen24, /)
  })

  it('Huawei: meter power positive when feeding in, battery positive when charging, SoC in 0.1 %', () => {
    const map = vendorMap('huawei-sun2000')
    // 37113 = -1500 W (drawing from the grid), 37001 = +2000 W (charging), 37004 = 555.
    const read = image(map, [[37113, [0xffff, 0xfa24]], [37001, [0x0000, 0x07d0]], [37004, [555]], [32064, [0xffff, 0xffff]]])
    expect(field(map, 'grid_w', read)).toBe(1500)
    expect(field(map, 'battery_w', read)).toBe(-2000)
    expect(field(map, 'battery_soc_pct', read)).toBeCloseTo(55.5)
    expect(field(map, 'pv_w', read)).toBe(-1) // int32 -1 is a real value, not a sentinel
  })

  it('Sungrow: input registers low word first, battery direction from the running-state bits', () => {
    const map = vendorMap('sungrow-sh')
    const discharging = image(map, [[13009, [1200, 0], 'input'], [13021, [800], 'input'], [13000, [0b100], 'input']])
    expect(field(map, 'grid_w', discharging)).toBe(-1200) // 1200 W exported
    expect(field(map, 'battery_w', discharging)).toBe(800)
    const charging = image(map, [[13021, [800], 'input'], [13000, [0b010], 'input']])
    expect(field(map, 'battery_w', charging)).toBe(-800)
  })

  it('Victron GX: three grid phases summed on unit 100, battery power positive when charging', () => {
    const map = vendorMap('victron-gx')
    const read = image(map, [[820, [100]], [821, [0xffce]], [822, [250]], [842, [500]], [843, [81]]])
    expect(field(map, 'grid_w', read)).toBe(100 - 50 + 250)
    expect(field(map, 'battery_w', read)).toBe(-500)
    expect(field(map, 'battery_soc_pct', read)).toBe(81)
  })

  it('Growatt: import minus export and discharge minus charge, in 0.1 W', () => {
    const map = vendorMap('growatt-hybrid')
    const read = image(map, [[1021, [0, 0], 'input'], [1029, [0, 23456], 'input'], [1009, [0, 0], 'input'], [1011, [0, 15000], 'input']])
    expect(field(map, 'grid_w', read)).toBeCloseTo(-2345.6)
    expect(field(map, 'battery_w', read)).toBe(-1500)
  })

  it('SMA: NaN registers are not available, not numbers', () => {
    const map = vendorMap('sma')
    const read = image(map, [[30865, [0xffff, 0xffff]], [30867, [0, 700]], [30845, [0xffff, 0xffff]]])
    expect(field(map, 'grid_w', read)).toBe(-700) // draw NaN (no meter reading yet), feed-in 700 W
    expect(field(map, 'battery_soc_pct', read)).toBeNull()
  })

  it('SolarEdge: battery float32 low word first, positive when charging', () => {
    const map = vendorMap('solaredge-hybrid')
    const view = new DataView(new ArrayBuffer(4))
    view.setFloat32(0, 1500.5)
    const read = image(map, [[62836, [view.getUint16(2), view.getUint16(0)]]])
    expect(field(map, 'battery_w', read)).toBeCloseTo(-1500.5)
    expect(decodeRegister(map, { address: 0, type: 'float32', scale: 1 }, [0xffff, 0x7fff])).toBeNull() // NaN
  })

  it('Fronius GEN24: PV from MPPT modules 1–2 of model 160, the battery from modules 3–4', () => {
    const map = vendorMap('fronius-gen24')
    const table = sunspecModelTables[160]!
    const img = new SunSpecImage(40000, [{ table, values: { DCA_SF: 0, DCV_SF: 0, DCW_SF: 0, DCWH_SF: 0, N: 4 } }])
    // A fixed-group image holds no modules: build the registers of four modules by hand after the fixed part.
    const fixed = img.read(40002, (img.get(160, 'L') as number) + 2)!
    const moduleWords = (dcw: number) => { const m = new Array(20).fill(0xffff); m[0] = 1; m[11] = dcw; return m } // ID, IDStr (8), DCA, DCV, DCW …
    const regs = [...fixed.slice(0, 1), fixed[1]! + 80, ...fixed.slice(2), ...moduleWords(2000), ...moduleWords(1500), ...moduleWords(0), ...moduleWords(700)]
    const model = decodeModel(table, regs)
    expect(fieldValue(map, 'pv_w', () => undefined, [model])).toBe(3500)
    expect(fieldValue(map, 'battery_w', () => undefined, [model])).toBe(700)
  })
})

describe('vendor profiles over Modbus TCP', () => {
  const reading = { pv_w: 4200, inverter_ac_w: 4000, grid_w: -1800, battery_w: -1500, battery_soc_pct: 64, pv_total_wh: 12_345_600, grid_import_wh: 2_345_600, grid_export_wh: 3_456_700 }
  let device: VirtualVendorDevice
  let port: number
  beforeAll(async () => {
    port = await freePort()
    device = new VirtualVendorDevice(new Map(), port)
    await device.start()
  })
  afterAll(async () => {
    await device?.stop()
  })

  for (const name of ['huawei-sun2000', 'sungrow-sh', 'victron-gx', 'growatt-hybrid', 'sma']) {
    it(`${name}: reads back the home's values, normalized (grid + import, battery + discharge)`, async () => {
      const map = vendorMap(name)
      device.registers = encodeVendorRegisters(map, { ...reading, load_w: 900 })
      const link = new ModbusLink({ transport: 'tcp', host: '127.0.0.1', port })
      await link.connect()
      const snapshot = await readVendorSnapshot(map, link, new Date())
      await link.close()
      expect(snapshotSchema.safeParse(snapshot).success).toBe(true)
      for (const f of ['pv_w', 'grid_w', 'battery_w'] as const) if (map.points[f]) expect(snapshot[f], `${name} ${f}`).toBe(reading[f])
      expect(snapshot.battery_soc_pct).toBe(64)
      if (map.points.grid_import_wh) expect(snapshot.energy).toMatchObject({ grid_import_wh: reading.grid_import_wh, grid_export_wh: reading.grid_export_wh })
      expect(snapshot.device.manufacturer).toBe(map.manufacturer)
      // Measured where the product measures it, else from the balance.
      expect(snapshot.load_w).toBe(map.points.load_w ? 900 : map.coupling === 'dc' ? 4200 - 1800 - 1500 : (map.points.inverter_ac_w ? 4000 : 4200) - 1800 - 1500)
    })
  }

  it('reads what a product has and leaves out a register it does not (illegal address), not the whole snapshot', async () => {
    const map = vendorMap('huawei-sun2000')
    const registers = encodeVendorRegisters(map, reading)
    for (const k of [...registers.keys()].filter((k) => k.endsWith(':37001') || k.endsWith(':37002'))) registers.delete(k) // no battery
    device.registers = registers
    const link = new ModbusLink({ transport: 'tcp', host: '127.0.0.1', port })
    await link.connect()
    const snapshot = await readVendorSnapshot(map, link, new Date())
    await link.close()
    expect(snapshot.battery_w).toBeNull()
    expect(snapshot.grid_w).toBe(-1800)
  })
})
