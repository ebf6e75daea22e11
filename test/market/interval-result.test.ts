import { describe, expect, it } from 'vitest'
import { broadcastResult } from '../../market/service/interval-result.ts'
import { intervalResultSchema, type IntervalResult, type Trade } from '../../protocol/messages.ts'

/** The broker's default packet limit (broker/mqtt-broker.ts DEFAULT_MAX_PACKET_BYTES): a larger message closes the sender. */
const BROKER_PACKET_LIMIT = 256 * 1024

// The longest a trade can be: every number at 2^53 − 1, a node name of 64 characters.
const widest: Trade = {
  interval: 2 ** 40,
  buyer: `0x${'a'.repeat(40)}`,
  seller: `0x${'b'.repeat(40)}`,
  buyOrder: `0x${'c'.repeat(64)}`,
  sellOrder: `0x${'d'.repeat(64)}`,
  energyWh: Number.MAX_SAFE_INTEGER,
  price: Number.MAX_SAFE_INTEGER,
  sellerPrice: Number.MAX_SAFE_INTEGER,
  node: 'n'.repeat(64),
}
const resultWith = (trades: number): IntervalResult => ({
  community: 'street',
  interval: 2 ** 40,
  clearingPrice: 1,
  volumeWh: 1,
  bestBid: 1,
  bestAsk: 1,
  orders: 2 * trades,
  trades: Array.from({ length: trades }, () => widest),
  nodes: [],
  congested: [],
  settlement: { status: 'pending', tx: null, error: null },
})

describe('an interval result as broadcast (MQTT, socket.io, GET /api/intervals)', () => {
  it('carries 500 of the widest trades whole, and under the broker packet limit', () => {
    const result = resultWith(500)
    const sent = broadcastResult(result)
    expect(sent.trades).toHaveLength(500)
    expect(sent.tradesOmitted).toBeUndefined()
    expect(Buffer.byteLength(JSON.stringify(sent))).toBeLessThan(BROKER_PACKET_LIMIT)
  })

  it('leaves out the trades of a larger interval and says how many, still a valid result', () => {
    const sent = broadcastResult(resultWith(501))
    expect(sent).toMatchObject({ trades: [], tradesOmitted: 501, orders: 1002 })
    expect(intervalResultSchema.safeParse(sent).success).toBe(true)
  })
})
