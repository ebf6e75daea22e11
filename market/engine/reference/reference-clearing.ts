import { compareAsks, compareBids } from '../book.ts'
import { bottomUpOrder, type Topology } from '../topology.ts'
import type { ClearingParams } from '../columnar-clearing.ts'
import type { HierarchicalResult, LinkFlow, NodeOrder, NodeSummary, NodeTrade } from '../hierarchical-clearing.ts'

interface Residual {
  order: NodeOrder
  left: number
  /** A link on its own path is full: it can trade neither here nor further up. */
  blocked?: boolean
}

/** Finds the next index still open, skipping closed ones in amortised O(α(n)) (union–find with path halving). */
class NextOpen {
  private readonly next: Int32Array
  constructor(size: number) {
    this.next = Int32Array.from({ length: size + 1 }, (_, i) => i)
  }
  from(i: number): number {
    while (this.next[i] !== i) {
      this.next[i] = this.next[this.next[i]!]!
      i = this.next[i]!
    }
    return i
  }
  close(i: number): void {
    this.next[i] = i + 1
  }
}

/**
 * The readable specification of hierarchical clearing, on plain objects and comparison sorts. The
 * service runs the columnar engine (`columnar-clearing.ts`); tests hold the two to the same result bit
 * for bit on random books, and `npm run bench -- market` measures the engine against this baseline.
 *
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
export function clearHierarchicalReference(orders: readonly NodeOrder[], topology: Topology, params: ClearingParams): HierarchicalResult {
  const nodeById = new Map(topology.map((n) => [n.id, n]))
  const capacityWh = (id: string) => {
    const kw = nodeById.get(id)!.capacityKw
    return kw === null ? null : Math.floor((kw * 1000 * params.intervalSeconds) / 3600)
  }
  const links = new Map<string, LinkFlow>()
  for (const n of topology) if (n.parent !== null) links.set(n.id, { node: n.id, capacityWh: capacityWh(n.id), upWh: 0, downWh: 0, congested: false })

  // The books of every node: its own homes' orders, then what its children pass up.
  const books = new Map<string, Residual[]>(topology.map((n) => [n.id, []]))
  for (const o of orders) {
    const book = books.get(o.node)
    if (!book) throw new Error(`order ${o.hash} is at unknown node "${o.node}"`)
    // An order for no energy is not in the book (the intake never accepts one).
    if (o.energyWh > 0) book.push({ order: o, left: o.energyWh })
  }

  // Links on the way from a node up to an ancestor (the ancestor's own link excluded). The tree is
  // shallow and the same few paths recur for every order, so they are worked out once per node pair.
  const linksUpTo = (to: string) => {
    const cache = new Map<string, string[]>()
    return (from: string): string[] => {
      let path = cache.get(from)
      if (!path) {
        path = []
        for (let at = from; at !== to; at = nodeById.get(at)!.parent!) path.push(at)
        cache.set(from, path)
      }
      return path
    }
  }
  const trades: NodeTrade[] = []
  const summaries: NodeSummary[] = []

  for (const id of bottomUpOrder(topology)) {
    const node = nodeById.get(id)!
    const book = books.get(id)!
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

    const linksFrom = linksUpTo(id)
    const pathTo = (r: Residual) => linksFrom(r.order.node)
    let volume = 0
    const openAsks = new NextOpen(eligibleAsks.length)
    for (const bid of eligibleBids) {
      for (let k = openAsks.from(0); k < eligibleAsks.length && bid.left > 0; k = openAsks.from(k + 1)) {
        const ask = eligibleAsks[k]!
        if (bid.order.limitPrice < ask.order.limitPrice + fee) break // asks are sorted: none further can match
        const up = room(links, pathTo(ask), 'up')
        if (up === 0) {
          // A full link on the seller's own path stays full this interval: it cannot trade here or above.
          markFull(links, pathTo(ask), 'up')
          ask.blocked = true
          openAsks.close(k)
          continue
        }
        const down = room(links, pathTo(bid), 'down')
        if (down === 0) {
          markFull(links, pathTo(bid), 'down')
          bid.blocked = true
          break
        }
        const wanted = Math.min(bid.left, ask.left)
        const energyWh = Math.min(wanted, up, down)
        for (const l of pathTo(ask)) links.get(l)!.upWh += energyWh
        for (const l of pathTo(bid)) links.get(l)!.downWh += energyWh
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
        if (ask.left === 0) openAsks.close(k)
        if (energyWh < wanted) {
          // A trade the prices allowed, cut short by a link that is now full.
          markFull(links, pathTo(ask), 'up')
          markFull(links, pathTo(bid), 'down')
        }
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
      const parentBook = books.get(node.parent)!
      // The same residual moves up: its path is implied by its node and the node clearing it.
      for (const r of book) if (r.left > 0 && !r.blocked) parentBook.push(r)
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

/** How much more energy can flow along `path` in one direction (Wh); Infinity when unconstrained. */
function room(links: Map<string, LinkFlow>, path: string[], direction: 'up' | 'down'): number {
  let free = Number.POSITIVE_INFINITY
  for (const l of path) {
    const link = links.get(l)!
    if (link.capacityWh !== null) free = Math.min(free, link.capacityWh - (direction === 'up' ? link.upWh : link.downWh))
  }
  return Math.max(0, free)
}

function markFull(links: Map<string, LinkFlow>, path: string[], direction: 'up' | 'down'): void {
  for (const l of path) {
    const link = links.get(l)!
    if (link.capacityWh !== null && (direction === 'up' ? link.upWh : link.downWh) >= link.capacityWh) link.congested = true
  }
}
