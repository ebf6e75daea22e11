import { createRequire } from 'node:module'
import type { ServerSerial as ServerSerialClass, ServerTCP as ServerTCPClass } from 'modbus-serial'

// modbus-serial is CommonJS with `module.exports = ModbusRTU`; its typings describe an ES default
// export, which Node's ESM loader does not produce. Loading it through require keeps both honest.
type ModbusRTUModule = typeof import('modbus-serial')['default']
type ModbusRTUClass = ModbusRTUModule extends { default: infer C } ? C : ModbusRTUModule

const require = createRequire(import.meta.url)
const loaded = require('modbus-serial') as ModbusRTUClass & { ServerTCP: typeof ServerTCPClass; ServerSerial: typeof ServerSerialClass }

export const ModbusRTU = loaded
export type ModbusRTU = InstanceType<ModbusRTUClass>
export const ServerTCP = loaded.ServerTCP
export type ServerTCP = ServerTCPClass
export const ServerSerial = loaded.ServerSerial
export type ServerSerial = ServerSerialClass
