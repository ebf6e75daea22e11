import type { Book } from './book-order.ts'

/**
 * The memory one clearing needs, kept between intervals. A million-order interval needs some 100 MB
 * of typed arrays; allocating them afresh every interval makes V8 run a full garbage collection of
 * the whole process heap (external-memory pressure) each time, which in a process holding the book
 * costs more than the clearing itself. Arrays only grow.
 *
 * A workspace serves one clearing at a time, and a result's arrays are views into it: read them (or
 * copy them) before the next clearing with the same workspace.
 *
 * @example
 * const workspace = new ClearingWorkspace()
 * for (const interval of intervals) useResult(clearColumns(interval.orders, tree, params, workspace))
 */
export class ClearingWorkspace {
  private readonly arrays = new Map<string, Int32Array | Float64Array | Uint8Array>()
  private pool = new Int32Array(0)
  private keyPool = new Float64Array(0)
  private poolTop = 0
  private poolWanted = 0

  int32(name: string, length: number): Int32Array {
    return this.array(name, length, makeInt32) as Int32Array
  }

  float64(name: string, length: number): Float64Array {
    return this.array(name, length, makeFloat64) as Float64Array
  }

  uint8(name: string, length: number): Uint8Array {
    return this.array(name, length, makeUint8) as Uint8Array
  }

  /** Starts a clearing: the book pool is empty again (sized to what the last clearing used). */
  reset(): void {
    if (this.poolWanted > this.pool.length) {
      this.pool = new Int32Array(this.poolWanted)
      this.keyPool = new Float64Array(this.poolWanted)
    }
    this.poolTop = 0
    this.poolWanted = 0
  }

  /** Room for a book of `length` orders that stays valid until the next `reset`. */
  takeBook(length: number): Book {
    this.poolWanted += length
    if (this.poolTop + length > this.pool.length) {
      // Out of room this time: a chunk of its own (the views already handed out keep the old pool alive).
      this.pool = new Int32Array(Math.max(length, this.pool.length))
      this.keyPool = new Float64Array(this.pool.length)
      this.poolTop = 0
    }
    const book = { pos: this.pool.subarray(this.poolTop, this.poolTop + length), key: this.keyPool.subarray(this.poolTop, this.poolTop + length) }
    this.poolTop += length
    return book
  }

  private array(name: string, length: number, make: (n: number) => Int32Array | Float64Array | Uint8Array) {
    let a = this.arrays.get(name)
    if (!a || a.length < length) {
      a = make(Math.max(length, Math.ceil((a?.length ?? 0) * 1.25)))
      this.arrays.set(name, a)
    }
    return a.subarray(0, length)
  }
}

// Module-level makers: a fresh arrow per call would be a closure (and, under esbuild's keepNames, a defineProperty) per array per interval.
const makeInt32 = (n: number) => new Int32Array(n)
const makeFloat64 = (n: number) => new Float64Array(n)
const makeUint8 = (n: number) => new Uint8Array(n)
