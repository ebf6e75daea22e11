/**
 * Items gathered to be handed over together: at once when the batch is full, otherwise at the end of
 * this turn of the event loop (setImmediate), so what arrives together travels together and nothing
 * waits longer than one turn.
 *
 * @example
 * const batch = new TurnBatch<Job>((jobs) => worker.postMessage(jobs), (jobs) => jobs.length >= 512)
 * batch.add(job)
 */
export class TurnBatch<T> {
  private items: T[] = []
  private scheduled = false

  constructor(
    private readonly send: (items: T[]) => void,
    private readonly isFull: (items: readonly T[]) => boolean,
  ) {}

  get first(): T | undefined {
    return this.items[0]
  }

  add(item: T): void {
    this.items.push(item)
    if (this.isFull(this.items)) this.flush()
    else if (!this.scheduled) {
      this.scheduled = true
      setImmediate(() => {
        this.scheduled = false
        this.flush()
      })
    }
  }

  /** Hands over what is gathered now. */
  flush(): void {
    if (this.items.length) this.send(this.take())
  }

  /** Takes what is gathered, without handing it over. */
  take(): T[] {
    const items = this.items
    this.items = []
    return items
  }
}
