import { hashTypedData, type Address, type Hex } from 'viem'
import { cancelTypes, orderDomain, signedCancelSchema, signedOrderSchema, type Order, type SignedCancel, type SignedOrder } from '../../protocol/order.ts'
import { bytesHex, orderDigester } from '../../protocol/order-digest.ts'
import { recoverSigner } from './signatures/recover-signer.ts'
import type { OrderSignature } from './signatures/signature-pool.ts'
import type { RejectReason } from '../../protocol/errors.ts'

/** One digester per chain and contract: the domain separator is computed once. */
const digesters = new Map<string, (order: Order) => Uint8Array>()
function digesterFor(chainId: number, settlement: Address) {
  const key = `${chainId}:${settlement.toLowerCase()}`
  let digester = digesters.get(key)
  if (!digester) digesters.set(key, (digester = orderDigester(chainId, settlement)))
  return digester
}

export type { RejectReason } from '../../protocol/errors.ts'

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
  /**
   * The order's signer (null when malformed or malleable) and its EIP-712 digest, worked out off this
   * thread: a SignaturePool hashes on its workers and batch-verifies owners it knows. When absent, both
   * on the calling thread.
   */
  recoverOrder?: (order: Order, signature: string) => Promise<OrderSignature>
}

export type ValidationResult =
  | { ok: true; hash: Hex; signed: SignedOrder }
  | { ok: false; reason: RejectReason; message: string }

const reject = (reason: RejectReason, message: string): ValidationResult => ({ ok: false, reason, message })

function recoverHere(order: Order, signature: string, ctx: IntakeContext): OrderSignature {
  const digest = digesterFor(ctx.chainId, ctx.settlement)(order)
  return { signer: recoverSigner(digest, signature), digest }
}

/** Recovers who signed a cancellation, or null when the signature is malformed or malleable. */
export function cancelSigner(cancel: SignedCancel, chainId: number, settlement: Address): Address | null {
  const digest = hashTypedData({ domain: orderDomain(chainId, settlement), types: cancelTypes, primaryType: 'Cancel', message: cancel.cancel })
  return recoverSigner(Buffer.from(digest.slice(2), 'hex'), cancel.signature)
}

/** An order request as it arrives (MQTT or HTTP), parsed once: a signed order (maybe replacing one) or a signed cancellation. */
export type OrderRequest = SignedOrder | SignedCancel

export type ParsedRequest = { ok: true; request: OrderRequest } | { ok: false; reason: 'malformed_json' | 'invalid_schema'; message: string }

/**
 * Parses an order request's bytes with the protocol's schemas, once, at the edge where it arrives;
 * everything after works on the typed request. A payload with a `cancel` member is a cancellation.
 */
export function parseOrderRequest(payload: Buffer | string): ParsedRequest {
  let json: unknown
  try {
    json = JSON.parse(payload.toString())
  } catch {
    return { ok: false, reason: 'malformed_json', message: 'payload is not JSON' }
  }
  const isCancel = json !== null && typeof json === 'object' && 'cancel' in json
  const parsed = (isCancel ? signedCancelSchema : signedOrderSchema).safeParse(json)
  if (parsed.success) return { ok: true, request: parsed.data }
  const issue = parsed.error.issues[0]
  return { ok: false, reason: 'invalid_schema', message: `${isCancel ? 'cancel: ' : ''}${issue?.path.join('.') || 'payload'}: ${issue?.message ?? 'invalid'}` }
}

/** `parseOrderRequest` then `validateOrder`, for a payload that must be an order (benchmarks, tools). */
export async function validateOrderPayload(payload: Buffer | string, agentId: string, ctx: IntakeContext): Promise<ValidationResult> {
  const parsed = parseOrderRequest(payload)
  if (!parsed.ok) return reject(parsed.reason, parsed.message)
  if ('cancel' in parsed.request) return reject('invalid_schema', 'a cancellation, not an order')
  return validateOrder(parsed.request, agentId, ctx)
}

/**
 * Checks one parsed order from agent `agentId` against everything the market can know before storing
 * it: the sender's registered address, community, open interval, quantity and price range, and that
 * the EIP-712 signature recovers to the owner. Cheapest checks first.
 */
export async function validateOrder(signed: SignedOrder, agentId: string, ctx: IntakeContext): Promise<ValidationResult> {
  const { order, signature } = signed
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
  // A zero price is refused whatever the floor: the contract refuses it too, and a free sell was the
  // way to drain an imbalance pool (SECURITY.md).
  const floor = Math.max(1, ctx.priceFloor)
  if (order.limitPrice < floor || order.limitPrice > ctx.priceCap) {
    return reject('price_out_of_range', `limitPrice ${order.limitPrice} is outside [${floor}, ${ctx.priceCap}]`)
  }
  const { signer, digest } = ctx.recoverOrder ? await ctx.recoverOrder(order, signature) : recoverHere(order, signature, ctx)
  if (!signer) return reject('bad_signature', 'signature is malformed or malleable (high s, or v not 27/28)')
  if (signer.toLowerCase() !== order.owner.toLowerCase()) return reject('bad_signature', `signature is by ${signer}, not the owner ${order.owner}`)
  return { ok: true, hash: bytesHex(digest), signed }
}
