import type { CompiledTopology } from './compiled-topology.ts'
import { mergeBooks, sortBlocks, type Book } from './book-order.ts'
import { ClearingWorkspace } from './clearing-workspace.ts'
import { priorityKeys } from './priority-keys.ts'

export type PricingRule = 'pay-as-clear' | 'pay-as-bid'

export interface ClearingParams {
  intervalSeconds: number
  pricing: PricingRule
}

/** One interval's book as columns: order k is `side[k]`, `energyWh[k]`, … Integers only. */
export interface OrderColumns {
  count: number
  /** 0 = buy, 1 = sell. */
  side: Uint8Array
  energyWh: Float64Array
  limitPrice: Float64Array
  /** Acceptance sequence: the earlier order wins a price tie. */
  seq: Float64Array
  /** Node number (CompiledTopology) the order's home is connected to. */
  node: Int32Array
  /** Only read to break a tie on price and sequence. */
  hash: ArrayLike<string>
}

/** The clearing result as columns; trade t is `tradeBuy[t]` (order number) buying from `tradeSell[t]`. */
export interface ColumnarResult {
  tradeCount: number
  tradeBuy: Int32Array
  tradeSell: Int32Array
  /** Node where the trade cleared: the lowest common node of buyer and seller. */
  tradeNode: Int32Array
  tradeEnergyWh: Float64Array
  /** What the buyer pays per kWh; the seller receives this minus the node's fee. */
  tradeBuyerPrice: Float64Array
  /** Per node: pay-as-clear buyer price where something cleared, else NaN. */
  nodeBuyerPrice: Float64Array
  nodeVolumeWh: Float64Array
  /** Per node, for the link to its parent: capacity this interval (Infinity = unconstrained), flows, congestion. */
  linkCapacityWh: Float64Array
  linkUpWh: Float64Array
  linkDownWh: Float64Array
  linkCongested: Uint8Array
  volumeWh: number
}

const UP = 0
const DOWN = 1

/**
 * Clears one interval over the community tree, neighbours first, on typed arrays. Every node, from
 * the transformers up, clears the orders of its own homes and what its children could not match,
 * and passes the rest up. A trade at a node pays that node's grid fee and uses the capacity of every
 * link between seller and buyer; a full link curtails the trade and is reported congested.
 *
 * Pay-as-clear: at each node one buyer price (seller price = buyer price − fee) from the marginal bid
 * and ask of the uncongested book; only orders in the money at that price trade there, so every fill
 * is within its limit even when congestion curtails some. Pay-as-bid: each matched pair trades at the
 * midpoint of its bid and fee-inclusive ask.
 *
 * Laid out for the memory cache: orders are moved once into node-by-node blocks (a subtree's orders
 * are contiguous), each block is sorted on its own with one packed priority key per order, and a
 * parent's book is its children's leftovers merged, never re-sorted. Pure and deterministic; the
 * readable specification it must agree with bit for bit is `reference-clearing.ts`.
 *
 * The result's arrays are views into `workspace`: pass a long-lived one to clear interval after
 * interval without garbage, and read each result before the next clearing.
 *
 * @example
 * const result = clearColumns(orders, compileTopology(topology), { intervalSeconds: 900, pricing: 'pay-as-clear' })
 * result.volumeWh // energy traded in the interval
 */
