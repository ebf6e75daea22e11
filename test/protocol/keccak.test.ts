import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { keccak256, toHex } from 'viem'
import { keccak256Bytes } from '../../protocol/keccak.ts'

describe('keccak256Bytes', () => {
  it('is Ethereum’s Keccak-256 (known vector) for any length, across block boundaries', () => {
    expect(toHex(keccak256Bytes(new Uint8Array(0)))).toBe('0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470')
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        expect(keccak256Bytes(bytes)).toEqual(keccak_256(bytes))
        expect(toHex(keccak256Bytes(bytes))).toBe(keccak256(bytes))
      }),
    )
  })
})
