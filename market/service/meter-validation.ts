import { hashTypedData, zeroAddress, type Address, type Hex } from 'viem'
import { meterReadingMessage, meterReadingTypes, signedMeterReadingSchema, type SignedMeterReading } from '../../protocol/meter-reading.ts'
import { orderDomain } from '../../protocol/order.ts'
import { recoverSigner } from './signatures/recover-signer.ts'

export type MeterRejectReason =
  | 'rate_limited'
  | 'malformed_json'
  | 'invalid_schema'
  | 'unknown_agent'
  | 'owner_mismatch'
  | 'wrong_community'
  | 'not_aligned'
  | 'not_delivered_yet'
  | 'not_settling'
  | 'not_a_seller'
  | 'duplicate'
  | 'bad_signature'

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
  /** Takes one reading from the agent's rate limit; false when it is spent. */
  allow?: () => boolean
  /**
   * Whether the market wants this reading at all, asked before the signature is checked: the
   * interval must still be settling, the owner must have sold in it, and have no reading yet.
   */
  expected?: (interval: number, owner: Address) => 'ok' | 'not_settling' | 'not_a_seller' | 'duplicate'
  /** Recovers a digest's signer off this thread (the signature pool); on this thread when absent. */
  recover?: (digest: Uint8Array, signature: string, claimed: Address) => Promise<Address | null>
}

/** How far ahead of the market's clock a home's clock may run. */
const CLOCK_SKEW_SECONDS = 2

export type MeterVerdict = { ok: true; signed: SignedMeterReading } | { ok: false; reason: MeterRejectReason; message: string }

/**
 * Checks a meter reading from `agents/{agentId}/meter` as the contract will: shape, the agent's own
 * address, this community, a finished interval, and the EIP-712 signature of the meter signer.
 */
export async function validateMeterReading(payload: Buffer | string, agentId: string, ctx: MeterContext): Promise<MeterVerdict> {
  if (ctx.allow && !ctx.allow()) return { ok: false, reason: 'rate_limited', message: 'too many meter readings; one per interval is expected' }
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
  if (reading.interval % ctx.intervalSeconds !== 0) return { ok: false, reason: 'not_aligned', message: `interval ${reading.interval} is not a multiple of ${ctx.intervalSeconds} s` }
  // By the clock, not by the gate-closure timer, which may fire a moment after an agent's reading
  // arrives; a home's clock may also run a little ahead of the market's.
  if (reading.interval + ctx.intervalSeconds > ctx.nowSeconds + CLOCK_SKEW_SECONDS) return { ok: false, reason: 'not_delivered_yet', message: `interval ${reading.interval} has not ended yet` }
  const wanted = ctx.expected?.(reading.interval, reading.owner) ?? 'ok'
  if (wanted !== 'ok') return { ok: false, reason: wanted, message: wantedMessage[wanted] }
  const signer = ctx.meterSigner === zeroAddress ? reading.owner : ctx.meterSigner
  const digest = hashTypedData({ domain: orderDomain(ctx.chainId, ctx.settlement), types: meterReadingTypes, primaryType: 'MeterReading', message: meterReadingMessage(reading) })
  // The project's recovery refuses a malleable (high-s) signature exactly as the contract does, so a
  // reading accepted here can never make a settlement revert.
  const digestBytes = Buffer.from(digest.slice(2), 'hex')
  const recovered = ctx.recover ? await ctx.recover(digestBytes, signature, signer) : recoverSigner(digestBytes, signature)
  if (!recovered) return { ok: false, reason: 'bad_signature', message: 'meter reading signature is malformed or malleable (high s, or v not 27/28)' }
  if (recovered.toLowerCase() !== signer.toLowerCase()) return { ok: false, reason: 'bad_signature', message: `meter reading is not signed by the meter signer ${signer}` }
  return { ok: true, signed: parsed.data }
}

const wantedMessage = {
  not_settling: 'no unsettled interval of this market matches the reading',
  not_a_seller: 'the owner sold nothing in that interval: only sellers’ readings are used',
  duplicate: 'a reading of this owner for that interval is already stored (the first stands)',
} as const
