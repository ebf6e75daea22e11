import type { ColumnarResult } from '../market/engine/clearing-types.ts'
import { steeringSetpointW } from '../edge-agent/battery-controller.ts'
import { buyerPaysBaseUnitsNumber, imbalanceChargeBaseUnitsNumber, sellerReceivesBaseUnitsNumber } from '../protocol/units.ts'
import { BATTERY_FLOOR_SHARE } from './models/household.ts'
import type { AgentOrders } from './study-agents.ts'
import { batteryWholeWh, selfConsumptionWh, type HomeState } from './study-homes.ts'

// After clearing: what every home's devices physically do with its award (the agent's own battery
// control, battery-controller.ts), and the interval settled by the contract's rules
// (EnergySettlement.sol `_applyTrades`, `_moveMoney`) with the one set of rounding functions it
// mirrors (protocol/units.ts). Over typed arrays, in whole Wh and base units.

/** Per-home and per-order working arrays, reused every interval. */
export interface DeliveryScratch {
  awardNetWh: Float64Array
  /** What each home's meter reading still has to give its trades, Wh (the contract's "left"). */
  exportLeftWh: Float64Array
  importedWh: Float64Array
  /** Energy delivered to (bought) and by (sold) each home this interval, Wh. */
  boughtWh: Float64Array
  soldWh: Float64Array
  /** Each home's physical net import this interval (negative = export), Wh: what the grid carries. */
  netImportWh: Float64Array
  /** The fill an order is gathering: delivered Wh at one node and price (the contract pays per fill). */
  fillWh: Float64Array
  fillNode: Int32Array
  fillPrice: Float64Array
  fillOpen: Uint8Array
}

export function deliveryScratch(n: number, orderSlots: number): DeliveryScratch {
  return {
    awardNetWh: new Float64Array(n), exportLeftWh: new Float64Array(n), importedWh: new Float64Array(n), boughtWh: new Float64Array(n), soldWh: new Float64Array(n), netImportWh: new Float64Array(n),
    fillWh: new Float64Array(orderSlots), fillNode: new Int32Array(orderSlots), fillPrice: new Float64Array(orderSlots), fillOpen: new Uint8Array(orderSlots),
  }
}

/** What the run keeps per home, whole Wh and base units. */
export interface DeliveryRecords {
  importWh: Float64Array
  exportWh: Float64Array
  /** Bought from neighbours and delivered to the home / sold and delivered by it. */
  boughtWh: Float64Array
  soldWh: Float64Array
  /** Sold but not delivered (the seller's imbalance). */
  shortfallWh: Float64Array
  paid: Float64Array
  received: Float64Array
  imbalancePaid: Float64Array
  imbalanceReceived: Float64Array
  /** Bought from a neighbour and delivered, but more than the home then drew: it flows on to the utility unpaid. */
  spilledWh: Float64Array
}

export interface DeliveryInputs {
  n: number
  dtHours: number
  record: boolean
  imbalancePerKwh: number
  /** The agent's battery limits, % of capacity. */
  socFloorPct: number
  socCeilingPct: number
  /** Per node of the compiled topology: the grid fee a trade there pays, base units per kWh. */
  feePerKwh: ArrayLike<number>
}

/** The interval's community totals. */
export interface IntervalDelivery {
  gridImportWh: number
  gridExportWh: number
  /** Awarded by the market. */
  tradedWh: number
  deliveredWh: number
  shortfallWh: number
  /** What buyers paid for delivered energy, base units. */
  paid: number
  imbalanceCharges: number
  /** The batteries' net output (discharge − charge before losses), Wh. */
  batteryWh: number
}

/**
 * Runs every home's devices for the interval with its award (`result`, null when nothing cleared),
 * then settles it as the contract would: each seller's export is given to its trades in trade order,
 * buyers pay (rounded up) and sellers are paid (rounded down) per fill for the delivered energy only,
 * and a seller pays the imbalance price (rounded down) per trade for what it did not deliver.
 */
export function deliverInterval(homes: HomeState, book: AgentOrders, result: ColumnarResult | null, scratch: DeliveryScratch, records: DeliveryRecords, p: DeliveryInputs): IntervalDelivery {
  const { n, dtHours, record } = p
  const { awardNetWh, exportLeftWh, importedWh, boughtWh, soldWh, netImportWh } = scratch
  const { homeOfOrder } = book
  const total: IntervalDelivery = { gridImportWh: 0, gridExportWh: 0, tradedWh: 0, deliveredWh: 0, shortfallWh: 0, paid: 0, imbalanceCharges: 0, batteryWh: 0 }
  awardNetWh.fill(0)
  const tradeCount = result?.tradeCount ?? 0
  for (let k = 0; k < tradeCount; k++) {
    const e = result!.tradeEnergyWh[k]!
    awardNetWh[homeOfOrder[result!.tradeSell[k]!]!]! += e
    awardNetWh[homeOfOrder[result!.tradeBuy[k]!]!]! -= e
    total.tradedWh += e
  }

  for (let h = 0; h < n; h++) {
    const pv = homes.pvWh[h]!
    const load = homes.loadWh[h]!
    const battery = homes.batteryWh[h]! > 0 ? batteryStep(homes, h, awardNetWh[h]!, pv, load, p) : 0
    const net = pv - load + battery
    total.batteryWh += battery
    exportLeftWh[h] = net > 0 ? net : 0
    importedWh[h] = net < 0 ? -net : 0
    netImportWh[h] = -net
    boughtWh[h] = 0
    soldWh[h] = 0
  }

  for (let k = 0; k < tradeCount; k++) settleTrade(result!, k, book, scratch, records, p, total)
  for (let o = 0; o < book.orders.count; o++) if (scratch.fillOpen[o]) closeFill(o, book, scratch, records, record, total)

  for (let h = 0; h < n; h++) {
    // The utility meters what the neighbours did not: the rest of the import, the rest of the export.
    const fromUtility = Math.max(0, importedWh[h]! - boughtWh[h]!)
    const spilled = Math.max(0, boughtWh[h]! - importedWh[h]!)
    const toUtility = exportLeftWh[h]!
    total.gridImportWh += fromUtility
    total.gridExportWh += toUtility + spilled
    if (record) {
      records.importWh[h]! += fromUtility
      records.exportWh[h]! += toUtility
      records.spilledWh[h]! += spilled
      records.boughtWh[h]! += boughtWh[h]!
      records.soldWh[h]! += soldWh[h]!
    }
  }
  return total
}

