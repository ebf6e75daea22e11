import { expect, it } from 'vitest'
import type { ColumnarResult } from '../../market/engine/clearing-types.ts'
import { agentOrders } from '../../simulator/study-agents.ts'
import { deliverInterval, deliveryScratch, type DeliveryRecords } from '../../simulator/study-delivery.ts'
import type { HomeState } from '../../simulator/study-homes.ts'

// The study settles every interval by the contract's rules (EnergySettlement.sol `_applyTrades`,
// `_moveMoney`); here single intervals worked by hand.

const IMBALANCE = 400_000

/** Homes without batteries whose PV and load this interval are given, Wh. */
function homesWith(pvWh: number[], loadWh: number[]): HomeState {
  const n = pvWh.length
  const zeros = () => new Float64Array(n)
  return {
    orientationOf: new Int32Array(n), kWp: zeros(), loadScale: zeros(), shiftQuarter: new Int32Array(n), heatPumpKwh: zeros(), evLeftWh: zeros(), evArrivalHour: zeros(),
    batteryWh: zeros(), batteryW: zeros(), batteryEfficiency: zeros(), socWh: zeros(), baselineSocWh: zeros(),
    pvWh: Float64Array.from(pvWh), loadWh: Float64Array.from(loadWh), measuredLoadWh: zeros(), measuredLoadHomes: 0, measuredPvWh: zeros(), measuredPvHomes: 0,
  }
}

/** An order book of one order per home (`sides[h]`), and the engine's trades between them. */
function interval(sides: (0 | 1)[], trades: { buy: number; sell: number; wh: number; price: number; node?: number }[]) {
  const book = agentOrders(sides.length, 1)
  sides.forEach((side, h) => {
    book.orders.side[h] = side
    book.homeOfOrder[h] = h
  })
  book.orders.count = sides.length
  const result = {
    tradeCount: trades.length,
    tradeBuy: Int32Array.from(trades, (t) => t.buy),
    tradeSell: Int32Array.from(trades, (t) => t.sell),
    tradeNode: Int32Array.from(trades, (t) => t.node ?? 0),
    tradeEnergyWh: Float64Array.from(trades, (t) => t.wh),
    tradeBuyerPrice: Float64Array.from(trades, (t) => t.price),
  } as ColumnarResult
  return { book, result }
}

function records(n: number): DeliveryRecords {
  const zeros = () => new Float64Array(n)
  return { importWh: zeros(), exportWh: zeros(), boughtWh: zeros(), soldWh: zeros(), shortfallWh: zeros(), paid: zeros(), received: zeros(), imbalancePaid: zeros(), imbalanceReceived: zeros(), spilledWh: zeros() }
}

const inputs = (n: number, feePerKwh: number[]) => ({ n, dtHours: 0.25, record: true, imbalancePerKwh: IMBALANCE, socFloorPct: 10, socCeilingPct: 95, feePerKwh })

it("gives a seller's export to its trades in trade order; the rest of each trade is charged at the imbalance price", () => {
  // Home 0 exports 100 Wh but sold 150: 120 to home 1, then 30 to home 2. Home 1 draws 200, home 2 draws 10.
  const homes = homesWith([100, 0, 0], [0, 200, 10])
  const { book, result } = interval([1, 0, 0], [{ buy: 1, sell: 0, wh: 120, price: 333_333 }, { buy: 2, sell: 0, wh: 30, price: 333_333 }])
  const r = records(3)
  const total = deliverInterval(homes, book, result, deliveryScratch(3, book.orders.side.length), r, inputs(3, [33_333]))
  // Trade 1: 100 of its 120 Wh delivered, 20 short; trade 2: nothing left, 30 short.
  expect(Array.from(r.boughtWh)).toEqual([0, 100, 0])
  expect(Array.from(r.soldWh)).toEqual([100, 0, 0])
  expect(Array.from(r.shortfallWh)).toEqual([50, 0, 0])
  // 20 Wh × 0.4 = 8,000 and 30 Wh × 0.4 = 12,000, each to the buyer it left short.
  expect(Array.from(r.imbalancePaid)).toEqual([20_000, 0, 0])
  expect(Array.from(r.imbalanceReceived)).toEqual([0, 8_000, 12_000])
  // The buyer pays 100 Wh × 333,333 per kWh = 33,333.3, rounded up; the seller gets 100 Wh × 300,000 per kWh after the fee.
  expect(Array.from(r.paid)).toEqual([0, 33_334, 0])
  expect(Array.from(r.received)).toEqual([30_000, 0, 0])
  // What the neighbour did not bring, the utility does.
  expect(Array.from(r.importWh)).toEqual([0, 100, 10])
  expect(Array.from(r.exportWh)).toEqual([0, 0, 0])
  expect(total).toMatchObject({ tradedWh: 150, deliveredWh: 100, shortfallWh: 50, paid: 33_334, imbalanceCharges: 20_000, gridImportWh: 110, gridExportWh: 0 })
})

it('rounds each fill once, as the contract pays per order, node and price, not per trade', () => {
  // Two 1 Wh trades between the same orders at 1,500 per kWh: one fill of 2 Wh, 3 base units (per trade it would be 2 + 2).
  const homes = homesWith([10, 0], [0, 10])
  const one = interval([1, 0], [{ buy: 1, sell: 0, wh: 1, price: 1500 }, { buy: 1, sell: 0, wh: 1, price: 1500 }])
  const r1 = records(2)
  deliverInterval(homes, one.book, one.result, deliveryScratch(2, one.book.orders.side.length), r1, inputs(2, [0, 0]))
  expect(Array.from(r1.paid)).toEqual([0, 3])
  expect(Array.from(r1.received)).toEqual([3, 0])
  // The same two trades at two nodes are two fills: 2 + 2 for the buyer, 1 + 1 for the seller.
  const two = interval([1, 0], [{ buy: 1, sell: 0, wh: 1, price: 1500, node: 0 }, { buy: 1, sell: 0, wh: 1, price: 1500, node: 1 }])
  const r2 = records(2)
  deliverInterval(homes, two.book, two.result, deliveryScratch(2, two.book.orders.side.length), r2, inputs(2, [0, 0]))
  expect(Array.from(r2.paid)).toEqual([0, 4])
  expect(Array.from(r2.received)).toEqual([2, 0])
})

it('sends what a buyer bought but did not draw on to the utility, unpaid', () => {
  // Home 1 bought 100 Wh and drew 60: 40 Wh leave the street without anyone being paid for them.
  const homes = homesWith([100, 0], [0, 60])
  const { book, result } = interval([1, 0], [{ buy: 1, sell: 0, wh: 100, price: 200_000 }])
  const r = records(2)
  const total = deliverInterval(homes, book, result, deliveryScratch(2, book.orders.side.length), r, inputs(2, [0]))
  expect(Array.from(r.spilledWh)).toEqual([0, 40])
  expect(Array.from(r.importWh)).toEqual([0, 0])
  expect(Array.from(r.paid)).toEqual([0, 20_000])
  expect(total.gridExportWh).toBe(40)
})
