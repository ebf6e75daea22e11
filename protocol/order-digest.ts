import { keccak256Bytes as keccak_256 } from './keccak.ts'
import type { Address, Hex } from 'viem'
import type { Order } from './order.ts'

const encoder = new TextEncoder()
const ORDER_TYPEHASH = keccak_256(encoder.encode('Order(address owner,bytes32 community,uint64 interval,uint8 side,uint64 energyWh,uint64 limitPrice,uint64 nonce)'))
const DOMAIN_TYPEHASH = keccak_256(encoder.encode('EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)'))

/** Bytes of an Order's `hashStruct` input: the type hash and seven 32-byte fields. */
export const ORDER_STRUCT_BYTES = 8 * 32

/**
 * The first 34 bytes of the message whose Keccak-256 is an order's digest: 0x19 0x01 and the domain
 * separator of (chain, settlement contract). Computed once per market.
 *
 * @example
 * const prefix = digestPrefix(31337, settlement) // Uint8Array(34)
 */
export function digestPrefix(chainId: number, verifyingContract: Address): Uint8Array {
  const domain = Buffer.alloc(5 * 32)
  domain.set(DOMAIN_TYPEHASH, 0)
  domain.set(keccak_256(encoder.encode('OpenVPP')), 32)
  domain.set(keccak_256(encoder.encode('1')), 64)
  writeUint64(domain, 96, chainId)
  domain.set(hexBytes(verifyingContract), 128 + 12)
  const prefix = new Uint8Array(34)
  prefix[0] = 0x19
  prefix[1] = 0x01
  prefix.set(keccak_256(domain), 2)
  return prefix
}

/**
 * Writes the `hashStruct` input of `order` (ORDER_STRUCT_BYTES) at `offset` in `out`, hex straight into
 * place: this runs for every order on intake.
 *
 * @example
 * encodeOrderStruct(order, Buffer.alloc(ORDER_STRUCT_BYTES), 0)
 */
export function encodeOrderStruct(order: Order, out: Buffer, offset: number): void {
  out.fill(0, offset, offset + ORDER_STRUCT_BYTES)
  out.set(ORDER_TYPEHASH, offset)
  if (out.write(order.owner.slice(2), offset + 32 + 12, 20, 'hex') !== 20 || out.write(order.community.slice(2), offset + 64, 32, 'hex') !== 32) {
    throw new TypeError('encodeOrderStruct: owner must be 20 and community 32 bytes of hex')
  }
  writeUint64(out, offset + 96, order.interval)
  writeUint64(out, offset + 128, order.side)
  writeUint64(out, offset + 160, order.energyWh)
  writeUint64(out, offset + 192, order.limitPrice)
  writeUint64(out, offset + 224, order.nonce)
}

// Reused: the digest's message is hashed at once, so one buffer serves every call on a thread.
const message = new Uint8Array(2 + 32 + 32)

/**
 * An order's EIP-712 digest from its encoded struct: `keccak256(prefix ‖ keccak256(struct))` (EIP-712
 * §"Specification of the eth_signTypedData JSON RPC").
 *
 * @example
 * digestOfStruct(struct, digestPrefix(31337, settlement)) // Uint8Array(32)
 */
export function digestOfStruct(struct: Uint8Array, prefix: Uint8Array): Uint8Array {
  message.set(prefix, 0)
  message.set(keccak_256(struct), 34)
  return keccak_256(message)
}

/**
 * The EIP-712 digest of an Order, specialised for this one struct: the same bytes as viem's
 * `hashTypedData` and the contract's `hashOrder`, without a generic encoder.
 *
 * @example
 * const digest = orderDigester(31337, settlement)
 * digest(order) // Uint8Array(32)
 */
export function orderDigester(chainId: number, verifyingContract: Address): (order: Order) => Uint8Array {
  const prefix = digestPrefix(chainId, verifyingContract)
  const struct = Buffer.alloc(ORDER_STRUCT_BYTES)
  return (order) => {
    encodeOrderStruct(order, struct, 0)
    return digestOfStruct(struct, prefix)
  }
}

/** The low 8 bytes of the big-endian uint256 at `offset` (the schemas bound every value to 2^53). */
function writeUint64(out: Buffer, offset: number, value: number): void {
  out.writeUInt32BE(Math.floor(value / 2 ** 32), offset + 24)
  out.writeUInt32BE(value >>> 0, offset + 28)
}

export function hexBytes(hex: Hex | string): Uint8Array {
  return Buffer.from(hex.slice(2), 'hex')
}

export function bytesHex(bytes: Uint8Array): Hex {
  // A view, not Buffer.from(bytes), which would copy them first.
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`
}
