/**
 * Orders of one side in priority order: `pos[i]` is an order's position in the engine's arrays and
 * `key[i]` its priority key (ascending = first). Keys travel with positions so that merging books
 * reads memory in sequence.
 */
export interface Book {
  pos: Int32Array
  key: Float64Array
}

/** Breaks a tie between two orders with equal keys (same price and sequence): true when `a` comes first. */
export type TieBreak = (a: number, b: number) => boolean

/**
 * Sorts every block (one node's bids or asks, `[blockStart[b], blockStart[b + 1])`) into priority
 * order and writes positions and keys to `sorted`. A block is small enough to sort in cache: each key
 * is widened with the order's place in its block (times a power of two, so the split back is exact
 * and cheap) and the native numeric sort carries it along.
 *
 * @example
 * sortBlocks(blockStart, key, tieBreak, ownBooks, scratch)
 */
export function sortBlocks(blockStart: Int32Array, key: Float64Array, tieBreak: TieBreak, sorted: Book, scratch: Float64Array): void {
  for (let b = 0; b + 1 < blockStart.length; b++) {
    const start = blockStart[b]!
    const m = blockStart[b + 1]! - start
    if (m === 0) continue
    let maxKey = 0
    for (let i = 0; i < m; i++) if (key[start + i]! > maxKey) maxKey = key[start + i]!
    let width = 1
    while (width < m) width *= 2
    if ((maxKey + 1) * width <= Number.MAX_SAFE_INTEGER) {
      const inverse = 1 / width
      const widened = scratch.subarray(0, m)
      for (let i = 0; i < m; i++) widened[i] = key[start + i]! * width + i
      widened.sort()
      for (let j = 0; j < m; j++) {
        const w = widened[j]!
        const k = Math.floor(w * inverse)
        sorted.key[start + j] = k
        sorted.pos[start + j] = start + (w - k * width)
      }
    } else {
      const order = Array.from({ length: m }, (_, i) => start + i).sort((a, c) => key[a]! - key[c]!)
      for (let j = 0; j < m; j++) {
        sorted.pos[start + j] = order[j]!
        sorted.key[start + j] = key[order[j]!]!
      }
    }
    for (let i = start; i < start + m; ) {
      let end = i + 1
      while (end < start + m && sorted.key[end] === sorted.key[i]) end++
      if (end - i > 1) sorted.pos.set(Array.from(sorted.pos.subarray(i, end)).sort((a, c) => (tieBreak(a, c) ? -1 : tieBreak(c, a) ? 1 : 0)), i)
      i = end
    }
  }
}

/**
 * One book from several books in priority order, merged two at a time through two scratch books
 * (sequential reads and writes only). Returns a view into a scratch book, or the only non-empty book.
 *
 * @example
 * const bids = mergeBooks([own, ...childLeftovers], tieBreak, scratchA, scratchB)
 */
export function mergeBooks(books: readonly Book[], tieBreak: TieBreak, scratchA: Book, scratchB: Book): Book {
  const runs = books.filter((b) => b.pos.length > 0)
  if (runs.length === 0) return { pos: scratchA.pos.subarray(0, 0), key: scratchA.key.subarray(0, 0) }
  if (runs.length === 1) return runs[0]!
  let from = scratchA
  let to = scratchB
  let bounds = [0]
  for (const run of runs) {
    from.pos.set(run.pos, bounds[bounds.length - 1]!)
    from.key.set(run.key, bounds[bounds.length - 1]!)
    bounds.push(bounds[bounds.length - 1]! + run.pos.length)
  }
  while (bounds.length > 2) {
    const next = [0]
    for (let r = 0; r + 1 < bounds.length; r += 2) {
      const end = r + 2 < bounds.length ? bounds[r + 2]! : bounds[r + 1]!
      mergeTwo(from, bounds[r]!, bounds[r + 1]!, end, to, tieBreak)
      next.push(end)
    }
    bounds = next
    ;[from, to] = [to, from]
  }
  return { pos: from.pos.subarray(0, bounds[1]!), key: from.key.subarray(0, bounds[1]!) }
}

/** Merges from[start, mid) and from[mid, end) into to[start, end). */
function mergeTwo(from: Book, start: number, mid: number, end: number, to: Book, tieBreak: TieBreak): void {
  const { pos, key } = from
  let i = start
  let j = mid
  let o = start
  while (i < mid && j < end) {
    const ki = key[i]!
    const kj = key[j]!
    if (kj < ki || (kj === ki && tieBreak(pos[j]!, pos[i]!))) {
      to.pos[o] = pos[j]!
      to.key[o++] = kj
      j++
    } else {
      to.pos[o] = pos[i]!
      to.key[o++] = ki
      i++
    }
  }
  for (; i < mid; i++, o++) {
    to.pos[o] = pos[i]!
    to.key[o] = key[i]!
  }
  for (; j < end; j++, o++) {
    to.pos[o] = pos[j]!
    to.key[o] = key[j]!
  }
}
