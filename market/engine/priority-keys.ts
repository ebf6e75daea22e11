/**
 * One number per order that sorts it in book priority (DESIGN.md "Market clearing"): bids by price
 * descending, asks ascending, then acceptance sequence. Packing price and sequence into one exact
 * integer lets the engine sort with the native numeric sort and compare with one `<`; orders that tie
 * on both (never in the service, which numbers every order) are then ordered by hash.
 *
 * @example
 * const key = priorityKeys(side, limitPrice, seq)
 * key[a] < key[b] // a has priority over b (same side)
 */
export function priorityKeys(side: Uint8Array, limitPrice: Float64Array, seq: Float64Array, key = new Float64Array(side.length)): Float64Array {
  const n = side.length
  let minP = Number.POSITIVE_INFINITY
  let maxP = 0
  let minS = Number.POSITIVE_INFINITY
  let maxS = 0
  for (let k = 0; k < n; k++) {
    const p = limitPrice[k]!
    const s = seq[k]!
    if (p < minP) minP = p
    if (p > maxP) maxP = p
    if (s < minS) minS = s
    if (s > maxS) maxS = s
  }
  const spanS = maxS - minS + 1
  if ((maxP - minP + 1) * spanS <= Number.MAX_SAFE_INTEGER) {
    for (let k = 0; k < n; k++) key[k] = (side[k] === 0 ? maxP - limitPrice[k]! : limitPrice[k]! - minP) * spanS + (seq[k]! - minS)
    return key
  }
  // Prices and sequence numbers too far apart to pack: pack their ranks among the distinct values instead.
  const prices = distinctSorted(limitPrice)
  const seqs = distinctSorted(seq)
  for (let k = 0; k < n; k++) {
    const p = indexOf(prices, limitPrice[k]!)
    key[k] = (side[k] === 0 ? prices.length - 1 - p : p) * seqs.length + indexOf(seqs, seq[k]!)
  }
  return key
}

function distinctSorted(values: Float64Array): Float64Array {
  const sorted = values.slice().sort()
  let count = 0
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[count - 1]) sorted[count++] = sorted[i]!
  return sorted.subarray(0, count)
}

function indexOf(sorted: Float64Array, value: number): number {
  let lo = 0
  let hi = sorted.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid]! < value) lo = mid + 1
    else hi = mid
  }
  return lo
}
