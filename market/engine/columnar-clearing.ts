import { linkCapacitiesWh, type CompiledTopology } from './compiled-topology.ts'
import { BookReader, sortBlocks, type Book } from './book-order.ts'
import { ClearingWorkspace } from './clearing-workspace.ts'
import { priorityKey, priorityKeyScheme, type PriorityKeyScheme } from './priority-keys.ts'
import { clearNatively } from './native-clearing.ts'
import type { ClearingParams, ColumnarResult, OrderColumns } from './clearing-types.ts'

export type { ClearingParams, ColumnarResult, OrderColumns, PricingRule } from './clearing-types.ts'

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
 * Where `npm run build:native` built it, the same engine in C (`market/native/clear-columns.c`, about
 * twice as fast) clears the interval; the result is the same bit for bit (tested).
 *
 * The result's arrays are views into `workspace`: pass a long-lived one to clear interval after
 * interval without garbage, and read each result before the next clearing.
 *
 * @example
 * const result = clearColumns(orders, compileTopology(topology), { intervalSeconds: 900, pricing: 'pay-as-clear' })
 * result.volumeWh // energy traded in the interval
 */
export function clearColumns(orders: OrderColumns, tree: CompiledTopology, params: ClearingParams, workspace = new ClearingWorkspace()): ColumnarResult {
  const scheme = priorityKeyScheme(orders.side, orders.limitPrice, orders.seq, orders.count)
  return clearNatively(orders, tree, params, scheme, workspace) ?? clearInTypeScript(orders, tree, params, workspace, scheme)
}

/**
 * `clearColumns` on this file's TypeScript engine only, never the native one: the engine every machine
 * has, and the one the native engine is held to in tests.
 */
export function clearColumnsTypeScript(orders: OrderColumns, tree: CompiledTopology, params: ClearingParams, workspace = new ClearingWorkspace()): ColumnarResult {
  return clearInTypeScript(orders, tree, params, workspace, priorityKeyScheme(orders.side, orders.limitPrice, orders.seq, orders.count))
}

