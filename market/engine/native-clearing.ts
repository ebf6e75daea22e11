import type { ClearingParams, ColumnarResult, OrderColumns } from './clearing-types.ts'
import type { ClearingWorkspace } from './clearing-workspace.ts'
import { linkCapacitiesWh, type CompiledTopology } from './compiled-topology.ts'
import type { PriorityKeyScheme } from './priority-keys.ts'
import { nativeAddon } from '../../platform/native-addon.ts'

type ClearColumnsC = (
  side: Uint8Array, energyWh: Float64Array, limitPrice: Float64Array, seq: Float64Array, node: Int32Array, keys: Float64Array | null, scheme: Float64Array,
  parent: Int32Array, feePerKwh: Float64Array, capacityWh: Float64Array, bottomUp: Int32Array, childStart: Int32Array, childList: Int32Array, payAsClear: number,
  tradeBuy: Int32Array, tradeSell: Int32Array, tradeNode: Int32Array, tradeEnergyWh: Float64Array, tradeBuyerPrice: Float64Array,
  nodeBuyerPrice: Float64Array, nodeVolumeWh: Float64Array, linkUpWh: Float64Array, linkDownWh: Float64Array, linkCongested: Uint8Array,
) => number

export type NativeClearingStatus = { available: true; clear: ClearColumnsC } | { available: false; reason: string }

/** The C clearing engine built by `npm run build:native`, or why it is not there. */
export function nativeClearing(): NativeClearingStatus {
  const status = nativeAddon<{ clearColumns: ClearColumnsC }>('clear_columns')
  return status.available ? { available: true, clear: status.addon.clearColumns } : status
}

/** The children of every node as one array (CSR), the form the C engine walks; made once per tree. */
const childArrays = new WeakMap<CompiledTopology, { start: Int32Array; list: Int32Array }>()
function children(tree: CompiledTopology) {
  let arrays = childArrays.get(tree)
  if (!arrays) {
    const start = new Int32Array(tree.ids.length + 1)
    tree.children.forEach((c, x) => (start[x + 1] = start[x]! + c.length))
    const list = new Int32Array(start[tree.ids.length]!)
    tree.children.forEach((c, x) => list.set(c, start[x]!))
    childArrays.set(tree, (arrays = { start, list }))
  }
  return arrays
}

/**
 * Whether no two orders share a sequence number: then no two priority keys of one side are equal and
 * no tie needs the order hashes, which only the TypeScript engine reads. The service and the
 * simulator number every order, so this holds for every book they clear.
 */
function sequencesDistinct(seq: Float64Array, count: number, workspace: ClearingWorkspace): boolean {
  let min = Number.POSITIVE_INFINITY
  let max = Number.NEGATIVE_INFINITY
  let increasing = true
  for (let k = 0; k < count; k++) {
    const s = seq[k]!
    if (k > 0 && !(s > seq[k - 1]!)) increasing = false
    if (s < min) min = s
    if (s > max) max = s
  }
  if (increasing) return true
  const span = max - min + 1
  if (!Number.isSafeInteger(span) || span > 8 * count + 64) return false
  const seen = workspace.uint8('seqSeen', span).fill(0)
  for (let k = 0; k < count; k++) {
    const i = seq[k]! - min
    if (!Number.isInteger(i) || seen[i] === 1) return false
    seen[i] = 1
  }
  return true
}

/**
 * Clears the interval with the C engine, or returns undefined for the TypeScript engine to do it
 * (no addon built, or a book whose ties only order hashes can break).
 */
export function clearNatively(orders: OrderColumns, tree: CompiledTopology, params: ClearingParams, scheme: PriorityKeyScheme, workspace: ClearingWorkspace): ColumnarResult | undefined {
  const engine = nativeClearing()
  const n = orders.count
  if (!engine.available || !sequencesDistinct(orders.seq, n, workspace)) return undefined
  const nodeCount = tree.ids.length
  const capacity = n + 2 * nodeCount + 1
  const { start, list } = children(tree)
  const result = {
    tradeBuy: workspace.int32('tradeBuy', capacity),
    tradeSell: workspace.int32('tradeSell', capacity),
    tradeNode: workspace.int32('tradeNode', capacity),
    tradeEnergyWh: workspace.float64('tradeEnergyWh', capacity),
    tradeBuyerPrice: workspace.float64('tradeBuyerPrice', capacity),
    nodeBuyerPrice: new Float64Array(nodeCount),
    nodeVolumeWh: new Float64Array(nodeCount),
    linkCapacityWh: linkCapacitiesWh(tree, params.intervalSeconds),
    linkUpWh: new Float64Array(nodeCount),
    linkDownWh: new Float64Array(nodeCount),
    linkCongested: new Uint8Array(nodeCount),
  }
  const packed = scheme.keys ? new Float64Array(4) : Float64Array.of(scheme.minPrice, scheme.maxPrice, scheme.minSeq, scheme.seqSpan)
  const tradeCount = engine.clear(
    orders.side.subarray(0, n), orders.energyWh.subarray(0, n), orders.limitPrice.subarray(0, n), orders.seq.subarray(0, n), orders.node.subarray(0, n), scheme.keys ?? null, packed,
    tree.parent, tree.feePerKwh, result.linkCapacityWh, tree.bottomUp, start, list, params.pricing === 'pay-as-clear' ? 1 : 0,
    result.tradeBuy, result.tradeSell, result.tradeNode, result.tradeEnergyWh, result.tradeBuyerPrice,
    result.nodeBuyerPrice, result.nodeVolumeWh, result.linkUpWh, result.linkDownWh, result.linkCongested,
  )
  if (tradeCount < 0) return undefined
  let volumeWh = 0
  for (let t = 0; t < tradeCount; t++) volumeWh += result.tradeEnergyWh[t]!
  return {
    ...result,
    tradeCount,
    tradeBuy: result.tradeBuy.subarray(0, tradeCount),
    tradeSell: result.tradeSell.subarray(0, tradeCount),
    tradeNode: result.tradeNode.subarray(0, tradeCount),
    tradeEnergyWh: result.tradeEnergyWh.subarray(0, tradeCount),
    tradeBuyerPrice: result.tradeBuyerPrice.subarray(0, tradeCount),
    volumeWh,
  }
}