export function clearColumns(orders: OrderColumns, tree: CompiledTopology, params: ClearingParams, workspace = new ClearingWorkspace()): ColumnarResult {
  const n = orders.count
  const nodeCount = tree.ids.length
  const { parent, feePerKwh } = tree
  workspace.reset()
  const allKeys = priorityKeys(orders.side.subarray(0, n), orders.limitPrice, orders.seq, workspace.float64('allKeys', n))

  // Move every order to its block: one block per (node, side), nodes children-first, so a subtree's
  // orders are contiguous. `orig[pos]` is the order's number in the input.
  const blockOfNode = new Int32Array(nodeCount)
  tree.bottomUp.forEach((x, i) => (blockOfNode[x] = 2 * i))
  const blockStart = new Int32Array(2 * nodeCount + 1)
  for (let k = 0; k < n; k++) blockStart[blockOfNode[orders.node[k]!]! + orders.side[k]! + 1]!++
  let largestBlock = 0
  for (let b = 0; b < 2 * nodeCount; b++) {
    largestBlock = Math.max(largestBlock, blockStart[b + 1]!)
    blockStart[b + 1]! += blockStart[b]!
  }
  const fill = blockStart.slice(0, 2 * nodeCount)
  const orig = workspace.int32('orig', n)
  const key = workspace.float64('key', n)
  const price = workspace.float64('price', n)
  const left = workspace.float64('left', n)
  const at = workspace.int32('at', n)
  for (let k = 0; k < n; k++) {
    const pos = fill[blockOfNode[orders.node[k]!]! + orders.side[k]!]!++
    orig[pos] = k
    key[pos] = allKeys[k]!
    price[pos] = orders.limitPrice[k]!
    left[pos] = orders.energyWh[k]!
    at[pos] = orders.node[k]!
  }
  const tieBreak = (a: number, b: number) => orders.hash[orig[a]!]! < orders.hash[orig[b]!]!
  const own: Book = { pos: workspace.int32('ownPos', n), key: workspace.float64('ownKey', n) }
  sortBlocks(blockStart, key, tieBreak, own, workspace.float64('sortScratch', largestBlock))
  const ownBook = (block: number): Book => ({ pos: own.pos.subarray(blockStart[block]!, blockStart[block + 1]!), key: own.key.subarray(blockStart[block]!, blockStart[block + 1]!) })

  const blocked = workspace.uint8('blocked', n).fill(0)
  const linkCapacityWh = new Float64Array(nodeCount)
  for (let x = 0; x < nodeCount; x++) {
    const kw = tree.capacityKw[x]!
    linkCapacityWh[x] = parent[x] === -1 || kw === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : Math.floor((kw * 1000 * params.intervalSeconds) / 3600)
  }
  const linkFlow = [new Float64Array(nodeCount), new Float64Array(nodeCount)] // [up, down]
  const linkCongested = new Uint8Array(nodeCount)

  /** Free capacity (Wh) from `from` up to, not including, `to`'s own link; Infinity when unconstrained. */
  const room = (from: number, to: number, direction: number): number => {
    const used = linkFlow[direction]!
    let free = Number.POSITIVE_INFINITY
    for (let x = from; x !== to; x = parent[x]!) {
      const f = linkCapacityWh[x]! - used[x]!
      if (f < free) free = f
    }
    return free > 0 ? free : 0
  }
  const markFull = (from: number, to: number, direction: number): void => {
    const used = linkFlow[direction]!
    for (let x = from; x !== to; x = parent[x]!) if (used[x]! >= linkCapacityWh[x]!) linkCongested[x] = 1
  }
  const carry = (from: number, to: number, direction: number, energyWh: number): void => {
    const used = linkFlow[direction]!
    for (let x = from; x !== to; x = parent[x]!) used[x]! += energyWh
  }

  const leftoverBids: Book[] = new Array(nodeCount)
  const leftoverAsks: Book[] = new Array(nodeCount)
  const scratch = ['bidsA', 'bidsB', 'asksA', 'asksB'].map((name): Book => ({ pos: workspace.int32(`${name}Pos`, n), key: workspace.float64(`${name}Key`, n) }))
  const nextOpen = workspace.int32('nextOpen', n + 1)
  // At most one trade per order exhausted plus one per link direction filled.
  const capacity = n + 2 * nodeCount + 1
  const tradeBuy = workspace.int32('tradeBuy', capacity)
  const tradeSell = workspace.int32('tradeSell', capacity)
  const tradeNode = workspace.int32('tradeNode', capacity)
  const tradeEnergyWh = workspace.float64('tradeEnergyWh', capacity)
  const tradeBuyerPrice = workspace.float64('tradeBuyerPrice', capacity)
  let tradeCount = 0
  const nodeBuyerPrice = new Float64Array(nodeCount).fill(Number.NaN)
  const nodeVolumeWh = new Float64Array(nodeCount)

  for (const x of tree.bottomUp) {
    const block = blockOfNode[x]!
    const children = Array.from(tree.children[x]!)
    const bidBook = mergeBooks([ownBook(block), ...children.map((c) => leftoverBids[c]!)], tieBreak, scratch[0]!, scratch[1]!)
    const askBook = mergeBooks([ownBook(block + 1), ...children.map((c) => leftoverAsks[c]!)], tieBreak, scratch[2]!, scratch[3]!)
    const bids = bidBook.pos
    const asks = askBook.pos
    const fee = feePerKwh[x]!

    let buyerPrice = Number.NaN
    let eligibleBids = bids.length
    let eligibleAsks = asks.length
    if (params.pricing === 'pay-as-clear') {
      buyerPrice = uniformBuyerPrice(bids, asks, price, left, fee)
      // Bids fall and asks rise in book order, so the orders in the money at the price are prefixes.
      eligibleBids = 0
      eligibleAsks = 0
      if (!Number.isNaN(buyerPrice)) {
        while (eligibleBids < bids.length && price[bids[eligibleBids]!]! >= buyerPrice) eligibleBids++
        while (eligibleAsks < asks.length && price[asks[eligibleAsks]!]! + fee <= buyerPrice) eligibleAsks++
      }
    }

    // nextOpen: union–find over ask places that skips asks filled or blocked, path halving.
    for (let k = 0; k <= eligibleAsks; k++) nextOpen[k] = k
    const openFrom = (i: number): number => {
      while (nextOpen[i] !== i) {
        nextOpen[i] = nextOpen[nextOpen[i]!]!
        i = nextOpen[i]!
      }
      return i
    }
    let volume = 0
    for (let bi = 0; bi < eligibleBids; bi++) {
      const b = bids[bi]!
      const bidPrice = price[b]!
      for (let k = openFrom(0); k < eligibleAsks && left[b]! > 0; k = openFrom(k + 1)) {
        const a = asks[k]!
        if (bidPrice < price[a]! + fee) break // asks rise: none further can match
        const up = room(at[a]!, x, UP)
        if (up === 0) {
          // A full link on the seller's own path stays full this interval: it cannot trade here or above.
          markFull(at[a]!, x, UP)
          blocked[a] = 1
          nextOpen[k] = k + 1
          continue
        }
        const down = room(at[b]!, x, DOWN)
        if (down === 0) {
          markFull(at[b]!, x, DOWN)
          blocked[b] = 1
          break
        }
        const wanted = Math.min(left[b]!, left[a]!)
        const energyWh = Math.min(wanted, up, down)
        carry(at[a]!, x, UP, energyWh)
        carry(at[b]!, x, DOWN, energyWh)
        tradeBuy[tradeCount] = orig[b]!
        tradeSell[tradeCount] = orig[a]!
        tradeNode[tradeCount] = x
        tradeEnergyWh[tradeCount] = energyWh
        tradeBuyerPrice[tradeCount] = Number.isNaN(buyerPrice) ? Math.floor((bidPrice + price[a]! + fee) / 2) : buyerPrice
        tradeCount++
        left[b]! -= energyWh
        left[a]! -= energyWh
        volume += energyWh
        if (left[a] === 0) nextOpen[k] = k + 1
        if (energyWh < wanted) {
          // A trade the prices allowed, cut short by a link that is now full.
          markFull(at[a]!, x, UP)
          markFull(at[b]!, x, DOWN)
        }
      }
    }
    nodeVolumeWh[x] = volume
    if (volume > 0 && params.pricing === 'pay-as-clear') nodeBuyerPrice[x] = buyerPrice

    if (parent[x] !== -1) {
      leftoverBids[x] = stillOpen(bidBook, left, blocked, workspace)
      leftoverAsks[x] = stillOpen(askBook, left, blocked, workspace)
    }
  }

  let volumeWh = 0
  for (let t = 0; t < tradeCount; t++) volumeWh += tradeEnergyWh[t]!
  return {
    tradeCount,
    tradeBuy: tradeBuy.subarray(0, tradeCount),
    tradeSell: tradeSell.subarray(0, tradeCount),
    tradeNode: tradeNode.subarray(0, tradeCount),
    tradeEnergyWh: tradeEnergyWh.subarray(0, tradeCount),
    tradeBuyerPrice: tradeBuyerPrice.subarray(0, tradeCount),
    nodeBuyerPrice,
    nodeVolumeWh,
    linkCapacityWh,
    linkUpWh: linkFlow[UP]!,
    linkDownWh: linkFlow[DOWN]!,
    linkCongested,
    volumeWh,
  }
}