function clearInTypeScript(orders: OrderColumns, tree: CompiledTopology, params: ClearingParams, workspace: ClearingWorkspace, scheme: PriorityKeyScheme): ColumnarResult {
  const n = orders.count
  const nodeCount = tree.ids.length
  const { parent, feePerKwh } = tree
  workspace.reset()

  // Move every order to its block: one block per (node, side), nodes children-first, so a subtree's
  // orders are contiguous. `orig[pos]` is the order's number in the input.
  const blockOfNode = new Int32Array(nodeCount)
  tree.bottomUp.forEach((x, i) => (blockOfNode[x] = 2 * i))
  const blockStart = new Int32Array(2 * nodeCount + 1)
  // An order for no energy is not in the book (the intake never accepts one).
  for (let k = 0; k < n; k++) if (orders.energyWh[k]! > 0) blockStart[blockOfNode[orders.node[k]!]! + orders.side[k]! + 1]!++
  let largestBlock = 0
  for (let b = 0; b < 2 * nodeCount; b++) {
    largestBlock = Math.max(largestBlock, blockStart[b + 1]!)
    blockStart[b + 1]! += blockStart[b]!
  }
  const linkCapacityWh = linkCapacitiesWh(tree, params.intervalSeconds)
  let bidCount = 0
  let askCount = 0
  for (let b = 0; b < 2 * nodeCount; b += 2) {
    bidCount += blockStart[b + 1]! - blockStart[b]!
    askCount += blockStart[b + 2]! - blockStart[b + 1]!
  }
  // A one-sided book (every night in a solar street) trades nothing: skip the sorting.
  if (bidCount === 0 || askCount === 0) return emptyResult(nodeCount, linkCapacityWh)
  const fill = blockStart.slice(0, 2 * nodeCount)
  const orig = workspace.int32('orig', n)
  const key = workspace.float64('key', n)
  const price = workspace.float64('price', n)
  const left = workspace.float64('left', n)
  const at = workspace.int32('at', n)
  for (let k = 0; k < n; k++) {
    if (!(orders.energyWh[k]! > 0)) continue
    const side = orders.side[k]!
    const pos = fill[blockOfNode[orders.node[k]!]! + side]!++
    orig[pos] = k
    key[pos] = scheme.keys ? scheme.keys[k]! : priorityKey(scheme, side, orders.limitPrice[k]!, orders.seq[k]!)
    price[pos] = orders.limitPrice[k]!
    left[pos] = orders.energyWh[k]!
    at[pos] = orders.node[k]!
  }
  const tieBreak = (a: number, b: number) => orders.hash[orig[a]!]! < orders.hash[orig[b]!]!
  const own: Book = { pos: workspace.int32('ownPos', n), key: workspace.float64('ownKey', n) }
  sortBlocks(blockStart, key, scheme.maxKey, tieBreak, own, workspace.float64('sortScratch', largestBlock))
  const ownBook = (block: number): Book => ({ pos: own.pos.subarray(blockStart[block]!, blockStart[block + 1]!), key: own.key.subarray(blockStart[block]!, blockStart[block + 1]!) })

  const blocked = workspace.uint8('blocked', n).fill(0)
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

  // What each node passes up: runs in priority order (a run per child it did not read, plus what it read and left open).
  const leftoverBids: Book[][] = new Array(nodeCount)
  const leftoverAsks: Book[][] = new Array(nodeCount)
  // The part of the node's book read so far, bids and asks, in priority order.
  const readBids: Book = { pos: workspace.int32('readBidPos', n), key: workspace.float64('readBidKey', n) }
  const readAsks: Book = { pos: workspace.int32('readAskPos', n), key: workspace.float64('readAskKey', n) }
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
  const payAsClear = params.pricing === 'pay-as-clear'

  // The node being cleared: its two book readers and how far each has been read. The helpers below
  // are made once per clearing, not per node (a closure per node per interval adds up).
  const bids = readBids.pos
  const asks = readAsks.pos
  let bidSource = new BookReader([], tieBreak)
  let askSource = bidSource
  let bidsRead = 0
  let asksRead = 0
  const readBid = (): boolean => {
    const pos = bidSource.next()
    if (pos === -1) return false
    bids[bidsRead] = pos
    readBids.key[bidsRead++] = bidSource.lastKey
    return true
  }
  // nextOpen: union–find over the asks read, skipping those filled or blocked (path halving); the
  // entry one past the last ask read is the open end.
  const readAsk = (): boolean => {
    const pos = askSource.next()
    if (pos === -1) return false
    asks[asksRead] = pos
    readAsks.key[asksRead++] = askSource.lastKey
    nextOpen[asksRead] = asksRead
    return true
  }
  const openFrom = (i: number): number => {
    while (nextOpen[i] !== i) {
      nextOpen[i] = nextOpen[nextOpen[i]!]!
      i = nextOpen[i]!
    }
    return i
  }

  for (const x of tree.bottomUp) {
    const block = blockOfNode[x]!
    const children = tree.children[x]!
    const bidRuns = [ownBook(block)]
    const askRuns = [ownBook(block + 1)]
    for (const c of children) {
      for (const run of leftoverBids[c]!) bidRuns.push(run)
      for (const run of leftoverAsks[c]!) askRuns.push(run)
    }
    bidSource = new BookReader(bidRuns, tieBreak)
    askSource = new BookReader(askRuns, tieBreak)
    bidsRead = 0
    asksRead = 0
    nextOpen[0] = 0
    const fee = feePerKwh[x]!

    // Pay-as-clear: the buyer price at which the uncongested book clears, the midpoint of the marginal
    // bid and the marginal fee-inclusive ask (rounded down); only orders in the money at it trade here.
    let buyerPrice = Number.NaN
    let eligibleBids = Number.POSITIVE_INFINITY
    let eligibleAsks = Number.POSITIVE_INFINITY
    if (payAsClear) {
      let i = 0
      let j = 0
      let bidLeft = readBid() ? left[bids[0]!]! : 0
      let askLeft = readAsk() ? left[asks[0]!]! : 0
      let marginalBid = Number.NaN
      let marginalAsk = 0
      while (i < bidsRead && j < asksRead) {
        const bidPrice = price[bids[i]!]!
        const askPrice = price[asks[j]!]! + fee
        if (bidPrice < askPrice) break
        const q = Math.min(bidLeft, askLeft)
        marginalBid = bidPrice
        marginalAsk = askPrice
        bidLeft -= q
        askLeft -= q
        if (bidLeft === 0) bidLeft = ++i < bidsRead || readBid() ? left[bids[i]!]! : 0
        if (askLeft === 0) askLeft = ++j < asksRead || readAsk() ? left[asks[j]!]! : 0
      }
      eligibleBids = 0
      eligibleAsks = 0
      if (!Number.isNaN(marginalBid)) {
        buyerPrice = Math.floor((marginalBid + marginalAsk) / 2)
        // Bids fall and asks rise in book order, so the orders in the money at the price are prefixes.
        while ((eligibleBids < bidsRead || readBid()) && price[bids[eligibleBids]!]! >= buyerPrice) eligibleBids++
        while ((eligibleAsks < asksRead || readAsk()) && price[asks[eligibleAsks]!]! + fee <= buyerPrice) eligibleAsks++
      }
    }

    let volume = 0
    for (let bi = 0; bi < eligibleBids && (bi < bidsRead || readBid()); bi++) {
      const b = bids[bi]!
      const bidPrice = price[b]!
      let k = openFrom(0)
      if (!payAsClear && (k < asksRead || readAsk()) && bidPrice < price[asks[k]!]! + fee) {
        // Pay-as-bid: this bid cannot reach the cheapest open ask, and every later bid is lower.
        break
      }
      for (; k < eligibleAsks && (k < asksRead || readAsk()) && left[b]! > 0; k = openFrom(k + 1)) {
        const a = asks[k]!
        if (bidPrice < price[a]! + fee) break // asks rise: none further can match
        // Most orders trade at their own node, where no link lies on the way.
        const up = at[a] === x ? Number.POSITIVE_INFINITY : room(at[a]!, x, UP)
        if (up === 0) {
          // A full link on the seller's own path stays full this interval: it cannot trade here or above.
          markFull(at[a]!, x, UP)
          blocked[a] = 1
          nextOpen[k] = k + 1
          continue
        }
        const down = at[b] === x ? Number.POSITIVE_INFINITY : room(at[b]!, x, DOWN)
        if (down === 0) {
          markFull(at[b]!, x, DOWN)
          blocked[b] = 1
          break
        }
        const wanted = Math.min(left[b]!, left[a]!)
        const energyWh = Math.min(wanted, up, down)
        if (at[a] !== x) carry(at[a]!, x, UP, energyWh)
        if (at[b] !== x) carry(at[b]!, x, DOWN, energyWh)
        tradeBuy[tradeCount] = orig[b]!
        tradeSell[tradeCount] = orig[a]!
        tradeNode[tradeCount] = x
        tradeEnergyWh[tradeCount] = energyWh
        tradeBuyerPrice[tradeCount] = payAsClear ? buyerPrice : Math.floor((bidPrice + price[a]! + fee) / 2)
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
    if (volume > 0 && payAsClear) nodeBuyerPrice[x] = buyerPrice

    if (parent[x] !== -1) {
      leftoverBids[x] = [stillOpen(readBids, bidsRead, left, blocked, workspace), ...bidSource.unread()]
      leftoverAsks[x] = [stillOpen(readAsks, asksRead, left, blocked, workspace), ...askSource.unread()]
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

function emptyResult(nodeCount: number, linkCapacityWh: Float64Array): ColumnarResult {
  return {
    tradeCount: 0,
    tradeBuy: new Int32Array(0),
    tradeSell: new Int32Array(0),
    tradeNode: new Int32Array(0),
    tradeEnergyWh: new Float64Array(0),
    tradeBuyerPrice: new Float64Array(0),
    nodeBuyerPrice: new Float64Array(nodeCount).fill(Number.NaN),
    nodeVolumeWh: new Float64Array(nodeCount),
    linkCapacityWh,
    linkUpWh: new Float64Array(nodeCount),
    linkDownWh: new Float64Array(nodeCount),
    linkCongested: new Uint8Array(nodeCount),
    volumeWh: 0,
  }
}

/** The orders read from a book that can still trade further up: energy left and no full link on their way. */
function stillOpen(read: Book, count: number, left: Float64Array, blocked: Uint8Array, workspace: ClearingWorkspace): Book {
  const { pos, key } = read
  let open = 0
  for (let i = 0; i < count; i++) if (left[pos[i]!]! > 0 && blocked[pos[i]!] === 0) open++
  const book = workspace.takeBook(open)
  for (let i = 0, o = 0; i < count; i++) {
    if (left[pos[i]!]! > 0 && blocked[pos[i]!] === 0) {
      book.pos[o] = pos[i]!
      book.key[o++] = key[i]!
    }
  }
  return book
}
