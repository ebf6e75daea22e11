import { describe, expect, it } from 'vitest'
import { batterySetpointW } from '../../edge-agent/battery-controller.ts'
import { storageControlWrites } from '../../edge-agent/sunspec/storage-control.ts'
import { decodeModel } from '../../edge-agent/sunspec/sunspec-decoder.ts'
import { sunspecModelTables } from '../../edge-agent/sunspec/model-tables.ts'
import { demoHomes } from '../../simulator/home-model.ts'
import { VirtualSunSpecDevice } from '../../simulator/virtual-device.ts'

const limits = { maxW: 3000, socFloorPct: 10, socCeilingPct: 95 }
const state = { awardNetWh: 100, deliveredWh: 0, secondsLeft: 900, pvW: 0, loadW: 500, socPct: 60 }

describe('battery setpoint for an award', () => {
  it('discharges enough to export the rest of a sale over the time left, on top of the home’s own use', () => {
    expect(batterySetpointW(state, limits)).toBe(900) // 100 Wh over 900 s = 400 W export, + 500 W load
    expect(batterySetpointW({ ...state, deliveredWh: 50, secondsLeft: 450 }, limits)).toBe(900)
    // Already delivered more than sold: the battery may take the home's load back down to zero export.
    expect(batterySetpointW({ ...state, deliveredWh: 100, secondsLeft: 300 }, limits)).toBe(500)
  })

  it('lets the sun cover a sale and charges only with the surplus beyond it, so self-consumption never eats the sale', () => {
    // 3 kW of sun, 500 W load, 400 W sold: 2.1 kW left over for the battery.
    expect(batterySetpointW({ ...state, pvW: 3000 }, limits)).toBe(-2100)
  })

  it('charges from a purchase', () => {
    expect(batterySetpointW({ ...state, awardNetWh: -100, pvW: 500 }, limits)).toBe(-400)
  })

  it('stays within the power limit and the state-of-charge floor and ceiling', () => {
    expect(batterySetpointW({ ...state, awardNetWh: 10_000 }, limits)).toBe(3000)
    expect(batterySetpointW({ ...state, socPct: 10 }, limits)).toBe(0)
    expect(batterySetpointW({ ...state, pvW: 3000, socPct: 96 }, limits)).toBe(0)
  })
})

describe('SunSpec 124 storage-control writes', () => {
  const spec = demoHomes(2)[1]! // a home with a battery
  const device = new VirtualSunSpecDevice({ spec, port: 0 })
  const table = sunspecModelTables[124]!
  const address = device.image.slot(124, 'ID').address
  const apply = (setpointW: number | null) => {
    const model = decodeModel(table, device.image.read(address, device.image.get(124, 'L') as number + 2)!)
    for (const w of storageControlWrites(table, address, model, setpointW, 15)) {
      w.values.forEach((v, i) => {
        expect(device.image.writablePointAt(w.address + i), `register ${w.address + i} writable`).toBeDefined()
        device.image.registers[w.address + i - device.image.base] = v
      })
    }
  }

  it('sets a discharge, a charge, a hold and a release as the device reads them, with the revert timer', () => {
    const maxW = spec.batteryMaxW
    apply(Math.round(maxW / 4))
    expect(device.batterySetpointW(0)).toBe(Math.round(maxW / 4))
    expect(device.image.get(124, 'InOutWRte_RvrtTms')).toBe(15)
    apply(-Math.round(maxW / 2))
    expect(device.batterySetpointW(0)).toBe(-Math.round(maxW / 2))
    apply(0)
    expect(device.batterySetpointW(0)).toBe(0)
    apply(null)
    expect(device.batterySetpointW(0)).toBeUndefined()
  })
})
