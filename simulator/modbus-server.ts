import { ServerSerial, ServerTCP } from '../edge-agent/modbus/modbus-serial.ts'

/** The register callbacks a modbus-serial server answers requests with. */
export type ModbusVector = ConstructorParameters<typeof ServerTCP>[0]
export type ModbusServer = ServerTCP | ServerSerial

/**
 * Starts a modbus-serial server and resolves once it listens: Modbus TCP on `host:port`, or RTU on a
 * serial device path. `unitID` 255 answers every unit id.
 */
export function startModbusServer(vector: ModbusVector, where: { host: string; port: number; unitID: number } | { path: string; baudRate: number; unitID: number }): Promise<ModbusServer> {
  return new Promise((resolve, reject) => {
    const server = 'path' in where ? new ServerSerial(vector, where) : new ServerTCP(vector, where)
    server.on('initialized', () => resolve(server))
    // Both servers are event emitters; only the TCP one's typings declare its error event.
    ;(server as unknown as NodeJS.EventEmitter).on('serverError', (error: Error | null) => reject(error ?? new Error('Modbus server failed')))
  })
}

/** Stops a server, cutting its open TCP connections first so the close does not wait on clients. */
export async function stopModbusServer(server: ModbusServer): Promise<void> {
  if (server instanceof ServerTCP) for (const sock of server.socks.keys()) sock.destroy()
  await new Promise<void>((resolve) => server.close(() => resolve()))
}
