import { ModbusRTU } from './modbus-serial.ts'
import { VppError } from '../../protocol/errors.ts'
import type { ModbusEndpoint } from './modbus-url.ts'

/** Largest read a Modbus PDU allows: 125 holding registers (Modbus Application Protocol 6.3). */
export const MAX_READ_REGISTERS = 125

/**
 * One Modbus link (a TCP connection or a serial line). Requests are queued so exactly one is in
 * flight, as RS-485 and most TCP gateways require; each has a timeout.
 */
export class ModbusLink {
  private readonly client = new ModbusRTU()
  private queue: Promise<unknown> = Promise.resolve()

  constructor(
    readonly endpoint: ModbusEndpoint,
    private readonly timeoutMs = 2000,
  ) {}

  async connect(): Promise<void> {
    const e = this.endpoint
    try {
      if (e.transport === 'tcp') await this.client.connectTCP(e.host, { port: e.port })
      else await this.client.connectRTUBuffered(e.path, { baudRate: e.baudRate, parity: e.parity, dataBits: e.dataBits, stopBits: e.stopBits })
    } catch (error) {
      throw new VppError('VPP_ERR_MODBUS_IO', `cannot open ${describe(e)}: ${(error as Error).message}. Check the address, cable and that the device has Modbus enabled.`, {}, { cause: error })
    }
    this.client.setTimeout(this.timeoutMs)
  }

  get isOpen(): boolean {
    return this.client.isOpen
  }

  /** Reads holding registers, split into requests of at most 125 registers. */
  readHolding(unit: number, address: number, length: number): Promise<number[]> {
    return this.exclusive(async () => {
      const words: number[] = []
      for (let at = address; at < address + length; at += MAX_READ_REGISTERS) {
        const count = Math.min(MAX_READ_REGISTERS, address + length - at)
        this.client.setID(unit)
        const { data } = await this.client.readHoldingRegisters(at, count)
        words.push(...data)
      }
      return words
    })
  }

  writeRegisters(unit: number, address: number, values: number[]): Promise<void> {
    return this.exclusive(async () => {
      this.client.setID(unit)
      await this.client.writeRegisters(address, values)
    })
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.client.isOpen) return resolve()
      this.client.close(() => resolve())
    })
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work)
    this.queue = run.catch(() => undefined)
    return run
  }
}

function describe(e: ModbusEndpoint): string {
  return e.transport === 'tcp' ? `tcp://${e.host}:${e.port}` : `rtu://${e.path} at ${e.baudRate} baud`
}