/**
 * The battery for one interval, Wh it gives (positive) or takes: with no award it is the inverter's
 * own self-consumption; with one, the agent steers it to deliver the award (`steeringSetpointW`, the
 * live agent's rule) with the interval's PV and load, within the agent's limits and the device's.
 */
function batteryStep(homes: HomeState, h: number, awardWh: number, pv: number, load: number, p: DeliveryInputs): number {
  if (awardWh === 0) return selfConsumptionWh(homes, homes.socWh, h, pv - load, p.dtHours)
  const capacity = homes.batteryWh[h]!
  const setpointW = steeringSetpointW(awardWh, p.dtHours * 3600, pv / p.dtHours, load / p.dtHours, (homes.socWh[h]! / capacity) * 100, homes.batteryW[h]!, p.socFloorPct, p.socCeilingPct)
  return batteryWholeWh(homes, homes.socWh, h, setpointW * p.dtHours, capacity * Math.max(BATTERY_FLOOR_SHARE, p.socFloorPct / 100), (capacity * p.socCeilingPct) / 100, p.dtHours)
}

function settleTrade(result: ColumnarResult, k: number, book: AgentOrders, scratch: DeliveryScratch, records: DeliveryRecords, p: DeliveryInputs, total: IntervalDelivery): void {
  const buyOrder = result.tradeBuy[k]!
  const sellOrder = result.tradeSell[k]!
  const energyWh = result.tradeEnergyWh[k]!
  const node = result.tradeNode[k]!
  const buyerPrice = result.tradeBuyerPrice[k]!
  const buyer = book.homeOfOrder[buyOrder]!
  const seller = book.homeOfOrder[sellOrder]!
  const left = scratch.exportLeftWh[seller]!
  const delivered = left < energyWh ? left : energyWh
  scratch.exportLeftWh[seller] = left - delivered
  scratch.boughtWh[buyer]! += delivered
  scratch.soldWh[seller]! += delivered
  total.deliveredWh += delivered
  addToFill(buyOrder, node, buyerPrice, delivered, book, scratch, records, p.record, total)
  addToFill(sellOrder, node, buyerPrice - p.feePerKwh[node]!, delivered, book, scratch, records, p.record, total)
  if (delivered !== energyWh) {
    const shortfall = energyWh - delivered
    const charge = imbalanceChargeBaseUnitsNumber(shortfall, p.imbalancePerKwh)
    total.shortfallWh += shortfall
    total.imbalanceCharges += charge
    if (p.record) {
      records.shortfallWh[seller]! += shortfall
      records.imbalancePaid[seller]! += charge
      records.imbalanceReceived[buyer]! += charge
    }
  }
}

// The engine clears node by node, so an order's trades at one node and price come together: a fill
// closes when its order next trades elsewhere, or at the end of the interval.
function addToFill(order: number, node: number, price: number, deliveredWh: number, book: AgentOrders, scratch: DeliveryScratch, records: DeliveryRecords, record: boolean, total: IntervalDelivery): void {
  if (scratch.fillOpen[order] && (scratch.fillNode[order] !== node || scratch.fillPrice[order] !== price)) closeFill(order, book, scratch, records, record, total)
  scratch.fillOpen[order] = 1
  scratch.fillNode[order] = node
  scratch.fillPrice[order] = price
  scratch.fillWh[order]! += deliveredWh
}

function closeFill(order: number, book: AgentOrders, scratch: DeliveryScratch, records: DeliveryRecords, record: boolean, total: IntervalDelivery): void {
  const home = book.homeOfOrder[order]!
  const wh = scratch.fillWh[order]!
  if (book.orders.side[order] === 0) {
    const pay = buyerPaysBaseUnitsNumber(wh, scratch.fillPrice[order]!)
    total.paid += pay
    if (record) records.paid[home]! += pay
  } else if (record) records.received[home]! += sellerReceivesBaseUnitsNumber(wh, scratch.fillPrice[order]!)
  scratch.fillWh[order] = 0
  scratch.fillOpen[order] = 0
}
