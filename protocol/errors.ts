/**
 * The one catalogue of OpenVPP error codes. Every error the project raises on purpose is a `VppError`
 * with a stable `code`, so logs, metrics and tests can key on the code rather than on message text.
 */
export const errorCodes = {
  VPP_ERR_CONFIG: 'configuration is invalid',
  VPP_ERR_MODBUS_URL: 'Modbus URL is invalid',
  VPP_ERR_MODBUS_IO: 'Modbus request failed',
  VPP_ERR_SUNSPEC_NOT_FOUND: 'no SunSpec marker found',
  VPP_ERR_SUNSPEC_MODEL: 'SunSpec model is malformed or missing',
  VPP_ERR_DEVICE_VALUE: 'device value is out of range',
  VPP_ERR_PAYLOAD: 'message payload is invalid',
  VPP_ERR_ORDER_REJECTED: 'order was rejected',
  VPP_ERR_CONTRACT_BUILD: 'contract compilation failed',
  VPP_ERR_CHAIN: 'chain request failed',
  VPP_ERR_PROCESS: 'child process failed',
  VPP_ERR_MEMBER_EXISTS: 'agent id or address already in use',
  VPP_ERR_NOT_FOUND: 'no such member or request',
  VPP_ERR_UNAUTHORIZED: 'operator credential missing or wrong',
} as const

export type VppErrorCode = keyof typeof errorCodes

/**
 * Base class of every deliberate OpenVPP error: a stable code, a message that says what to do,
 * and structured details for logs.
 *
 * @example
 * throw new VppError('VPP_ERR_CONFIG', 'homes must be between 1 and 500 (got 0)', { key: 'homes' })
 */
export class VppError extends Error {
  readonly code: VppErrorCode
  readonly details: Record<string, unknown>
  constructor(code: VppErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options)
    this.name = 'VppError'
    this.code = code
    this.details = details
  }
}
