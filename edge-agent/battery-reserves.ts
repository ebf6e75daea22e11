import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import type { BatteryReserves } from './sunspec/storage-control.ts'

const reservesSchema = z.object({ SocRsvMax: z.number().int().min(0).max(0xfffe), SoCRsvMin: z.number().int().min(0).max(0xfffe) }).strict()

/**
 * The homeowner's own battery reserve limits (model 802), kept from the agent's first change until
 * it writes them back. On disk when the agent has a data directory, so an agent that died while
 * steering restores them at its next start instead of leaving the battery held.
 */
export class ReserveKeeper {
  private original: BatteryReserves | undefined
  private readonly path: string | undefined

  constructor(dataDir: string | undefined, onInvalid: (message: string) => void) {
    this.path = dataDir ? join(dataDir, 'battery-reserves.json') : undefined
    if (this.path && existsSync(this.path)) {
      let json: unknown
      try {
        json = JSON.parse(readFileSync(this.path, 'utf8'))
      } catch {
        json = undefined
      }
      const parsed = reservesSchema.safeParse(json)
      if (parsed.success) this.original = parsed.data
      else onInvalid(`${this.path} does not hold the battery's reserve limits (${parsed.error.issues[0]?.message}); it is ignored: check SoCRsvMin and SocRsvMax on the battery`)
    }
  }

  /** What to restore: set by an earlier change (this run's or a previous one's), if any. */
  saved(): BatteryReserves | undefined {
    return this.original
  }

  /** Keeps `current` as the owner's limits unless some are kept already, and returns what is kept. */
  capture(current: BatteryReserves): BatteryReserves {
    if (!this.original) {
      this.original = reservesSchema.parse(current)
      if (this.path) writeFileSync(this.path, JSON.stringify(this.original))
    }
    return this.original
  }

  /** The owner's limits are back on the battery: nothing to keep. */
  clear(): void {
    this.original = undefined
    if (this.path) rmSync(this.path, { force: true })
  }
}
