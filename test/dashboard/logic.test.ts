import { describe, expect, it } from 'vitest'
import type { AgentView, TradeView } from '../../protocol/api.ts'
import type { IntervalResult } from '../../protocol/messages.ts'
import { supplyDemandCurves } from '../../dashboard/src/logic/curves.ts'
import { homeEconomics } from '../../dashboard/src/logic/economics.ts'
import { homeFlows, neighbourShare, partnersOf } from '../../dashboard/src/logic/flows.ts'
import { gridLoading } from '../../dashboard/src/logic/grid-loading.ts'

const A = '0x00000000000000000000000000000000000000aa'
const B = '0x00000000000000000000000000000000000000bb'
const C = '0x00000000000000000000000000000000000000cc'
const agent = (agentId: string, address: string): AgentView => ({ agentId, address: address as `0x${string}`, online: true, session: 1, lastSeen: null, snapshot: null, node: 'tx-a' })
const trade = (seller: string, buyer: string, energyWh: number, price: number, sellerPrice = price): TradeView => ({
  interval: 1_800_000_000,
  buyer: buyer as `0x${string}`,
  seller: seller as `0x${string}`,
  buyOrder: `0x${'1'.repeat(64)}`,
  sellOrder: `0x${'2'.repeat(64)}`,
  energyWh,
  price,
  sellerPrice,
  node: 'tx-a',
  settlementTx: null,
  settlementStatus: 'pending',
  buyerAgent: null,
  sellerAgent: null,
})
const result = (interval: number, patch: Partial<IntervalResult> = {}): IntervalResult => ({
  community: 'street', interval, clearingPrice: 150_000, volumeWh: 0, bestBid: null, bestAsk: null, orders: 0, trades: [], nodes: [], congested: [],
  settlement: { status: 'nothing', tx: null, error: null }, ...patch,
})

describe('dashboard logic', () => {
  it('builds cumulative demand (highest bid first) and supply (lowest ask first) curves', () => {
    const { demand, supply } = supplyDemandCurves([
      { side: 0, energyWh: 30, limitPrice: 200_000 },
      { side: 1, energyWh: 40, limitPrice: 120_000 },
      { side: 0, energyWh: 20, limitPrice: 250_000 },
      { side: 1, energyWh: 10, limitPrice: 90_000 },
    ])
    expect(demand).toEqual([{ fromWh: 0, toWh: 20, price: 250_000 }, { fromWh: 20, toWh: 50, price: 200_000 }])
    expect(supply).toEqual([{ fromWh: 0, toWh: 10, price: 90_000 }, { fromWh: 10, toWh: 50, price: 120_000 }])
  })

  it("computes a home's earnings and savings against the utility with the contract's rounding", () => {
    const trades = [trade(A, B, 7, 333_333, 323_333), trade(C, A, 3, 250_000)]
    const econ = homeEconomics(trades, A, { feedInPrice: 80_000, retailPrice: 300_000 })
    // Sold 7 Wh at 0.323333/kWh: floor(2263.331) = 2263; feed-in would pay floor(560) = 560.
    // Bought 3 Wh at 0.25/kWh: ceil(750) = 750; retail would cost ceil(900) = 900.
    expect(econ).toEqual({ soldWh: 7, boughtWh: 3, earned: 2263, paid: 750, extraVsFeedIn: 2263 - 560, savedVsRetail: 900 - 750 })
    expect(homeEconomics(trades, A, undefined)).toMatchObject({ extraVsFeedIn: 0, savedVsRetail: 0 })
  })

  it('sums flows per seller and buyer home, largest first, and names partners both ways', () => {
    const r = result(1, { trades: [trade(A, B, 5, 1), trade(A, B, 7, 1), trade(C, B, 20, 1)].map(({ settlementTx: _t, settlementStatus: _s, buyerAgent: _b, sellerAgent: _a, ...t }) => t) })
    const flows = homeFlows(r, [agent('home-a', A), agent('home-b', B), agent('home-c', C)])
    expect(flows).toEqual([{ from: 'home-c', to: 'home-b', energyWh: 20 }, { from: 'home-a', to: 'home-b', energyWh: 12 }])
    expect(Object.fromEntries(partnersOf(flows))).toEqual({ 'home-a': ['home-b'], 'home-b': ['home-a', 'home-c'], 'home-c': ['home-b'] })
  })

  it("gives the share of today's demand that neighbours met", () => {
    const midnight = 1_800_000_000
    const intervals = [result(midnight - 900, { volumeWh: 999, demandWh: 1000 }), result(midnight, { volumeWh: 30, demandWh: 100 }), result(midnight + 900, { volumeWh: 20, demandWh: 100 })]
    expect(neighbourShare(intervals, midnight)).toBe(0.25)
    expect(neighbourShare([result(midnight)], midnight)).toBeNull()
  })

  it("loads each line against its limit in its busier direction, flagging congestion", () => {
    const topology = [
      { id: 'feeder', parent: null, level: 'feeder' as const, capacityKw: null, feePerKwh: 10_000 },
      { id: 'tx-b', parent: 'feeder', level: 'transformer' as const, capacityKw: 1, feePerKwh: 0 },
      { id: 'tx-a', parent: 'feeder', level: 'transformer' as const, capacityKw: 1, feePerKwh: 0 },
    ]
    const r = result(1, { congested: ['tx-b'], links: [{ node: 'tx-a', capacityWh: 250, upWh: 50, downWh: 125 }, { node: 'tx-b', capacityWh: 250, upWh: 250, downWh: 0 }] })
    expect(gridLoading(topology, r)).toEqual([
      { node: 'tx-a', level: 'transformer', capacityWh: 250, upWh: 50, downWh: 125, loading: 0.5, congested: false },
      { node: 'tx-b', level: 'transformer', capacityWh: 250, upWh: 250, downWh: 0, loading: 1, congested: true },
    ])
  })
})
