import type { Address, Hex } from 'viem'
import { compareAsks, compareBids, type BookOrder } from './book.ts'
import { bottomUpOrder, type Topology } from './topology.ts'

/** An order with the node (usually a transformer) its home is connected to. */
export interface NodeOrder extends BookOrder {
  node: string
}

export type PricingRule = 'pay-as-clear' | 'pay-as-bid'

export interface ClearingParams {
  intervalSeconds: number
  pricing: PricingRule
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

interface Residual {
  order: NodeOrder
  left: number
  /** Links (child node ids) from the order's node up to the node being cleared. */
  path: string[]
}

/**
 * Clears one interval over the community tree, neighbours first: every node, from the transformers
 * up, clears the orders of its own homes and what its children could not match, and passes the rest
 * up. A trade at a node pays that node's grid fee and uses the capacity of every link on the way from
 * seller to buyer; a full link curtails the trade and is reported congested.
 *
 * Pay-as-clear: at each node one buyer price (and seller price = buyer price − fee) from the marginal
 * bid and ask of the uncongested book; only orders in the money at that price trade there, so every
 * fill is within its limit even when congestion curtails some. Pay-as-bid: each matched pair trades at
 * the midpoint of its bid and fee-inclusive ask.
 *
 * Pure and deterministic: ties break by price, acceptance sequence, then order hash.
 */
export function clearHierarchical(orders: readonly NodeOrder[], topology: Topology, params: ClearingParams): HierarchicalResult {
  const nodeById = new Map(topology.map((n) => [n.id, n]))
  const capacityWh = (id: string) => {
    const kw = nodeById.get(id)!.capacityKw
    return kw === null ? null : Math.floor((kw * 1000 * params.intervalSeconds) / 3600)
  }
  const links = new Map<string, LinkFlow>()
  for (const n of topology) if (n.parent !== null) links.set(n.id, { node: n.id, capacityWh: capacityWh(n.id), upWh: 0, downWh: 0, congested: false })

  const attached = new Map<string, Residual[]>()
  for (const o of orders) {
    if (!nodeById.has(o.node)) throw new Error(`order ${o.hash} is at unknown node "${o.node}"`)
    attached.set(o.node, [...(attached.get(o.node) ?? []), { order: o, left: o.energyWh, path: [] }])
  }

  const trades: NodeTrade[] = []
  const summaries: NodeSummary[] = []
  const passedUp = new Map<string, Residual[]>()

  for (const id of bottomUpOrder(topology)) {
    const node = nodeById.get(id)!
    const book = [...(attached.get(id) ?? []), ...(passedUp.get(id) ?? [])]
    const fee = node.feePerKwh
    const bids = book.filter((r) => r.order.side === 0).sort((a, b) => compareBids(a.order, b.order))
    const asks = book.filter((r) => r.order.side === 1).sort((a, b) => compareAsks(a.order, b.order))

    let buyerPrice: number | null = null
    let eligibleBids = bids
    let eligibleAsks = asks
    if (params.pricing === 'pay-as-clear') {
      buyerPrice = uniformBuyerPrice(bids, asks, fee)
      const p = buyerPrice
      eligibleBids = p === null ? [] : bids.filter((r) => r.order.limitPrice >= p)
      eligibleAsks = p === null ? [] : asks.filter((r) => r.order.limitPrice + fee <= p)
    }

    let volume = 0
    let firstOpenAsk = 0
    for (const bid of eligibleBids) {
      for (let k = firstOpenAsk; k < eligibleAsks.length && bid.left > 0; k++) {
        const ask = eligibleAsks[k]!
        if (ask.left === 0) {
          if (k === firstOpenAsk) firstOpenAsk++
          continue
        }
        if (bid.order.limitPrice < ask.order.limitPrice + fee) break // asks are sorted: none further can match
        const wanted = Math.min(bid.left, ask.left)
        const energyWh = Math.min(wanted, pathRoom(links, ask.path, bid.path))
        if (energyWh > 0) {
          for (const l of ask.path) links.get(l)!.upWh += energyWh
          for (const l of bid.path) links.get(l)!.downWh += energyWh
          const pairPrice = buyerPrice ?? Math.floor((bid.order.limitPrice + ask.order.limitPrice + fee) / 2)
          trades.push({
            node: id,
            buyOrder: bid.order.hash,
            sellOrder: ask.order.hash,
            buyer: bid.order.owner,
            seller: ask.order.owner,
            energyWh,
            buyerPrice: pairPrice,
            sellerPrice: pairPrice - fee,
            feePerKwh: fee,
          })
          bid.left -= energyWh
          ask.left -= energyWh
          volume += energyWh
        }
        // A trade the prices allowed but a full link cut short.
        if (energyWh < wanted) markFullLinks(links, ask.path, bid.path)
      }
    }
    summaries.push({
      node: id,
      level: node.level,
      buyerPrice: params.pricing === 'pay-as-clear' && volume > 0 ? buyerPrice : null,
      sellerPrice: params.pricing === 'pay-as-clear' && volume > 0 && buyerPrice !== null ? buyerPrice - fee : null,
      volumeWh: volume,
      feePerKwh: fee,
    })

    if (node.parent !== null) {
      const up = book.filter((r) => r.left > 0).map((r) => ({ ...r, path: [...r.path, id] }))
      if (up.length) passedUp.set(node.parent, [...(passedUp.get(node.parent) ?? []), ...up])
    }
  }

  return { trades, nodes: summaries, links: [...links.values()], volumeWh: trades.reduce((n, t) => n + t.energyWh, 0) }
}

/**
 * The buyer price at which this node's uncongested book clears: the midpoint of the marginal bid and
 * the marginal fee-inclusive ask (rounded down), or null when no bid reaches any ask plus the fee.
 */
function uniformBuyerPrice(bids: Residual[], asks: Residual[], fee: number): number | null {
  let i = 0
  let j = 0
  let bidLeft = bids[0]?.left ?? 0
  let askLeft = asks[0]?.left ?? 0
  let marginalBid: number | null = null
  let marginalAsk = 0
  while (i < bids.length && j < asks.length && bids[i]!.order.limitPrice >= asks[j]!.order.limitPrice + fee) {
    const q = Math.min(bidLeft, askLeft)
    marginalBid = bids[i]!.order.limitPrice
    marginalAsk = asks[j]!.order.limitPrice + fee
    bidLeft -= q
    askLeft -= q
    if (bidLeft === 0) bidLeft = bids[++i]?.left ?? 0
    if (askLeft === 0) askLeft = asks[++j]?.left ?? 0
  }
  return marginalBid === null ? null : Math.floor((marginalBid + marginalAsk) / 2)
}

/** How much more energy can flow up `upPath` and down `downPath` (Wh). */
function pathRoom(links: Map<string, LinkFlow>, upPath: string[], downPath: string[]): number {
  let room = Number.POSITIVE_INFINITY
  for (const l of upPath) {
    const link = links.get(l)!
    if (link.capacityWh !== null) room = Math.min(room, link.capacityWh - link.upWh)
  }
  for (const l of downPath) {
    const link = links.get(l)!
    if (link.capacityWh !== null) room = Math.min(room, link.capacityWh - link.downWh)
  }
  return Math.max(0, room)
}

function markFullLinks(links: Map<string, LinkFlow>, upPath: string[], downPath: string[]): void {
  for (const l of upPath) {
    const link = links.get(l)!
    if (link.capacityWh !== null && link.upWh >= link.capacityWh) link.congested = true
  }
  for (const l of downPath) {
    const link = links.get(l)!
    if (link.capacityWh !== null && link.downWh >= link.capacityWh) link.congested = true
  }
}
