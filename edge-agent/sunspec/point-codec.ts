import type { SunSpecPointType } from './sunspec-types.ts'

/** A raw point value: number (or bigint for 64-bit types), string, or null for "not implemented". */
export type RawPointValue = number | bigint | string | null

/**
 * Decodes one point from its registers (big-endian words, SunSpec Information Model Specification
 * "Point types"), mapping each type's "not implemented" sentinel to null.
 */
export function decodePoint(type: SunSpecPointType, regs: ArrayLike<number>, at: number, size: number): RawPointValue {
  const u16 = (i: number) => regs[at + i]! & 0xffff
  const u32 = () => ((u16(0) << 16) >>> 0) + u16(1)
  const u64 = () => (BigInt(u16(0)) << 48n) | (BigInt(u16(1)) << 32n) | (BigInt(u16(2)) << 16n) | BigInt(u16(3))
  switch (type) {
    case 'int16':
    case 'sunssf': {
      const v = u16(0)
      if (v === 0x8000) return null
      return v >= 0x8000 ? v - 0x10000 : v
    }
    case 'uint16':
    case 'enum16':
    case 'bitfield16':
      return u16(0) === 0xffff ? null : u16(0)
    case 'count':
      return u16(0)
    case 'acc16':
      return u16(0) === 0 ? null : u16(0)
    case 'pad':
      return null
    case 'int32': {
      const v = u32()
      if (v === 0x80000000) return null
      return v >= 0x80000000 ? v - 0x100000000 : v
    }
    case 'uint32':
    case 'enum32':
    case 'bitfield32':
    case 'ipaddr':
      return u32() === 0xffffffff ? null : u32()
    case 'acc32':
      return u32() === 0 ? null : u32()
    case 'float32': {
      const view = new DataView(new ArrayBuffer(4))
      view.setUint16(0, u16(0))
      view.setUint16(2, u16(1))
      const f = view.getFloat32(0)
      return Number.isFinite(f) ? f : null
    }
    case 'int64': {
      const v = BigInt.asIntN(64, u64())
      return v === -(2n ** 63n) ? null : v
    }
    case 'uint64':
      return u64() === 0xffffffffffffffffn ? null : u64()
    case 'acc64':
      return u64() === 0n ? null : u64()
    case 'float64': {
      const view = new DataView(new ArrayBuffer(8))
      for (let i = 0; i < 4; i++) view.setUint16(i * 2, u16(i))
      const f = view.getFloat64(0)
      return Number.isFinite(f) ? f : null
    }
    case 'string':
    case 'ipv6addr':
    case 'eui48': {
      let text = ''
      for (let i = 0; i < size; i++) {
        const w = u16(i)
        text += String.fromCharCode(w >> 8, w & 0xff)
      }
      // Strings are NUL-padded; an all-NUL string is "not implemented".
      const trimmed = text.replace(/\0.*$/s, '').trim()
      return trimmed === '' ? null : trimmed
    }
  }
}

/** Encodes one point into `size` registers; null writes the type's "not implemented" sentinel. */
export function encodePoint(type: SunSpecPointType, value: RawPointValue, size: number): number[] {
  if (value === null) return notImplementedRegisters(type, size)
  switch (type) {
    case 'string':
    case 'ipv6addr':
    case 'eui48': {
      const bytes = Buffer.alloc(size * 2)
      bytes.write(String(value).slice(0, size * 2), 'latin1')
      return Array.from({ length: size }, (_, i) => bytes.readUInt16BE(i * 2))
    }
    case 'float32': {
      const view = new DataView(new ArrayBuffer(4))
      view.setFloat32(0, Number(value))
      return [view.getUint16(0), view.getUint16(2)]
    }
    case 'float64': {
      const view = new DataView(new ArrayBuffer(8))
      view.setFloat64(0, Number(value))
      return [0, 2, 4, 6].map((o) => view.getUint16(o))
    }
    default: {
      const bits = BigInt(size * 16)
      const v = BigInt.asUintN(Number(bits), BigInt(value))
      return Array.from({ length: size }, (_, i) => Number((v >> BigInt((size - 1 - i) * 16)) & 0xffffn))
    }
  }
}

function notImplementedRegisters(type: SunSpecPointType, size: number): number[] {
  switch (type) {
    case 'int16':
    case 'sunssf':
      return [0x8000]
    case 'int32':
      return [0x8000, 0]
    case 'int64':
      return [0x8000, 0, 0, 0]
    case 'float32':
      return [0x7fc0, 0]
    case 'float64':
      return [0x7ff8, 0, 0, 0]
    case 'acc16':
    case 'acc32':
    case 'acc64':
    case 'count':
    case 'pad':
    case 'string':
    case 'ipv6addr':
    case 'eui48':
      return new Array<number>(size).fill(0)
    default:
      return new Array<number>(size).fill(0xffff)
  }
}
