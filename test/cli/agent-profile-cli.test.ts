import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { vendorMap } from '../../edge-agent/device-maps/vendor-map.ts'
import { freePort } from '../../platform/free-port.ts'
import { VirtualVendorDevice, encodeVendorRegisters } from '../../simulator/virtual-vendor-device.ts'
import { runVpp } from '../helpers/run-vpp.ts'

let device: VirtualVendorDevice
beforeAll(async () => {
  device = new VirtualVendorDevice(encodeVendorRegisters(vendorMap('victron-gx'), { pv_w: 3100, grid_w: 450, battery_w: 1200, battery_soc_pct: 77, load_w: 4750 }), await freePort())
  await device.start()
})
afterAll(async () => {
  await device?.stop()
})

describe('vpp agent read --profile', () => {
  it("prints a Victron GX's snapshot through its vendor profile, on the profile's unit 100", async () => {
    const result = await runVpp(['agent', 'read', '--modbus', `tcp://127.0.0.1:${device.port}`, '--profile', 'victron-gx', '--json'])
    expect(result.code, result.stderr).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ device: { manufacturer: 'Victron Energy', model: 'GX (ESS)' }, pv_w: 3100, grid_w: 450, battery_w: 1200, battery_soc_pct: 77, load_w: 4750 })
  })

  it('names the profiles there are for one it does not know', async () => {
    const result = await runVpp(['agent', 'read', '--modbus', `tcp://127.0.0.1:${device.port}`, '--profile', 'victron'])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/no vendor profile "victron"; profiles: fronius-gen24, growatt-hybrid, huawei-sun2000, sma, solaredge-hybrid, sungrow-sh, victron-gx/)
  })
})
