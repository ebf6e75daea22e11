import { freePort } from '../platform/free-port.ts'
import { DEFAULT_SITE, HomeModel, type HomeSite, type HomeSpec } from './home-model.ts'
import { VirtualSunSpecDevice } from './virtual-device.ts'

export interface LiveNeighbourhoodOptions {
  homes: HomeSpec[]
  /** Where and from which date the simulated clock runs (default: Berlin, midsummer). */
  site?: HomeSite
  /** How the homes' batteries are steered: SunSpec 124 (default), 704, or 802's reserve limits only. */
  storageControl?: 124 | 704 | 802
  /** Simulated time of day when the run starts, in seconds after local midnight (default 11:00). */
  startSecondsOfDay?: number
  /** Simulated seconds per real second (default 1). */
  speed?: number
  tickMs?: number
}

export interface LiveHome {
  spec: HomeSpec
  model: HomeModel
  device: VirtualSunSpecDevice
}

/**
 * The live simulator: one virtual SunSpec device per home on its own Modbus TCP port, its registers
 * following that home's model (the same sun, sky and load models as `vpp simulate`) on a simulated
 * clock that runs `speed` times faster than real time, so real agents can talk to it.
 */
export class LiveNeighbourhood {
  readonly homes: LiveHome[] = []
  private timer: NodeJS.Timeout | undefined
  private readonly startedAt = Date.now()
  private lastTick = Date.now()

  constructor(private readonly options: LiveNeighbourhoodOptions) {}

  /** Seconds after local midnight on the simulated clock. */
  secondsOfDay(now = Date.now()): number {
    const start = this.options.startSecondsOfDay ?? 11 * 3600
    return (start + ((now - this.startedAt) / 1000) * (this.options.speed ?? 1)) % 86_400
  }

  async start(): Promise<void> {
    for (const spec of this.options.homes) {
      const device = new VirtualSunSpecDevice({ spec, port: await freePort(), storageControl: this.options.storageControl })
      const model = new HomeModel(spec, this.options.site ?? DEFAULT_SITE)
      device.update(model.step(this.secondsOfDay(), 1), model.counters)
      await device.start()
      this.homes.push({ spec, model, device })
    }
    this.timer = setInterval(() => this.tick(), this.options.tickMs ?? 1000)
  }

  private tick(): void {
    const now = Date.now()
    const dtSimSeconds = ((now - this.lastTick) / 1000) * (this.options.speed ?? 1)
    this.lastTick = now
    const secondsOfDay = this.secondsOfDay(now)
    // A setpoint written to the device's storage controls steers the battery; otherwise it self-consumes.
    for (const home of this.homes) home.device.update(home.model.step(secondsOfDay, dtSimSeconds, home.device.batterySetpointW(now), home.device.batteryReserves()), home.model.counters)
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    await Promise.all(this.homes.map((h) => h.device.stop()))
  }
}
