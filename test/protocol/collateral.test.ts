import { describe, expect, it } from 'vitest'
import { coversOrder, freeBaseUnits, orderHoldBaseUnits } from '../../protocol/collateral.ts'

// Worked by hand: the contract takes a buy at its limit and a sell's imbalance charge, rounded up.
describe('collateral', () => {
  it('holds a buy at its limit and a sell at the imbalance price, rounded up to the base unit', () => {
    expect(orderHoldBaseUnits({ side: 0, energyWh: 333, limitPrice: 100_001 }, 400_000)).toBe(33_301n) // 33,300.333 up
    expect(orderHoldBaseUnits({ side: 1, energyWh: 500, limitPrice: 90_000 }, 400_000)).toBe(200_000n)
  })

  it('leaves free what the escrow holds beyond its open business, never below zero', () => {
    expect(freeBaseUnits(100n, 30n)).toBe(70n)
    expect(freeBaseUnits(30n, 100n)).toBe(0n)
  })

  it('accepts an order whose hold fits exactly in what is free, and not one base unit more', () => {
    expect(coversOrder(100n, 30n, 70n)).toBe(true)
    expect(coversOrder(100n, 30n, 71n)).toBe(false)
    expect(coversOrder(30n, 100n, 0n)).toBe(true)
    expect(coversOrder(30n, 100n, 1n)).toBe(false)
  })
})
