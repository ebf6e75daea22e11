import { VppError } from '../../protocol/errors.ts'
import { sunspecModelTables } from './model-tables.ts'
import { decodeModel, type DecodedModel } from './sunspec-decoder.ts'

/** Where SunSpec devices put the "SunS" marker, in the order tried (SunSpec Modbus spec, "Base address"). */
export const SUNSPEC_BASES = [40000, 0, 50000] as const
const SUNS = [0x5375, 0x6e53]
const END_ID = 0xffff
/** A guard against devices whose model chain never ends. */
const MAX_MODELS = 64

export interface ModelLocation {
  id: number
  /** Address of the model's ID register. */
  address: number
  /** The model's L register: length after ID and L. */
  length: number
}

export interface SunSpecDevice {
  base: number
  models: ModelLocation[]
  /**
   * The chain split at each common model (1): each model 1 starts a new logical device, as when an
   * inverter presents its meter behind it on the same unit.
   */
  devices: ModelLocation[][]
}

/** Splits a model chain into logical devices, each starting at a model 1. Pure. */
export function logicalDevices(models: readonly ModelLocation[]): ModelLocation[][] {
  const devices: ModelLocation[][] = []
  for (const m of models) {
    if (m.id === 1 || devices.length === 0) devices.push([])
    devices.at(-1)!.push(m)
  }
  return devices
}

export type ReadRegisters = (address: number, length: number) => Promise<number[]>

/**
 * Finds the SunSpec marker and walks the model chain by ID and length up to the end model (0xFFFF).
 * Unknown models are kept, so a device with vendor models is not refused.
 */
export async function discoverSunSpec(read: ReadRegisters, bases: readonly number[] = SUNSPEC_BASES): Promise<SunSpecDevice> {
  for (const base of bases) {
    let marker: number[]
    try {
      marker = await read(base, 2)
    } catch {
      continue // ILLEGAL DATA ADDRESS here is normal: the marker lives at another base.
    }
    if (marker[0] !== SUNS[0] || marker[1] !== SUNS[1]) continue
    const models: ModelLocation[] = []
    let address = base + 2
    for (let i = 0; i < MAX_MODELS; i++) {
      const [id, length] = await read(address, 2)
      if (id === undefined || length === undefined || id === END_ID) return { base, models, devices: logicalDevices(models) }
      models.push({ id, address, length })
      address += 2 + length
    }
    throw new VppError('VPP_ERR_SUNSPEC_MODEL', `the model chain at ${base} has more than ${MAX_MODELS} models without an end marker`)
  }
  throw new VppError('VPP_ERR_SUNSPEC_NOT_FOUND', `no "SunS" marker at ${bases.join(', ')}: is this a SunSpec device, and is the unit id right? Try \`vpp agent scan\`.`)
}

/** Reads and decodes every model the project has a table for; unknown models are skipped. */
export async function readModels(read: ReadRegisters, device: SunSpecDevice): Promise<DecodedModel[]> {
  const decoded: DecodedModel[] = []
  for (const m of device.models) {
    const table = sunspecModelTables[m.id]
    if (!table) continue
    // The whole model in one read (chunked at 125 by the link), so each value and its scale factor
    // come from the same moment.
    decoded.push(decodeModel(table, await read(m.address, m.length + 2)))
  }
  return decoded
}
