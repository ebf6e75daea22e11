import type { Address, Hex } from 'viem'
import type { BookOrder } from './book.ts'
import { clearColumns, type ClearingParams, type ColumnarResult, type OrderColumns } from './columnar-clearing.ts'
import { ClearingWorkspace } from './clearing-workspace.ts'
import { compileTopology, type CompiledTopology } from './compiled-topology.ts'
import type { Topology } from './topology.ts'

export type { ClearingParams, PricingRule } from './columnar-clearing.ts'

/** An order with the node (usually a transformer) its home is connected to. */
export interface NodeOrder extends BookOrder {
  node: string
}

export interface NodeTrade {
  /** Where the trade cleared: the lowest common node of buyer and seller. */
  node: string
  buyOrder: Hex
  sellOrder: Hex
  buyer: Address
  seller: Address
  energyWh: number
  /** What the buyer pays per kWh; the seller receives `buyerPrice - feePerKwh`. */
  buyerPrice: number
  sellerPrice: number
  feePerKwh: number
}

export interface NodeSummary {
  node: string
  level: string
  /** Pay-as-clear: the node's uniform buyer and seller price; null where nothing cleared or pay-as-bid. */
  buyerPrice: number | null
  sellerPrice: number | null
  volumeWh: number
  feePerKwh: number
}

export interface LinkFlow {
  /** The link from this node to its parent. */
  node: string
  capacityWh: number | null
  upWh: number
  downWh: number
  /** A trade that the prices allowed was curtailed because this link was full. */
  congested: boolean
}

export interface HierarchicalResult {
  trades: NodeTrade[]
  nodes: NodeSummary[]
  links: LinkFlow[]
  volumeWh: number
}

const compiled = new WeakMap<Topology, CompiledTopology>()
// Clearing is synchronous and the result is copied out into objects before returning, so one
// workspace serves every call and intervals clear without garbage.
const workspace = new ClearingWorkspace()

/**
 * Clears one interval over the community tree, neighbours first (see `clearColumns` for the rules),
 * taking and returning plain objects. Ties break by price, acceptance sequence, then order hash; the
 * same book in any order gives the same result.
 *
 * @example
 * const result = clearHierarchical(orders, topology, { intervalSeconds: 900, pricing: 'pay-as-clear' })
 * result.trades[0] // { node: 'T1', buyOrder, sellOrder, energyWh: 100, buyerPrice: 150000, … }
 */
export function clearHierarchical(orders: readonly NodeOrder[], topology: Topology, params: ClearingParams): HierarchicalResult {
  let tree = compiled.get(topology)
  if (!tree) compiled.set(topology, (tree = compileTopology(topology)))
  const columns = orderColumns(orders, tree)
  return resultObjects(clearColumns(columns, tree, params, workspace), orders, tree)
}

/**
 * The columns of a book of order objects.
 *
 * @example
 * clearColumns(orderColumns(orders, tree), tree, params)
 */
export function orderColumns(orders: readonly NodeOrder[], tree: CompiledTopology): OrderColumns {
  const count = orders.length
  const columns: OrderColumns = {
    count,
    side: new Uint8Array(count),
    energyWh: new Float64Array(count),
    limitPrice: new Float64Array(count),
    seq: new Float64Array(count),
    node: new Int32Array(count),
    hash: orders.map((o) => o.hash),
  }
  for (let k = 0; k < count; k++) {
    const o = orders[k]!
    const node = tree.indexOf.get(o.node)
    if (node === undefined) throw new Error(`order ${o.hash} is at unknown node "${o.node}"; every home must be connected to a node of the community tree`)
    columns.side[k] = o.side
    columns.energyWh[k] = o.energyWh
    columns.limitPrice[k] = o.limitPrice
    columns.seq[k] = o.seq
    columns.node[k] = node
  }
  return columns
}

function resultObjects(result: ColumnarResult, orders: readonly NodeOrder[], tree: CompiledTopology): HierarchicalResult {
  const trades: NodeTrade[] = new Array(result.tradeCount)
  for (let t = 0; t < result.tradeCount; t++) {
    const buy = orders[result.tradeBuy[t]!]!
    const sell = orders[result.tradeSell[t]!]!
    const x = result.tradeNode[t]!
    const fee = tree.feePerKwh[x]!
    const buyerPrice = result.tradeBuyerPrice[t]!
    trades[t] = { node: tree.ids[x]!, buyOrder: buy.hash, sellOrder: sell.hash, buyer: buy.owner, seller: sell.owner, energyWh: result.tradeEnergyWh[t]!, buyerPrice, sellerPrice: buyerPrice - fee, feePerKwh: fee }
  }
  const nodes: NodeSummary[] = Array.from(tree.bottomUp, (x) => {
    const price = result.nodeBuyerPrice[x]!
    const fee = tree.feePerKwh[x]!
    return { node: tree.ids[x]!, level: tree.level[x]!, buyerPrice: Number.isNaN(price) ? null : price, sellerPrice: Number.isNaN(price) ? null : price - fee, volumeWh: result.nodeVolumeWh[x]!, feePerKwh: fee }
  })
  const links: LinkFlow[] = []
  for (let x = 0; x < tree.ids.length; x++) {
    if (tree.parent[x] === -1) continue
    const capacityWh = result.linkCapacityWh[x]!
    links.push({ node: tree.ids[x]!, capacityWh: capacityWh === Number.POSITIVE_INFINITY ? null : capacityWh, upWh: result.linkUpWh[x]!, downWh: result.linkDownWh[x]!, congested: result.linkCongested[x] === 1 })
  }
  return { trades, nodes, links, volumeWh: result.volumeWh }
}
