import type { ReserveKeeper } from './battery-reserves.ts'
import type { BatteryLimits } from './battery-controller.ts'
import type { ControlModelId, DeviceReader } from './device-reader.ts'
import { encodeRegister } from './device-maps/vendor-decoder.ts'
import { WRITE_RANGES, type VendorMap } from './device-maps/vendor-map.ts'
import { sunspecModelTables } from './sunspec/model-tables.ts'
import { decodeModel, type DecodedModel } from './sunspec/sunspec-decoder.ts'
import type { SunSpecModelTable } from './sunspec/sunspec-types.ts'
import { batteryReserveWrites, derActivePowerWrites, storageControlWrites, type RegisterWrite } from './sunspec/storage-control.ts'

/** What a route may need of the home right now to turn a battery setpoint into register writes. */
export interface HomeNow {
  pvW: number | null
  loadW: number | null
  socPct: number | null
}

/**
 * One way of steering the home's battery. A setpoint is battery power in W (positive = discharge
 * into the home); null hands the battery back to the inverter's own self-consumption.
 */
export interface BatteryRoute {
  readonly name: 'device-map' | 'sunspec-124' | 'sunspec-704' | 'sunspec-802'
  /** The register writes for `setpointW`; undefined when nothing can be written now (the battery stays the inverter's). */
  writes(setpointW: number | null, home: HomeNow): Promise<RegisterWrite[] | undefined>
}

export interface RouteContext {
  reader: DeviceReader
  profile?: VendorMap
  /** Reads a control model's registers when no poll has decoded it yet. */
  readModel(address: number, length: number): Promise<number[]>
  /** 124 and 704 writes lapse on the device after this long unless written again. */
  revertSeconds: number
  limits: BatteryLimits
  reserves: ReserveKeeper
}

/**
 * The device's route, chosen once it is known (after discovery): the vendor map's commands; SunSpec
 * 124 storage controls; 704 DER AC controls, whose AC output is set to the PV now plus the battery
 * power wanted (a hybrid inverter's output is PV plus battery); or the battery model 802's reserve
 * limits, within which the battery runs its own self-consumption. Undefined: nothing on the device
 * takes a setpoint.
 */
export function chooseBatteryRoute(ctx: RouteContext): BatteryRoute | undefined {
  if (ctx.profile?.batteryControl) return deviceMapRoute(ctx.profile)
  const has = (id: ControlModelId) => ctx.reader.sunspec?.models.some((m) => m.id === id) ?? false
  if (has(124)) return { name: 'sunspec-124', writes: async (setpointW) => withModel(ctx, 124, (table, address, model) => storageControlWrites(table, address, model, setpointW, ctx.revertSeconds)) }
  if (has(704)) {
    return {
      name: 'sunspec-704',
      writes: async (setpointW, home) => withModel(ctx, 704, (table, address, model) => derActivePowerWrites(table, address, model, setpointW === null ? null : (home.pvW ?? 0) + setpointW, ctx.revertSeconds)),
    }
  }
  if (has(802)) return reserveRoute(ctx)
  return undefined
}

function deviceMapRoute(profile: VendorMap): BatteryRoute {
  const control = profile.batteryControl!
  return {
    name: 'device-map',
    writes: async (setpointW, home) => {
      const action = setpointW === null ? 'release' : setpointW > 0 ? 'discharge' : setpointW < 0 ? 'charge' : 'hold'
      return control[action].map((w) => {
        let value: number
        if (w.value === 'power') value = Math.min(WRITE_RANGES[w.type][1], Math.round(Math.abs(setpointW ?? 0) * w.scale))
        // grid = load − pv − battery (positive = import): the exchange at which the battery gives the setpoint.
        else if (w.value === 'grid-setpoint') value = Math.round(((home.loadW ?? 0) - (home.pvW ?? 0) - (setpointW ?? 0)) * w.scale)
        else value = w.value
        return { address: w.address - profile.defaults.addressing, values: encodeRegister(w.type, value, profile.defaults.wordOrder) }
      })
    },
  }
}

/** 802 has no revert timer, so the owner's reserve limits are kept (ReserveKeeper) until release. */
function reserveRoute(ctx: RouteContext): BatteryRoute {
  return {
    name: 'sunspec-802',
    writes: async (setpointW, home) =>
      withModel(ctx, 802, (table, address, model) => {
        const { SocRsvMax, SoCRsvMin } = model.raw
        if (typeof SocRsvMax !== 'number' || typeof SoCRsvMin !== 'number') return undefined
        if (setpointW !== null && home.socPct === null) return undefined
        const original = setpointW === null ? ctx.reserves.saved() : ctx.reserves.capture({ SocRsvMax, SoCRsvMin })
        if (!original) return undefined
        return batteryReserveWrites(table, address, model, setpointW, home.socPct ?? 0, ctx.limits, original)
      }),
  }
}

/** The control model as the last poll decoded it (its ratings and scale factors), read here only before any poll has. */
async function withModel<T>(ctx: RouteContext, id: ControlModelId, use: (table: SunSpecModelTable, address: number, model: DecodedModel) => T): Promise<T | undefined> {
  const location = ctx.reader.sunspec?.models.find((m) => m.id === id)
  if (!location) return undefined
  const table = sunspecModelTables[id]!
  const model = ctx.reader.controlModels.find((m) => m.id === id) ?? decodeModel(table, await ctx.readModel(location.address, location.length + 2))
  return use(table, location.address, model)
}
