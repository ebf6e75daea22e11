import { z } from 'zod'
import { keccak256, stringToBytes, type Address, type Hex, type TypedDataDomain } from 'viem'

const uint64Safe = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)
export const addressSchema = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 0x-prefixed 20-byte hex address').transform((a) => a as Address)
export const bytes32Schema = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be a 0x-prefixed 32-byte hex value').transform((h) => h.toLowerCase() as Hex)
/** 65-byte r‖s‖v signature. High-s and other malleable forms are refused by the verifier, not here. */
export const signatureSchema = z.string().regex(/^0x[0-9a-fA-F]{130}$/, 'must be a 65-byte hex signature').transform((h) => h as Hex)

export const Side = { buy: 0, sell: 1 } as const

/** The Order struct of docs/architecture.md, as JSON on the wire (uint64 fields as safe integers). */
export const orderSchema = z.object({
  owner: addressSchema,
  community: bytes32Schema,
  interval: uint64Safe,
  side: z.union([z.literal(0), z.literal(1)]),
  energyWh: uint64Safe.min(1),
  limitPrice: uint64Safe,
  nonce: uint64Safe,
})
export type Order = z.infer<typeof orderSchema>

/**
 * One EIP-712 signed order. With `replaces`, it takes the place of an open order of the same owner in
 * one step (the new signature is the owner's consent).
 */
export const signedOrderSchema = z.object({ order: orderSchema, signature: signatureSchema, replaces: bytes32Schema.optional() })
export type SignedOrder = z.infer<typeof signedOrderSchema>

/** A signed cancellation of one open order, by its owner. */
export const signedCancelSchema = z.object({ cancel: z.object({ owner: addressSchema, orderHash: bytes32Schema }), signature: signatureSchema })
export type SignedCancel = z.infer<typeof signedCancelSchema>

/** Payload of `agents/{agentId}/orders` and body of `POST /api/orders`: an order or a cancellation. */
export const orderRequestSchema = z.union([signedOrderSchema, signedCancelSchema])

/** EIP-712 type of a cancellation. */
export const cancelTypes = {
  Cancel: [
    { name: 'owner', type: 'address' },
    { name: 'orderHash', type: 'bytes32' },
  ],
} as const

/** EIP-712 type of an order; field order is the contract's ORDER_TYPEHASH. */
export const orderTypes = {
  Order: [
    { name: 'owner', type: 'address' },
    { name: 'community', type: 'bytes32' },
    { name: 'interval', type: 'uint64' },
    { name: 'side', type: 'uint8' },
    { name: 'energyWh', type: 'uint64' },
    { name: 'limitPrice', type: 'uint64' },
    { name: 'nonce', type: 'uint64' },
  ],
} as const

/**
 * The EIP-712 domain every order is signed under: bound to one chain and one settlement contract,
 * so a signature cannot be replayed elsewhere.
 */
export function orderDomain(chainId: number, verifyingContract: Address): TypedDataDomain {
  return { name: 'OpenVPP', version: '1', chainId, verifyingContract }
}

/** The order as viem's typed-data message (uint64 fields as bigint). */
export function orderMessage(order: Order) {
  return {
    owner: order.owner,
    community: order.community,
    interval: BigInt(order.interval),
    side: order.side,
    energyWh: BigInt(order.energyWh),
    limitPrice: BigInt(order.limitPrice),
    nonce: BigInt(order.nonce),
  }
}

/**
 * The bytes32 key of a community on-chain: keccak256 of its id, so any id fits and none collide in practice.
 * @example communityKey('sunny-street')
 */
export function communityKey(communityId: string): Hex {
  return keccak256(stringToBytes(communityId))
}
