import { ModbusRTU } from './modbus-serial.ts'
import { VppError } from '../../protocol/errors.ts'
import type { ModbusEndpoint } from './modbus-url.ts'

/** Largest read a Modbus PDU allows: 125 holding registers (Modbus Application Protocol 6.3). */
export const MAX_READ_REGISTERS = 125

/** Modbus exceptions worth asking again (Modbus Application Protocol v1.1b3, 7): the device or the gateway in front of it is busy, not broken. */
const RETRYABLE_EXCEPTIONS = new Set([
  0x06, // SERVER DEVICE BUSY
  0x0a, // GATEWAY PATH UNAVAILABLE
  0x0b, // GATEWAY TARGET DEVICE FAILED TO RESPOND
])

export interface ModbusLinkOptions {
  /** How long one request may take. */
  timeoutMs?: number
  /** Pause between two requests on the link: some RS-485 devices and gateways need it. */
  interRequestDelayMs?: number
  /** Pause after opening the link before the first request: some devices answer only after it. */
  warmupMs?: number
  /** Attempts for a request the device answers with a busy or gateway exception. */
  busyAttempts?: number
  /** First wait before asking a busy device again; doubled each time. */
  busyDelayMs?: number
}

/**
 * One Modbus link (a TCP connection or a serial line). Requests are queued so exactly one is in
 * flight, as RS-485 and most TCP gateways require; each has a timeout; a busy device or gateway
 * (exceptions 6, 0x0A, 0x0B) is asked again after a growing pause.
 */
export class ModbusLink {
  private readonly client = new ModbusRTU()
  private queue: Promise<unknown> = Promise.resolve()
  private lastRequestAt = 0
  private readonly options: Required<ModbusLinkOptions>
  /** Requests answered with a retryable exception and asked again, since the link was made. */
  retries = 0

  constructor(
    readonly endpoint: ModbusEndpoint,
    options: ModbusLinkOptions | number = {},
  ) {
    const given = typeof options === 'number' ? { timeoutMs: options } : options
    this.options = { timeoutMs: 2000, interRequestDelayMs: 0, warmupMs: 0, busyAttempts: 4, busyDelayMs: 100, ...given }
  }

  async connect(): Promise<void> {
    const e = this.endpoint
    try {
      if (e.transport === 'tcp') await this.client.connectTCP(e.host, { port: e.port })
      // modbus-serial's "telnet" port writes and reads raw RTU frames on a TCP socket.
      else if (e.transport === 'rtu-over-tcp') await this.client.connectTelnet(e.host, { port: e.port })
      else await this.client.connectRTUBuffered(e.path, { baudRate: e.baudRate, parity: e.parity, dataBits: e.dataBits, stopBits: e.stopBits })
    } catch (error) {
      throw new VppError('VPP_ERR_MODBUS_IO', `cannot open ${describeModbusEndpoint(e)}: ${(error as Error).message}. Check the address, cable and that the device has Modbus enabled.`, {}, { cause: error })
    }
    this.client.setTimeout(this.options.timeoutMs)
    if (this.options.warmupMs > 0) await sleep(this.options.warmupMs)
  }

  get isOpen(): boolean {
    return this.client.isOpen
  }

  /** Reads holding registers (function 3), split into requests of at most 125 registers. */
  readHolding(unit: number, address: number, length: number): Promise<number[]> {
    return this.readRegisters('holding', unit, address, length)
  }

  /** Reads input registers (function 4), split the same way. */
  readInput(unit: number, address: number, length: number): Promise<number[]> {
    return this.readRegisters('input', unit, address, length)
  }

  writeRegisters(unit: number, address: number, values: number[]): Promise<void> {
    return this.exclusive(async () => {
      await this.request(() => {
        this.client.setID(unit)
        return this.client.writeRegisters(address, values)
      })
    })
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.client.isOpen) return resolve()
      this.client.close(() => resolve())
    })
  }

  private readRegisters(fn: 'holding' | 'input', unit: number, address: number, length: number): Promise<number[]> {
    return this.exclusive(async () => {
      const words: number[] = []
      for (let at = address; at < address + length; at += MAX_READ_REGISTERS) {
        const count = Math.min(MAX_READ_REGISTERS, address + length - at)
        const { data } = await this.request(() => {
          this.client.setID(unit)
          return fn === 'holding' ? this.client.readHoldingRegisters(at, count) : this.client.readInputRegisters(at, count)
        })
        words.push(...data)
      }
      return words
    })
  }

  /** One request on the wire: spaced from the last, asked again while the device says it is busy. */
  private async request<T>(send: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const wait = this.lastRequestAt + this.options.interRequestDelayMs - Date.now()
      if (wait > 0) await sleep(wait)
      try {
        return await send()
      } catch (error) {
        const code = (error as { modbusCode?: number }).modbusCode
        if (code === undefined || !RETRYABLE_EXCEPTIONS.has(code) || attempt >= this.options.busyAttempts) throw error
        this.retries++
        await sleep(this.options.busyDelayMs * 2 ** (attempt - 1))
      } finally {
        this.lastRequestAt = Date.now()
      }
    }
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work)
    this.queue = run.catch(() => undefined)
    return run
  }
}

/** The endpoint as the user would write it, for messages. */
export function describeModbusEndpoint(e: ModbusEndpoint): string {
  return e.transport === 'tcp' ? `tcp://${e.host}:${e.port}` : e.transport === 'rtu-over-tcp' ? `rtu+tcp://${e.host}:${e.port}` : `rtu://${e.path} at ${e.baudRate} baud`
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
