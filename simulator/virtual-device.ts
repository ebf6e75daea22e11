import { startModbusServer, stopModbusServer, type ModbusServer } from './modbus-server.ts'
import type { HomeCounters, HomeReading, HomeSpec } from './home-model.ts'
import { SunSpecImage } from './sunspec-image.ts'
import type { RawPointValue } from '../edge-agent/sunspec/point-codec.ts'
import type { SunSpecModelTable } from '../edge-agent/sunspec/sunspec-types.ts'
import { sunspecModelTables } from '../edge-agent/sunspec/model-tables.ts'

/** Modbus exception 0x02 ILLEGAL DATA ADDRESS (Modbus Application Protocol v1.1b3, 7). */
const ILLEGAL_DATA_ADDRESS = 0x02

export interface VirtualDeviceOptions {
  spec: HomeSpec
  host?: string
  port: number
  unitId?: number
  base?: number
  /** Lifetime counters at power-on, so the accumulators are non-zero as on a real device. */
  initialCounters?: HomeCounters
  /** Serve Modbus RTU on this serial device (e.g. one end of a socat pseudo-terminal pair) instead of TCP. */
  serial?: { path: string; baudRate: number }
  /**
   * How the battery is steered: SunSpec 124 storage controls (default), 704 DER AC controls as on
   * inverters that implement the IEEE 1547 models instead, or only the battery model 802's reserve
   * limits (SoCRsvMin, SocRsvMax), within which the battery runs its own self-consumption.
   */
  storageControl?: 124 | 704 | 802
}

/**
 * One home's hardware as a SunSpec device on Modbus TCP: common model 1, three-phase inverter 103,
 * battery 802 (when the home has one) and meter 203, all at one unit id. Register values follow the
 * home model; writes are accepted only on writable points and are counted.
 */
export class VirtualSunSpecDevice {
  readonly image: SunSpecImage
  readonly unitId: number
  /** Write requests accepted (FC6 or FC16): a read-only agent must leave this at zero. */
  writes = 0
  private controlWrittenAt = 0
  private lastPvW = 0
  private server: ModbusServer | undefined
  private readonly offsets: HomeCounters
  /** How the battery is steered (VirtualDeviceOptions.storageControl). */
  private readonly control: 124 | 704 | 802

