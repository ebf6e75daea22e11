import type { Logger } from '../platform/logger.ts'
import type { Counters } from '../platform/counters.ts'
import type { Award, MarketState } from '../protocol/messages.ts'
import type { Snapshot } from '../protocol/snapshot.ts'
import { intervalStart } from '../protocol/units.ts'
import type { ModbusLink } from './modbus/modbus-link.ts'
import type { VendorMap } from './device-maps/vendor-map.ts'
import type { DeviceReader } from './device-reader.ts'
import type { IntervalMeter } from './interval-meter.ts'
import { batterySetpointW, type BatteryLimits } from './battery-controller.ts'
import { ReserveKeeper } from './battery-reserves.ts'
import { chooseBatteryRoute, type BatteryRoute } from './battery-routes.ts'

/** How often the battery setpoint is worked out and written again. */
export const DEFAULT_CONTROL_SECONDS = 5
/** A written setpoint lapses on the device after this many control periods unless written again. */
const REVERT_PERIODS = 3

export interface BatterySteeringOptions {
  link: ModbusLink
  unitId: number
  reader: DeviceReader
  profile?: VendorMap
  limits: BatteryLimits & { controlSeconds?: number }
  /** Where the owner's reserve limits are kept while the agent holds the battery through them. */
  dataDir?: string
  /** With no market state for this long, the market is out of reach. Default 2 intervals. */
  marketSilenceSeconds?: number
  counters: Counters
  log: Logger
}

/** What the agent knows at a control step. */
export interface SteeringInputs {
  market: MarketState | undefined
  /** When the market's state was last heard, ms. */
  marketSeenAt: number
  awards: ReadonlyMap<number, Award>
  snapshot: Snapshot | undefined
  meter: IntervalMeter | undefined
}

/**
 * Steers the home's battery to deliver what it sold (docs/parts/edge-agent.md): each control period,
 * with an award for the interval under way and the market in reach, the setpoint that delivers it;
 * otherwise, or on any error, the battery back in the inverter's own self-consumption. Written every
 * period with a revert timer of a few periods, so a setpoint of an agent that died lapses on the
 * device by itself. The route (battery-routes.ts) is chosen once the device is known, and again after
 * a reconnect.
 */
export class BatterySteering {
  private route: BatteryRoute | undefined
  private readonly reserves: ReserveKeeper
  /** The setpoint last written; null: handed back to the inverter (self-consumption). */
  private setpoint: number | null = null

  constructor(private readonly options: BatterySteeringOptions) {
    this.reserves = new ReserveKeeper(options.dataDir, (message) => options.log.warn(message))
  }

  get controlSeconds(): number {
    return this.options.limits.controlSeconds ?? DEFAULT_CONTROL_SECONDS
  }

  /** Whether the agent holds the battery now (a setpoint written and not handed back). */
  get holding(): boolean {
    return this.setpoint !== null
  }

  /** Whether an earlier run died while holding the battery through the owner's reserve limits. */
  get reservesLeftHeld(): boolean {
    return this.reserves.saved() !== undefined
  }

  /** The device may have changed while the link was down: its route is chosen again. */
  reconnected(): void {
    this.route = undefined
  }

  /** One control step. */
  async step(now: SteeringInputs, nowMs = Date.now()): Promise<void> {
    const { market, snapshot } = now
    try {
      const silenceS = this.options.marketSilenceSeconds ?? 2 * (market?.intervalSeconds ?? 900)
      const inReach = market !== undefined && nowMs - now.marketSeenAt <= silenceS * 1000
      const interval = market ? intervalStart(nowMs / 1000, market.intervalSeconds) : 0
      const award = inReach ? now.awards.get(interval) : undefined
      const { grid_export_wh: exportWh, grid_import_wh: importWh } = snapshot?.energy ?? { grid_export_wh: null, grid_import_wh: null }
      const delivered = exportWh !== null && importWh !== null ? now.meter?.sinceStart(nowMs / 1000, exportWh, importWh) : undefined
      if (!market || !award || award.netWh === 0 || !snapshot || snapshot.pv_w === null || snapshot.load_w === null || !delivered) {
        if (this.setpoint !== null) await this.write(null, snapshot)
        return
      }
      const setpoint = batterySetpointW(
        { awardNetWh: award.netWh, deliveredWh: delivered.exportedWh - delivered.importedWh, secondsLeft: interval + market.intervalSeconds - nowMs / 1000, pvW: snapshot.pv_w, loadW: snapshot.load_w, socPct: snapshot.battery_soc_pct },
        this.options.limits,
      )
      await this.write(setpoint, snapshot)
    } catch (error) {
      this.options.counters.increment('battery_control_errors')
      this.options.log.error({ err: error }, 'agent: battery control failed; handing the battery back to the inverter')
      await this.write(null, snapshot).catch(() => undefined)
    }
  }

  /** Writes a setpoint (or null: self-consumption) by the device's battery route, and counts it. */
  async write(setpointW: number | null, snapshot: Snapshot | undefined): Promise<void> {
    const { link, unitId, limits } = this.options
    this.route ??= chooseBatteryRoute({
      reader: this.options.reader,
      profile: this.options.profile,
      readModel: (address, length) => link.readHolding(unitId, address, length),
      revertSeconds: this.controlSeconds * REVERT_PERIODS,
      limits,
      reserves: this.reserves,
    })
    const writes = await this.route?.writes(setpointW, { pvW: snapshot?.pv_w ?? null, loadW: snapshot?.load_w ?? null, socPct: snapshot?.battery_soc_pct ?? null })
    if (!writes) {
      // Nothing on this device takes a setpoint: the battery stays the inverter's.
      this.setpoint = null
      return
    }
    for (const w of writes) await link.writeRegisters(unitId, w.address, w.values)
    if (setpointW === null) this.reserves.clear()
    this.setpoint = setpointW
    this.options.counters.increment(setpointW === null ? 'battery_released' : 'battery_setpoints')
  }
}
