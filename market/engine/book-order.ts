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
 * order and writes positions and keys to `sorted`; every key is at most `maxKey`. A block is small enough to sort in cache: each key
 * is widened with the order's place in its block (times a power of two, so the split back is exact
 * and cheap) and the native numeric sort carries it along.
 *
 * @example
 * sortBlocks(blockStart, key, maxKey, tieBreak, ownBooks, scratch)
 */
export function sortBlocks(blockStart: Int32Array, key: Float64Array, maxKey: number, tieBreak: TieBreak, sorted: Book, scratch: Float64Array): void {
  for (let b = 0; b + 1 < blockStart.length; b++) {
    const start = blockStart[b]!
    const m = blockStart[b + 1]! - start
    if (m === 0) continue
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
    for (let i = start; i < start + m - 1; i++) {
      if (sorted.key[i + 1] !== sorted.key[i]) continue
      let end = i + 2
      while (end < start + m && sorted.key[end] === sorted.key[i]) end++
      sorted.pos.set(Array.from(sorted.pos.subarray(i, end)).sort((a, c) => (tieBreak(a, c) ? -1 : tieBreak(c, a) ? 1 : 0)), i)
      i = end - 1
    }
  }
}

/**
 * A node's book read in priority order, one order at a time: a k-way merge (binary heap of run heads)
 * of its own homes' block and its children's leftover runs. Clearing reads a book only as far as bids
 * and asks still cross; what it never reads goes up to the parent as the same runs, never merged or
 * copied. In a million-order book most orders are never read above their own transformer.
 *
 * @example
 * const bids = new BookReader([ownBids, ...childLeftovers], tieBreak)
 * for (let pos = bids.next(); pos !== -1; pos = bids.next()) use(pos, bids.lastKey)
 */
export class BookReader {
  /** Key of the order `next` returned last. */
  lastKey = 0
  private readonly runs: Book[]
  private readonly head: Int32Array
  private readonly heap: Int32Array
  private size: number

  constructor(runs: readonly Book[], private readonly tieBreak: TieBreak) {
    // Loops, not filter/from with callbacks: a reader is made per node per interval.
    this.runs = []
    for (const r of runs) if (r.pos.length > 0) this.runs.push(r)
    this.head = new Int32Array(this.runs.length)
    this.heap = new Int32Array(this.runs.length)
    for (let r = 0; r < this.runs.length; r++) this.heap[r] = r
    this.size = this.runs.length
    for (let i = (this.size >> 1) - 1; i >= 0; i--) this.siftDown(i)
  }

  /** The next order's position, or -1 when the book is exhausted. */
  next(): number {
    if (this.size === 0) return -1
    const r = this.heap[0]!
    const run = this.runs[r]!
    const h = this.head[r]!
    const pos = run.pos[h]!
    this.lastKey = run.key[h]!
    if (h + 1 < run.pos.length) this.head[r] = h + 1
    else this.heap[0] = this.heap[--this.size]!
    if (this.size > 1) this.siftDown(0)
    return pos
  }

  /** What was never read, as runs still in priority order. */
  unread(): Book[] {
    const out: Book[] = []
    for (let i = 0; i < this.size; i++) {
      const r = this.heap[i]!
      const run = this.runs[r]!
      out.push({ pos: run.pos.subarray(this.head[r]!), key: run.key.subarray(this.head[r]!) })
    }
    return out
  }

  private first(r: number, s: number): boolean {
    const a = this.runs[r]!
    const b = this.runs[s]!
    const ka = a.key[this.head[r]!]!
    const kb = b.key[this.head[s]!]!
    return ka < kb || (ka === kb && this.tieBreak(a.pos[this.head[r]!]!, b.pos[this.head[s]!]!))
  }

  private siftDown(i: number): void {
    const heap = this.heap
    for (;;) {
      const l = 2 * i + 1
      if (l >= this.size) return
      const c = l + 1 < this.size && this.first(heap[l + 1]!, heap[l]!) ? l + 1 : l
      if (!this.first(heap[c]!, heap[i]!)) return
      const t = heap[i]!
      heap[i] = heap[c]!
      heap[c] = t
      i = c
    }
  }
}
