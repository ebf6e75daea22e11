import { describe, expect, it } from 'vitest'
import { buyerPaysBaseUnits, buyerPaysBaseUnitsNumber, intervalStart, parseDurationSeconds, sellerReceivesBaseUnits, sellerReceivesBaseUnitsNumber, energyWhFromPower } from '../../protocol/units.ts'
import { signedOrderSchema, communityKey } from '../../protocol/order.ts'
import { snapshotSchema } from '../../protocol/snapshot.ts'
import { marketStateSchema, telemetrySchema } from '../../protocol/messages.ts'
import { parseAgentTopic, topics } from '../../protocol/topics.ts'

const validOrder = {
  order: {
    owner: '0x1111111111111111111111111111111111111111',
    community: communityKey('street'),
    interval: 1_800_000_000,
    side: 1,
    energyWh: 500,
    limitPrice: 120_000,
    nonce: 7,
  },
  signature: `0x${'ab'.repeat(65)}`,
}

describe('units', () => {
  it('rounds the same on plain numbers, up to 2^53', () => {
    expect([buyerPaysBaseUnitsNumber(3, 333_333), sellerReceivesBaseUnitsNumber(3, 333_333)]).toEqual([1000, 999])
    expect([buyerPaysBaseUnitsNumber(1000, 250_000), sellerReceivesBaseUnitsNumber(1000, 250_000)]).toEqual([250_000, 250_000])
    // At the top of the exact range, a thousandth either side of a whole number still rounds the right way.
    expect(buyerPaysBaseUnitsNumber(9_007_199_254_740_001, 1)).toBe(9_007_199_254_741)
    expect(sellerReceivesBaseUnitsNumber(9_007_199_254_739_999, 1)).toBe(9_007_199_254_739)
    for (let k = 0; k < 2000; k++) {
      const wh = Math.floor(Math.random() * 10_000_000)
      const price = Math.floor(Math.random() * 900_000_000)
      expect(BigInt(buyerPaysBaseUnitsNumber(wh, price)), `${wh} × ${price}`).toBe(buyerPaysBaseUnits(BigInt(wh), BigInt(price)))
      expect(BigInt(sellerReceivesBaseUnitsNumber(wh, price)), `${wh} × ${price}`).toBe(sellerReceivesBaseUnits(BigInt(wh), BigInt(price)))
    }
  })

  it('rounds the buyer up and the seller down (docs/architecture.md)', () => {
    expect(buyerPaysBaseUnits(3n, 333_333n)).toBe(1000n)
    expect(sellerReceivesBaseUnits(3n, 333_333n)).toBe(999n)
    expect(buyerPaysBaseUnits(1000n, 250_000n)).toBe(250_000n)
    expect(sellerReceivesBaseUnits(1000n, 250_000n)).toBe(250_000n)
  })
  it('converts power over time into whole Wh', () => {
    expect(energyWhFromPower(2000, 900)).toBe(500)
    expect(energyWhFromPower(1000, 15)).toBe(4)
  })
  it('parses durations and refuses nonsense with a hint', () => {
    expect(parseDurationSeconds('15s')).toBe(15)
    expect(parseDurationSeconds('15m')).toBe(900)
    expect(parseDurationSeconds('2')).toBe(2)
    expect(() => parseDurationSeconds('soon')).toThrow(/e\.g\. 15s/)
  })
  it('aligns intervals to their length', () => {
    expect(intervalStart(1_000_007, 15)).toBe(1_000_005)
    expect(intervalStart(1_000_005, 15)).toBe(1_000_005)
  })
})

describe('schemas', () => {
  it('accepts a well-formed signed order', () => {
    expect(signedOrderSchema.parse(validOrder).order.energyWh).toBe(500)
  })
  it.each([
    ['a float energy', { energyWh: 1.5 }],
    ['zero energy', { energyWh: 0 }],
    ['a negative price', { limitPrice: -1 }],
    ['side 2', { side: 2 }],
    ['a short owner', { owner: '0x1234' }],
    ['an unsafe integer nonce', { nonce: 2 ** 60 }],
  ])('rejects an order with %s', (_label, patch) => {
    expect(signedOrderSchema.safeParse({ ...validOrder, order: { ...validOrder.order, ...patch } }).success).toBe(false)
  })
  it('rejects telemetry without samples and snapshots with absurd power', () => {
    expect(telemetrySchema.safeParse({ seq: 1, samples: [] }).success).toBe(false)
    const snapshot = {
      device: { manufacturer: null, model: null, serial: null, version: null },
      inverter_ac_w: null, pv_w: 50_000_000, grid_w: null, battery_w: null, battery_soc_pct: null, load_w: null,
      energy: { pv_total_wh: null, grid_import_wh: null, grid_export_wh: null },
      models: [], ts: new Date().toISOString(),
    }
    expect(snapshotSchema.safeParse(snapshot).success).toBe(false)
    expect(snapshotSchema.safeParse({ ...snapshot, pv_w: 5000 }).success).toBe(true)
  })
  it('rejects a market state without a settlement address', () => {
    expect(marketStateSchema.safeParse({ community: 'x' }).success).toBe(false)
  })
})

describe('topics', () => {
  it('builds and parses agent topics', () => {
    const t = topics.agent('street', 'home-01', 'orders')
    expect(t).toBe('vpp/v1/street/agents/home-01/orders')
    expect(parseAgentTopic(t)).toEqual({ community: 'street', agentId: 'home-01', channel: 'orders' })
    expect(parseAgentTopic('vpp/v1/street/market/state')).toBeNull()
  })
})
