/**
 * How an order's priority key is made (docs/architecture.md "Market clearing"): one exact integer per order that
 * sorts bids by price descending and asks ascending, then by acceptance sequence. Packing price and
 * sequence into one number lets the engine sort with the native numeric sort and compare with one
 * `<`; orders that tie on both (never in the service, which numbers every order) go by hash.
 *
 * Usually the key is packed from the values directly (`key`); when prices and sequence numbers are
 * too far apart to fit 53 bits, from their ranks among the distinct values (`keys`, precomputed).
 *
 * @example
 * const scheme = priorityKeyScheme(side, limitPrice, seq, count)
 * const key = scheme.keys?.[k] ?? priorityKey(scheme, side[k], limitPrice[k], seq[k])
 */
export type PriorityKeyScheme = { minPrice: number; maxPrice: number; minSeq: number; seqSpan: number; maxKey: number; keys?: undefined } | { keys: Float64Array; maxKey: number }

export function priorityKeyScheme(side: Uint8Array, limitPrice: Float64Array, seq: Float64Array, count: number): PriorityKeyScheme {
  let minPrice = Number.POSITIVE_INFINITY
  let maxPrice = 0
  let minSeq = Number.POSITIVE_INFINITY
  let maxSeq = 0
  for (let k = 0; k < count; k++) {
    const p = limitPrice[k]!
    const s = seq[k]!
    if (p < minPrice) minPrice = p
    if (p > maxPrice) maxPrice = p
    if (s < minSeq) minSeq = s
    if (s > maxSeq) maxSeq = s
  }
  const seqSpan = maxSeq - minSeq + 1
  if (count === 0 || (maxPrice - minPrice + 1) * seqSpan <= Number.MAX_SAFE_INTEGER) {
    return { minPrice, maxPrice, minSeq, seqSpan, maxKey: count === 0 ? 0 : (maxPrice - minPrice + 1) * seqSpan - 1 }
  }
  const prices = distinctSorted(limitPrice.subarray(0, count))
  const seqs = distinctSorted(seq.subarray(0, count))
  const keys = new Float64Array(count)
  for (let k = 0; k < count; k++) {
    const p = indexOf(prices, limitPrice[k]!)
    keys[k] = (side[k] === 0 ? prices.length - 1 - p : p) * seqs.length + indexOf(seqs, seq[k]!)
  }
  return { keys, maxKey: prices.length * seqs.length - 1 }
}

/**
 * The packed key of one order under a scheme without precomputed keys.
 *
 * @example
 * priorityKey({ minPrice: 100, maxPrice: 300, minSeq: 1, seqSpan: 10, maxKey: 2009 }, 1, 150, 4) // 503
 */
export function priorityKey(scheme: { minPrice: number; maxPrice: number; minSeq: number; seqSpan: number }, side: number, limitPrice: number, seq: number): number {
  return (side === 0 ? scheme.maxPrice - limitPrice : limitPrice - scheme.minPrice) * scheme.seqSpan + (seq - scheme.minSeq)
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
