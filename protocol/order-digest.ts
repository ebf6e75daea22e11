import { keccak256Bytes as keccak_256 } from './keccak.ts'
import type { Address, Hex } from 'viem'
import type { Order } from './order.ts'

const encoder = new TextEncoder()
const ORDER_TYPEHASH = keccak_256(encoder.encode('Order(address owner,bytes32 community,uint64 interval,uint8 side,uint64 energyWh,uint64 limitPrice,uint64 nonce)'))
const DOMAIN_TYPEHASH = keccak_256(encoder.encode('EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)'))

/**
 * The EIP-712 digest of an Order, specialised for this one struct: the same bytes as viem's
 * `hashTypedData` and the contract's `hashOrder`, without a generic encoder (EIP-712 §"Specification
 * of the eth_signTypedData JSON RPC": `keccak256("\x19\x01" ‖ domainSeparator ‖ hashStruct(order))`).
 *
 * @example
 * const digest = orderDigester(31337, settlement)
 * digest(order) // Uint8Array(32)
 */
export function orderDigester(chainId: number, verifyingContract: Address): (order: Order) => Uint8Array {
  const domain = new Uint8Array(5 * 32)
  domain.set(DOMAIN_TYPEHASH, 0)
  domain.set(keccak_256(encoder.encode('OpenVPP')), 32)
  domain.set(keccak_256(encoder.encode('1')), 64)
  writeUint64(new DataView(domain.buffer), 96, chainId)
  domain.set(hexBytes(verifyingContract), 128 + 12)
  const separator = keccak_256(domain)

  // Reused for every order: only the field bytes are rewritten, so the zero padding stays zero.
  const struct = Buffer.alloc(8 * 32)
  const view = new DataView(struct.buffer, struct.byteOffset, struct.length)
  struct.set(ORDER_TYPEHASH, 0)
  const message = new Uint8Array(2 + 32 + 32)
  message[0] = 0x19
  message[1] = 0x01
  message.set(separator, 2)
  return (order) => {
    // Hex straight into place: no intermediate buffers per order (this runs for every order on intake).
    if (struct.write(order.owner.slice(2), 32 + 12, 20, 'hex') !== 20 || struct.write(order.community.slice(2), 64, 32, 'hex') !== 32) {
      throw new TypeError('orderDigester: owner must be 20 and community 32 bytes of hex')
    }
    writeUint64(view, 96, order.interval)
    writeUint64(view, 128, order.side)
    writeUint64(view, 160, order.energyWh)
    writeUint64(view, 192, order.limitPrice)
    writeUint64(view, 224, order.nonce)
    message.set(keccak_256(struct), 34)
    return keccak_256(message)
  }
}

/** The low 8 bytes of the big-endian uint256 at `offset` (the schemas bound every value to 2^53). */
function writeUint64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset + 24, Math.floor(value / 2 ** 32))
  view.setUint32(offset + 28, value >>> 0)
}

export function hexBytes(hex: Hex | string): Uint8Array {
  return Buffer.from(hex.slice(2), 'hex')
}

export function bytesHex(bytes: Uint8Array): Hex {
  return `0x${Buffer.from(bytes).toString('hex')}`
}
