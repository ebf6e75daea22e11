import { hashTypedData, recoverTypedDataAddress, type Address, type Hex } from 'viem'
import { orderDomain, orderMessage, orderTypes, signedOrderSchema, type Order, type SignedOrder } from '../../protocol/order.ts'

export type RejectReason =
  | 'malformed_json'
  | 'invalid_schema'
  | 'unknown_agent'
  | 'owner_mismatch'
  | 'wrong_community'
  | 'interval_not_open'
  | 'energy_out_of_range'
  | 'price_out_of_range'
  | 'bad_signature'
  | 'duplicate'
  | 'rate_limited'
  | 'insufficient_collateral'

export interface IntakeContext {
  communityKey: Hex
  openInterval: number
  chainId: number
  settlement: Address
  priceFloor: number
  priceCap: number
  maxOrderWh: number
  /** The address registered for an agent id in this community. */
  addressOf(agentId: string): Address | undefined
}

export type ValidationResult =
  | { ok: true; hash: Hex; signed: SignedOrder }
  | { ok: false; reason: RejectReason; message: string }

const reject = (reason: RejectReason, message: string): ValidationResult => ({ ok: false, reason, message })

/** The EIP-712 digest of an order: what the owner signs and what the contract's `hashOrder` returns. */
export function orderHash(order: Order, chainId: number, settlement: Address): Hex {
  return hashTypedData({ domain: orderDomain(chainId, settlement), types: orderTypes, primaryType: 'Order', message: orderMessage(order) })
}

/**
 * Checks one order payload from agent `agentId` against everything the market can know before storing
 * it: shape (zod), the sender's registered address, community, open interval, quantity and price
 * range, and that the EIP-712 signature recovers to the owner. Cheapest checks first.
 */
export async function validateOrderPayload(payload: Buffer | string, agentId: string, ctx: IntakeContext): Promise<ValidationResult> {
  let json: unknown
  try {
    json = JSON.parse(payload.toString())
  } catch {
    return reject('malformed_json', 'payload is not JSON')
  }
  const parsed = signedOrderSchema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    return reject('invalid_schema', `${issue?.path.join('.') || 'payload'}: ${issue?.message ?? 'invalid'}`)
  }
  const { order, signature } = parsed.data
  const registered = ctx.addressOf(agentId)
  if (!registered) return reject('unknown_agent', `agent ${agentId} is not registered in this community`)
  if (registered.toLowerCase() !== order.owner.toLowerCase()) {
    return reject('owner_mismatch', `agent ${agentId} is registered as ${registered}, not ${order.owner}`)
  }
  if (order.community !== ctx.communityKey.toLowerCase()) return reject('wrong_community', `order is for community ${order.community}`)
  if (order.interval !== ctx.openInterval) {
    return reject('interval_not_open', `interval ${order.interval} is not open (open: ${ctx.openInterval})`)
  }
  if (order.energyWh > ctx.maxOrderWh) return reject('energy_out_of_range', `energyWh ${order.energyWh} exceeds ${ctx.maxOrderWh}`)
  if (order.limitPrice < ctx.priceFloor || order.limitPrice > ctx.priceCap) {
    return reject('price_out_of_range', `limitPrice ${order.limitPrice} is outside [${ctx.priceFloor}, ${ctx.priceCap}]`)
  }
  const domain = orderDomain(ctx.chainId, ctx.settlement)
  let signer: Address
  try {
    signer = await recoverTypedDataAddress({ domain, types: orderTypes, primaryType: 'Order', message: orderMessage(order), signature })
  } catch {
    return reject('bad_signature', 'signature does not recover to any address')
  }
  if (signer.toLowerCase() !== order.owner.toLowerCase()) return reject('bad_signature', `signature is by ${signer}, not the owner ${order.owner}`)
  return { ok: true, hash: orderHash(order, ctx.chainId, ctx.settlement), signed: parsed.data }
}
