import { intervalStart } from '../../protocol/units.ts'

/**
 * The market's interval clock: which interval is open for orders, and a gate closure at each
 * interval's start, when the open interval closes and the next one opens. A closure that throws is
 * handed to `onError` and the clock goes on to the next interval.
 */
export class IntervalClock {
  private open = 0
  private timer: NodeJS.Timeout | undefined
  private stopped = false

  constructor(
    private readonly intervalSeconds: number,
    private readonly onGateClosure: (interval: number) => void,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** The interval open for orders: the one after the current one, until its gate closes. */
  get openInterval(): number {
    return this.open
  }

  /** The interval whose delivery ended at the last gate closure. */
  get deliveringInterval(): number {
    return this.open - this.intervalSeconds
  }

  /** Opens the interval after the one `nowMs` falls in; gates close only once `run` is called. */
  openAt(nowMs: number): void {
    this.open = intervalStart(nowMs / 1000, this.intervalSeconds) + this.intervalSeconds
  }

  run(): void {
    if (this.stopped) return
    const delay = Math.max(0, this.open * 1000 - Date.now())
    this.timer = setTimeout(() => {
      const closing = this.open
      this.open = closing + this.intervalSeconds
      try {
        this.onGateClosure(closing)
      } catch (error) {
        this.onError(error)
      }
      this.run()
    }, delay)
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
  }
}