/** The orders of a book that can still trade further up: some energy left and no full link on their way. */
function stillOpen(book: Book, left: Float64Array, blocked: Uint8Array, workspace: ClearingWorkspace): Book {
  const { pos, key } = book
  let count = 0
  for (let i = 0; i < pos.length; i++) if (left[pos[i]!]! > 0 && blocked[pos[i]!] === 0) count++
  const open = workspace.takeBook(count)
  for (let i = 0, o = 0; i < pos.length; i++) {
    if (left[pos[i]!]! > 0 && blocked[pos[i]!] === 0) {
      open.pos[o] = pos[i]!
      open.key[o++] = key[i]!
    }
  }
  return open
}

/**
 * The buyer price at which a node's uncongested book clears: the midpoint of the marginal bid and the
 * marginal fee-inclusive ask (rounded down), or NaN when no bid reaches any ask plus the fee.
 */
function uniformBuyerPrice(bids: Int32Array, asks: Int32Array, price: Float64Array, left: Float64Array, fee: number): number {
  let i = 0
  let j = 0
  let bidLeft = bids.length > 0 ? left[bids[0]!]! : 0
  let askLeft = asks.length > 0 ? left[asks[0]!]! : 0
  let marginalBid = Number.NaN
  let marginalAsk = 0
  while (i < bids.length && j < asks.length) {
    const bidPrice = price[bids[i]!]!
    const askPrice = price[asks[j]!]! + fee
    if (bidPrice < askPrice) break
    const q = Math.min(bidLeft, askLeft)
    marginalBid = bidPrice
    marginalAsk = askPrice
    bidLeft -= q
    askLeft -= q
    if (bidLeft === 0) bidLeft = ++i < bids.length ? left[bids[i]!]! : 0
    if (askLeft === 0) askLeft = ++j < asks.length ? left[asks[j]!]! : 0
  }
  return Number.isNaN(marginalBid) ? Number.NaN : Math.floor((marginalBid + marginalAsk) / 2)
}