  constructor(private readonly options: VirtualDeviceOptions) {
    const { spec } = options
    this.unitId = options.unitId ?? 1
    this.control = options.storageControl ?? 124
    this.offsets = options.initialCounters ?? { pvWh: 1_000_000, importWh: 3_000_000, exportWh: 500_000 }
    const t = sunspecModelTables
    const models: { table: SunSpecModelTable; values: Record<string, RawPointValue> }[] = [
      { table: t[1]!, values: { Mn: 'OpenVPP', Md: 'VirtualHome', Opt: 'simulator', Vr: '0.1.0', SN: spec.id, DA: this.unitId } },
      {
        table: t[103]!,
        values: { A_SF: -2, V_SF: -1, PhVphA: 2300, PhVphB: 2300, PhVphC: 2300, W_SF: 0, Hz: 5000, Hz_SF: -2, WH_SF: 0, DCW_SF: 0, Tmp_SF: -1, TmpCab: 350, Evt1: 0, Evt2: 0 },
      },
      ...(spec.batteryWh > 0
        ? [
            {
              table: t[802]!,
              values: {
                AHRtg: Math.round(spec.batteryWh / 51.2), AHRtg_SF: 0, WHRtg: spec.batteryWh, WHRtg_SF: 0,
                WChaRteMax: spec.batteryMaxW, WDisChaRteMax: spec.batteryMaxW, WChaDisChaMax_SF: 0,
                SoC_SF: -1, V: 512, V_SF: -1, CellV_SF: -3, A_SF: -1, AMax_SF: 0, W_SF: 0,
                LocRemCtl: 1, Typ: 4, State: 2, SetOp: 1, SetInvState: 3, AlmRst: 0, Evt1: 0, Evt2: 0, EvtVnd1: 0, EvtVnd2: 0,
                // The owner's reserve limits as the installer left them: 10 % to 100 % (SoC_SF −1).
                SoCRsvMin: 100, SocRsvMax: 1000,
              },
            },
          ]
        : []),
      ...(spec.batteryWh > 0 && this.control === 704
        ? [
            {
              // DER AC controls (SunSpec 704): WSet sets the inverter's AC output (PV + battery), W, while
              // WSetEna is 1; after WSetRvrtTms without a write it falls back to WSetEnaRvrt.
              table: t[704]!,
              values: {
                PFWInjEna: 0, PFWInjEnaRvrt: 0, PFWInjRvrtTms: 0, PFWInjRvrtRem: 0, PFWAbsEna: 0, PFWAbsEnaRvrt: 0, PFWAbsRvrtTms: 0, PFWAbsRvrtRem: 0,
                WMaxLimPctEna: 0, WMaxLimPct: 1000, WMaxLimPctRvrt: 1000, WMaxLimPctEnaRvrt: 0, WMaxLimPctRvrtTms: 0, WMaxLimPctRvrtRem: 0,
                WSetEna: 0, WSetMod: 1, WSet: 0, WSetRvrt: 0, WSetPct: 0, WSetPctRvrt: 0, WSetEnaRvrt: 0, WSetRvrtTms: 0, WSetRvrtRem: 0,
                VarSetEna: 0, VarSetMod: 0, VarSetPri: 0, VarSet: 0, VarSetRvrt: 0, VarSetPct: 0, VarSetPctRvrt: 0, VarSetEnaRvrt: 0, VarSetRvrtTms: 0, VarSetRvrtRem: 0,
                WRmp: 0, WRmpRef: 0, VarRmp: 0, AntiIslEna: 1, PF_SF: -3, WMaxLimPct_SF: -1, WSet_SF: 0, WSetPct_SF: -1, VarSet_SF: 0, VarSetPct_SF: -1,
              },
            },
          ]
        : []),
      ...(spec.batteryWh > 0 && this.control === 124
        ? [
            {
              // Storage controls (SunSpec 124): the agent steers the battery here; rates are % of WChaMax
              // with two decimals (InOutWRte_SF -2), and a setpoint lapses after InOutWRte_RvrtTms.
              table: t[124]!,
              values: {
                WChaMax: spec.batteryMaxW, WChaMax_SF: 0, WChaGra: 100, WDisChaGra: 100, WChaDisChaGra_SF: 0, StorCtl_Mod: 0,
                VAChaMax: spec.batteryMaxW, VAChaMax_SF: 0, MinRsvPct: 50, MinRsvPct_SF: -1, ChaState: 500, ChaState_SF: -1,
                StorAval: 0, StorAval_SF: 0, InBatV: 512, InBatV_SF: -1, ChaSt: 6, OutWRte: 0, InWRte: 0, InOutWRte_SF: -2,
                InOutWRte_WinTms: 0, InOutWRte_RvrtTms: 0, InOutWRte_RmpTms: 0, ChaGriSet: 0,
              },
            },
          ]
        : []),
      { table: t[203]!, values: { A_SF: -2, PhV: 2300, PhVphA: 2300, PhVphB: 2300, PhVphC: 2300, V_SF: -1, Hz: 5000, Hz_SF: -2, W_SF: 0, TotWh_SF: 0, Evt: 0 } },
    ]
    this.image = new SunSpecImage(options.base ?? 40000, models)
  }

  get port(): number {
    return this.options.port
  }

  /**
   * The battery power the storage controls (model 124) ask for, positive = discharge, or undefined
   * for the battery's own self-consumption mode: StorCtl_Mod bit 0 (CHARGE) charges at InWRte, bit 1
   * (DISCHARGE) discharges at OutWRte, both as % of WChaMax; a setpoint not re-written within
   * InOutWRte_RvrtTms seconds lapses back to self-consumption, as a real inverter does. With 704
   * the setpoint comes from WSet (derSetpointW); with 802 alone there is none, only reserve limits.
   */
  batterySetpointW(now = Date.now()): number | undefined {
    if (this.options.spec.batteryWh <= 0 || this.control === 802) return undefined
    if (this.control === 704) return this.derSetpointW(now)
    const img = this.image
    const mode = Number(img.get(124, 'StorCtl_Mod') ?? 0)
    if (mode === 0) return undefined
    const revertS = Number(img.get(124, 'InOutWRte_RvrtTms') ?? 0)
    if (revertS > 0 && now > this.controlWrittenAt + revertS * 1000) {
      img.set(124, 'StorCtl_Mod', 0)
      return undefined
    }
    const maxW = Number(img.get(124, 'WChaMax') ?? 0)
    const pct = (name: 'InWRte' | 'OutWRte') => Number(img.get(124, name) ?? 0) / 100 / 100
    if (mode & 2) return Math.round(maxW * pct('OutWRte'))
    if (mode & 1) return -Math.round(maxW * pct('InWRte'))
    return undefined
  }

  /**
   * The battery model 802's reserve limits, % of capacity: in its own mode the battery discharges no
   * lower than the minimum and charges no higher than the maximum.
   */
  batteryReserves(): { minPct: number; maxPct: number } | undefined {
    if (this.options.spec.batteryWh <= 0) return undefined
    const img = this.image
    const sf = 10 ** Number(img.get(802, 'SoC_SF') ?? 0)
    return { minPct: Number(img.get(802, 'SoCRsvMin') ?? 0) * sf, maxPct: Number(img.get(802, 'SocRsvMax') ?? 0) * sf }
  }

