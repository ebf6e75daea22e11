import type { Snapshot } from '../protocol/snapshot.ts'
import type { ModbusLink } from './modbus/modbus-link.ts'
import { readVendorSnapshot } from './device-maps/vendor-reader.ts'
import type { VendorMap } from './device-maps/vendor-map.ts'
import { snapshotFromSunSpec, type NormalizeOptions } from './snapshot-normalizer.ts'
import { discoverSunSpec, readModels, type SunSpecDevice } from './sunspec/sunspec-discovery.ts'
import type { DecodedModel } from './sunspec/sunspec-decoder.ts'

/** The SunSpec control models a battery route may write through (124 storage, 704 DER AC, 802 battery). */
export const CONTROL_MODEL_IDS = [124, 704, 802] as const
export type ControlModelId = (typeof CONTROL_MODEL_IDS)[number]

/**
 * Reads one normalized snapshot of the home's device: SunSpec (models discovered once per connection)
 * or a vendor device map, chosen once when the agent starts.
 */
export interface DeviceReader {
  /** One snapshot, read now; throws when the device does not answer. */
  read(at: Date): Promise<Snapshot>
  /** Forget what was discovered: the link was reopened and the device may have changed. */
  reconnected(): void
  /** The SunSpec models found (undefined for a device map, or before discovery). */
  readonly sunspec: SunSpecDevice | undefined
  /** The control models as the last read decoded them. */
  readonly controlModels: readonly DecodedModel[]
}

/** The reader for a device: its vendor map when the config names one, else SunSpec at `unitId`. */
export function deviceReader(link: ModbusLink, device: { unitId: number; profile?: VendorMap; normalize?: NormalizeOptions }): DeviceReader {
  return device.profile ? new DeviceMapReader(link, device.profile) : new SunSpecReader(link, device.unitId, device.normalize)
}

class SunSpecReader implements DeviceReader {
  sunspec: SunSpecDevice | undefined
  controlModels: DecodedModel[] = []

  constructor(
    private readonly link: ModbusLink,
    private readonly unitId: number,
    private readonly normalize: NormalizeOptions | undefined,
  ) {}

  async read(at: Date): Promise<Snapshot> {
    const read = (address: number, length: number) => this.link.readHolding(this.unitId, address, length)
    this.sunspec ??= await discoverSunSpec(read)
    const models = await readModels(read, this.sunspec)
    this.controlModels = models.filter((m) => (CONTROL_MODEL_IDS as readonly number[]).includes(m.id))
    return snapshotFromSunSpec(models, at, this.normalize)
  }

  reconnected(): void {
    this.sunspec = undefined
  }
}

class DeviceMapReader implements DeviceReader {
  readonly sunspec = undefined
  readonly controlModels: readonly DecodedModel[] = []

  constructor(
    private readonly link: ModbusLink,
    private readonly map: VendorMap,
  ) {}

  read(at: Date): Promise<Snapshot> {
    return readVendorSnapshot(this.map, this.link, at)
  }

  reconnected(): void {}
}
