import { encodeRegister, registerKey } from '../edge-agent/device-maps/vendor-decoder.ts'
import { startModbusServer, stopModbusServer, type ModbusServer } from './modbus-server.ts'
import type { RegisterTerm, SnapshotField, VendorMap } from '../edge-agent/device-maps/vendor-map.ts'

/** Modbus exception 0x02 ILLEGAL DATA ADDRESS: a register the product does not have. */
const ILLEGAL_DATA_ADDRESS = 0x02

/**
 * The registers a product would show for these values, written the vendor's way (word order, scale,
 * sign, status bits), by wire key (`unit:function:address`). The inverse of the map's decoding, for
 * tests and demos of vendor profiles. Registers-only maps; SunSpec points are the SunSpec device's.
 */
export function encodeVendorRegisters(map: VendorMap, values: Partial<Record<SnapshotField, number>>): Map<string, number> {
  const registers = new Map<string, number>()
  const put = (term: RegisterTerm, raw: number, address = term.address) => {
    encodeRegister(term.type, raw, term.wordOrder ?? map.defaults.wordOrder).forEach((w, i) => registers.set(registerKey(map, term, address + i), w))
  }
  for (const [field, value] of Object.entries(values) as [SnapshotField, number][]) {
    const terms = (map.points[field] ?? []).filter((t): t is RegisterTerm => !('sunspec' in t))
    if (terms.length === 0) continue
    // The value goes to the first term whose sign fits it (import vs export, charge vs discharge); the others read 0.
    const chosen = terms.find((t) => t.sign || Math.sign(t.scale) === Math.sign(value) || value === 0) ?? terms[0]!
    for (const t of terms) {
      if (t !== chosen) put(t, 0)
      else if (t.sign) {
        put(t, Math.round(Math.abs(value) / Math.abs(t.scale)))
        put({ ...t, type: 'uint16' }, value < 0 ? t.sign.negativeMask : value > 0 ? t.sign.positiveMask : 0, t.sign.address)
      } else put(t, t.type === 'float32' ? value / t.scale : Math.round(value / t.scale))
    }
  }
  return registers
}

/** A vendor product on Modbus TCP, answering every unit id with the registers it was given. */
export class VirtualVendorDevice {
  private server: ModbusServer | undefined
  /** Every write request, in order: battery commands as the product received them. */
  readonly writes: { address: number; values: number[] }[] = []
  constructor(
    public registers: Map<string, number>,
    readonly port: number,
  ) {}

  async start(): Promise<void> {
    const read = (fn: 'holding' | 'input') => (addr: number, length: number, unit: number, cb: (err: Error | null, value: number[]) => void) => {
      const words: number[] = []
      for (let i = 0; i < length; i++) {
        const w = this.registers.get(`${unit}:${fn}:${addr + i}`)
        if (w === undefined) return cb(Object.assign(new Error(`no register ${addr + i}`), { modbusErrorCode: ILLEGAL_DATA_ADDRESS }), [])
        words.push(w)
      }
      cb(null, words)
    }
    // modbus-serial asks single registers through their own functions.
    const one = (fn: 'holding' | 'input') => (addr: number, unit: number, cb: (err: Error | null, value: number) => void) =>
      read(fn)(addr, 1, unit, (err, words) => cb(err, words[0] ?? 0))
    const write = (addr: number, values: number[], unit: number, cb: (err: Error | null) => void) => {
      values.forEach((v, i) => this.registers.set(`${unit}:holding:${addr + i}`, v & 0xffff))
      this.writes.push({ address: addr, values })
      cb(null)
    }
    const vector = {
      getMultipleHoldingRegisters: read('holding'),
      getMultipleInputRegisters: read('input'),
      getHoldingRegister: one('holding'),
      getInputRegister: one('input'),
      setRegisterArray: write,
      setRegister: (addr: number, value: number, unit: number, cb: (err: Error | null) => void) => write(addr, [value], unit, cb),
    }
    this.server = await startModbusServer(vector, { host: '127.0.0.1', port: this.port, unitID: 255 })
  }

  async stop(): Promise<void> {
    const server = this.server
    this.server = undefined
    if (server) await stopModbusServer(server)
  }
}
