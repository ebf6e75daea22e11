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
 * Why the market refuses an order, cancellation or replacement (code `VPP_ERR_ORDER_REJECTED`), each
 * with the HTTP status `POST /api/orders` answers it with. Over MQTT the reason is counted
 * (`orders_rejected.{reason}`) and logged.
 */
export const orderRejections = {
  malformed_json: { status: 400, meaning: 'the payload is not JSON' },
  invalid_schema: { status: 400, meaning: 'the payload is not a signed order, replacement or cancellation' },
  energy_out_of_range: { status: 400, meaning: "energy above the market's largest order" },
  price_out_of_range: { status: 400, meaning: "limit price outside the market's price band (zero is never taken)" },
  wrong_community: { status: 400, meaning: 'signed for another community' },
  bad_signature: { status: 403, meaning: 'not signed by the owner (or a malleable signature)' },
  unknown_agent: { status: 403, meaning: 'the sender is not a member' },
  owner_mismatch: { status: 403, meaning: "the owner is not the sending member's address" },
  insufficient_collateral: { status: 402, meaning: 'the escrow does not cover it on top of open orders and unsettled trades' },
  interval_not_open: { status: 409, meaning: 'not for the interval open to orders' },
  duplicate: { status: 409, meaning: 'already accepted' },
  order_cancelled: { status: 409, meaning: 'its nonce was cancelled on chain (cancelUpTo)' },
  unknown_order: { status: 404, meaning: 'no such open order of this owner to cancel or replace' },
  rate_limited: { status: 429, meaning: 'too many orders from this sender; slow down' },
  too_many_orders: { status: 429, meaning: "the agent's open orders for the interval are at the cap" },
} as const satisfies Record<string, { status: number; meaning: string }>

export type RejectReason = keyof typeof orderRejections

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
