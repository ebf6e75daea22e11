import { z } from 'zod'
import { VppError } from '../../protocol/errors.ts'

export const modbusUrlSchema = z.discriminatedUnion('transport', [
  z.object({ transport: z.literal('tcp'), host: z.string().min(1), port: z.number().int().min(1).max(65535) }),
  /** RTU frames (with their CRC) over a TCP socket: what serial-to-Ethernet gateways in transparent mode carry. */
  z.object({ transport: z.literal('rtu-over-tcp'), host: z.string().min(1), port: z.number().int().min(1).max(65535) }),
  z.object({
    transport: z.literal('rtu'),
    path: z.string().min(1),
    baudRate: z.number().int().positive(),
    parity: z.enum(['none', 'even', 'odd']),
    dataBits: z.union([z.literal(7), z.literal(8)]),
    stopBits: z.union([z.literal(1), z.literal(2)]),
  }),
])
export type ModbusEndpoint = z.infer<typeof modbusUrlSchema>

/**
 * Parses `tcp://HOST[:PORT]` (default port 502), `rtu:///dev/ttyUSB0?baud=9600&parity=none`, or
 * `rtu+tcp://HOST:PORT` for an RS-485 gateway that passes RTU frames through a TCP socket (no default
 * port: gateways use 4196, 8899, 502 … as configured).
 * @example parseModbusUrl('tcp://192.0.2.10:1502') // { transport: 'tcp', host: '192.0.2.10', port: 1502 }
 */
export function parseModbusUrl(text: string): ModbusEndpoint {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new VppError('VPP_ERR_MODBUS_URL', `"${text}" is not a URL: use tcp://HOST:PORT, rtu:///dev/ttyUSB0?baud=9600 or rtu+tcp://GATEWAY:PORT`)
  }
  const raw =
    url.protocol === 'tcp:'
      ? { transport: 'tcp', host: url.hostname, port: url.port ? Number(url.port) : 502 }
      : url.protocol === 'rtu+tcp:'
        ? { transport: 'rtu-over-tcp', host: url.hostname, port: url.port ? Number(url.port) : undefined }
      : url.protocol === 'rtu:'
        ? {
            transport: 'rtu',
            path: decodeURIComponent(url.pathname),
            baudRate: Number(url.searchParams.get('baud') ?? 9600),
            parity: url.searchParams.get('parity') ?? 'none',
            dataBits: Number(url.searchParams.get('databits') ?? 8),
            stopBits: Number(url.searchParams.get('stopbits') ?? 1),
          }
        : undefined
  if (raw?.transport === 'rtu-over-tcp' && raw.port === undefined) throw new VppError('VPP_ERR_MODBUS_URL', `${text}: give the gateway's port, e.g. rtu+tcp://192.168.1.20:4196`)
  if (!raw) throw new VppError('VPP_ERR_MODBUS_URL', `unsupported scheme "${url.protocol}" in ${text}: use tcp://, rtu:// or rtu+tcp://`)
  const parsed = modbusUrlSchema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new VppError('VPP_ERR_MODBUS_URL', `${text}: ${issue?.path.join('.')} ${issue?.message}`)
  }
  return parsed.data
}
