import { recoverTypedDataAddress, zeroAddress, type Address, type Hex } from 'viem'
import { meterReadingMessage, meterReadingTypes, signedMeterReadingSchema, type SignedMeterReading } from '../../protocol/meter-reading.ts'
import { orderDomain } from '../../protocol/order.ts'

export type MeterRejectReason = 'malformed_json' | 'invalid_schema' | 'unknown_agent' | 'owner_mismatch' | 'wrong_community' | 'not_delivered_yet' | 'bad_signature'

export interface MeterContext {
  communityKey: Hex
  chainId: number
  settlement: Address
  /** The deployment's meter signer; the zero address means each owner signs its own readings. */
  meterSigner: Address
  intervalSeconds: number
  /** The market's clock, unix seconds: a reading is for an interval that has ended by it. */
  nowSeconds: number
  addressOf(agentId: string): Address | undefined
}

/** How far ahead of the market's clock a home's clock may run. */
const CLOCK_SKEW_SECONDS = 2

export type MeterVerdict = { ok: true; signed: SignedMeterReading } | { ok: false; reason: MeterRejectReason; message: string }

/**
 * Checks a meter reading from `agents/{agentId}/meter` as the contract will: shape, the agent's own
 * address, this community, a finished interval, and the EIP-712 signature of the meter signer.
 */
export async function validateMeterReading(payload: Buffer | string, agentId: string, ctx: MeterContext): Promise<MeterVerdict> {
  let json: unknown
  try {
    json = JSON.parse(payload.toString())
  } catch {
    return { ok: false, reason: 'malformed_json', message: 'meter reading is not JSON' }
  }
  const parsed = signedMeterReadingSchema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    return { ok: false, reason: 'invalid_schema', message: `meter reading: ${issue?.path.join('.')} ${issue?.message}` }
  }
  const { reading, signature } = parsed.data
  const registered = ctx.addressOf(agentId)
  if (!registered) return { ok: false, reason: 'unknown_agent', message: `agent ${agentId} is not registered in this community` }
  if (registered.toLowerCase() !== reading.owner.toLowerCase()) return { ok: false, reason: 'owner_mismatch', message: `agent ${agentId} is registered as ${registered}, not ${reading.owner}` }
  if (reading.community.toLowerCase() !== ctx.communityKey.toLowerCase()) return { ok: false, reason: 'wrong_community', message: 'meter reading is for another community' }
  // By the clock, not by the gate-closure timer, which may fire a moment after an agent's reading
  // arrives; a home's clock may also run a little ahead of the market's.
  if (reading.interval + ctx.intervalSeconds > ctx.nowSeconds + CLOCK_SKEW_SECONDS) return { ok: false, reason: 'not_delivered_yet', message: `interval ${reading.interval} has not ended yet` }
  const signer = ctx.meterSigner === zeroAddress ? reading.owner : ctx.meterSigner
  let recovered: Address
  try {
    recovered = await recoverTypedDataAddress({ domain: orderDomain(ctx.chainId, ctx.settlement), types: meterReadingTypes, primaryType: 'MeterReading', message: meterReadingMessage(reading), signature })
  } catch {
    return { ok: false, reason: 'bad_signature', message: 'meter reading signature cannot be recovered' }
  }
  if (recovered.toLowerCase() !== signer.toLowerCase()) return { ok: false, reason: 'bad_signature', message: `meter reading is not signed by the meter signer ${signer}` }
  return { ok: true, signed: parsed.data }
}