  /**
   * Model 704: with WSetEna 1 the inverter's AC output is held at WSet (× 10^WSet_SF), so the battery
   * gives what the PV does not (negative: charges); a WSet not re-written within WSetRvrtTms seconds
   * falls back to WSetEnaRvrt, as IEEE 1547 reversion does.
   */
  private derSetpointW(now: number): number | undefined {
    const img = this.image
    if (Number(img.get(704, 'WSetEna') ?? 0) !== 1) return undefined
    const revertS = Number(img.get(704, 'WSetRvrtTms') ?? 0)
    if (revertS > 0 && now > this.controlWrittenAt + revertS * 1000) {
      img.set(704, 'WSetEna', Number(img.get(704, 'WSetEnaRvrt') ?? 0))
      if (Number(img.get(704, 'WSetEna')) !== 1) return undefined
    }
    const acW = Number(img.get(704, 'WSet') ?? 0) * 10 ** Number(img.get(704, 'WSet_SF') ?? 0)
    return Math.round(acW - this.lastPvW)
  }

  /** Publishes a new reading into the registers. Powers in whole W, counters in whole Wh. */
  update(reading: HomeReading, counters: HomeCounters): void {
    const img = this.image
    const pvW = Math.round(reading.pvW)
    this.lastPvW = pvW
    img.set(103, 'W', pvW)
    img.set(103, 'DCW', Math.round(pvW / 0.97))
    img.set(103, 'A', Math.round((pvW / 690) * 100))
    img.set(103, 'WH', Math.round(this.offsets.pvWh + counters.pvWh))
    img.set(103, 'St', pvW > 0 ? 4 : 2) // 4 MPPT, 2 SLEEPING
    if (this.options.spec.batteryWh > 0) {
      img.set(802, 'W', Math.round(reading.batteryW))
      img.set(802, 'SoC', Math.round(reading.socPct * 10))
      img.set(802, 'A', Math.round((reading.batteryW / 51.2) * 10))
      img.set(802, 'ChaSt', reading.batteryW > 0 ? 3 : reading.batteryW < 0 ? 4 : 6)
      if (this.control === 124) {
        img.set(124, 'ChaState', Math.round(reading.socPct * 10))
        img.set(124, 'ChaSt', reading.batteryW > 0 ? 3 : reading.batteryW < 0 ? 4 : 6)
      }
    }
    img.set(203, 'W', Math.round(reading.gridW))
    img.set(203, 'A', Math.round((Math.abs(reading.gridW) / 690) * 100))
    img.set(203, 'TotWhImp', Math.round(this.offsets.importWh + counters.importWh))
    img.set(203, 'TotWhExp', Math.round(this.offsets.exportWh + counters.exportWh))
  }

  async start(): Promise<void> {
    const image = this.image
    const vector = {
      getMultipleHoldingRegisters: (addr: number, length: number, _unit: number, cb: (err: Error | null, value: number[]) => void) => {
        const words = image.read(addr, length)
        if (!words) return cb(Object.assign(new Error(`no registers at ${addr}+${length}`), { modbusErrorCode: ILLEGAL_DATA_ADDRESS }), [])
        cb(null, words)
      },
      getHoldingRegister: (addr: number, _unit: number, cb: (err: Error | null, value: number) => void) => {
        const words = image.read(addr, 1)
        if (!words) return cb(Object.assign(new Error(`no register at ${addr}`), { modbusErrorCode: ILLEGAL_DATA_ADDRESS }), 0)
        cb(null, words[0]!)
      },
      // FC16 (write multiple registers): all of them writable, or none is written.
      setRegisterArray: (addr: number, values: number[], _unit: number, cb: (err: Error | null) => void) => {
        const refused = values.findIndex((_, i) => !image.writablePointAt(addr + i))
        if (refused >= 0) return cb(Object.assign(new Error(`register ${addr + refused} is not writable`), { modbusErrorCode: ILLEGAL_DATA_ADDRESS }))
        values.forEach((v, i) => (image.registers[addr + i - image.base] = v & 0xffff))
        this.writes++
        const key = image.writablePointAt(addr)!.key
        if (key.startsWith('124.') || key.startsWith('704.')) this.controlWrittenAt = Date.now()
        cb(null)
      },
      setRegister: (addr: number, value: number, unit: number, cb: (err: Error | null) => void) => vector.setRegisterArray(addr, [value], unit, cb),
    }
    const serial = this.options.serial
    this.server = await startModbusServer(
      vector,
      serial ? { path: serial.path, baudRate: serial.baudRate, unitID: this.unitId } : { host: this.options.host ?? '127.0.0.1', port: this.options.port, unitID: this.unitId },
    )
  }

  async stop(): Promise<void> {
    const server = this.server
    if (!server) return
    this.server = undefined
    await stopModbusServer(server)
  }
}
