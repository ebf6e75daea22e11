import type { PrivateKeyAccount } from 'viem/accounts'
import type { Logger } from '../platform/logger.ts'
import type { Counters } from '../platform/counters.ts'
import type { MarketState } from '../protocol/messages.ts'
import type { SignedOrder } from '../protocol/order.ts'
import type { Snapshot } from '../protocol/snapshot.ts'
import type { StrategyParams } from './strategy.ts'
import type { BatteryLimits } from './battery-controller.ts'
import type { EscrowFit } from './escrow-budget.ts'
import { fetchOwnEscrow } from './escrow-client.ts'
import { LoadProfile, forecastInterval, type IntervalForecast } from './forecast.ts'
import { signOrder } from './order-signer.ts'
import { planIntervalOrders } from './interval-orders.ts'

/** How much recent power the forecast looks at. */
const FORECAST_WINDOW_SAMPLES = 60

export interface IntervalTraderOptions {
  account: PrivateKeyAccount
  strategy: StrategyParams
  battery?: BatteryLimits
  /** The market's HTTP API, asked what the escrow has free before each interval's orders; absent: orders go out as planned. */
  marketUrl?: string
  publishOrder(signed: SignedOrder): void
  /** The escrow flag changed: the agent's retained state says so. */
  onEscrowFlag(): void
  counters: Counters
  log: Logger
}

/**
 * The home's trading, once per interval (docs/parts/edge-agent.md "Trades"): a little after the
 * interval opens, its forecast position (forecast.ts, from the recent samples, the learned load and
 * the battery), the orders for it (interval-orders.ts) cut to what the escrow has free, signed and
 * published.
 */
export class IntervalTrader {
  /** Whether the escrow could not cover the last interval's plan; unknown until asked. */
  escrowShort: boolean | undefined
  private readonly recent: Snapshot[] = []
  private readonly loadProfile = new LoadProfile()
  private orderedInterval = 0
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly options: IntervalTraderOptions) {}

  /** A new sample: the forecast's recent window, and the household's load profile. */
  observe(snapshot: Snapshot): void {
    this.recent.push(snapshot)
    if (this.recent.length > FORECAST_WINDOW_SAMPLES) this.recent.shift()
    if (snapshot.load_w !== null) {
      const d = new Date(snapshot.ts)
      this.loadProfile.observe(d.getHours() + d.getMinutes() / 60, snapshot.load_w)
    }
  }

  /** The market's state: a newly opened interval gets its orders, spread so the homes do not all publish at once. */
  marketState(market: MarketState): void {
    if (market.openInterval <= this.orderedInterval) return
    this.orderedInterval = market.openInterval
    const window = Math.max(0, market.gateClosure * 1000 - Date.now())
    const delay = Math.min(window * 0.5, 200 + Math.random() * window * 0.3)
    clearTimeout(this.timer)
    this.timer = setTimeout(() => void this.placeOrders(market).catch((error) => this.options.log.error({ err: error }, 'agent: placing orders failed')), delay)
  }

  stop(): void {
    clearTimeout(this.timer)
  }

  /** The home's forecast position for the open interval, from its recent samples, its learned load and its battery. */
  forecast(market: MarketState): IntervalForecast {
    const mean = (values: (number | null)[]) => {
      const present = values.filter((v): v is number => v !== null)
      return present.length ? present.reduce((a, b) => a + b, 0) / present.length : 0
    }
    const hourOf = (unixSeconds: number) => {
      const d = new Date(unixSeconds * 1000)
      return d.getHours() + d.getMinutes() / 60 + d.getSeconds() / 3600
    }
    const b = this.options.battery
    const soc = this.recent.at(-1)?.battery_soc_pct ?? null
    return forecastInterval({
      recentPvW: mean(this.recent.map((s) => s.pv_w)),
      recentLoadW: mean(this.recent.map((s) => s.load_w)),
      nowHour: hourOf(Date.now() / 1000),
      targetStartHour: hourOf(market.openInterval),
      intervalSeconds: market.intervalSeconds,
      profile: this.loadProfile,
      battery: b?.capacityWh && soc !== null ? { socPct: soc, capacityWh: b.capacityWh, maxW: b.maxW, floorPct: b.socFloorPct } : undefined,
    })
  }

  /**
   * What the escrow has free, asked of the market with a query signed by the home's key; undefined
   * when there is no market URL or it cannot be asked (then the plan goes out whole and intake refuses
   * what the escrow does not cover).
   */
  private async freeEscrow(): Promise<{ freeBaseUnits: bigint; imbalancePrice: number } | undefined> {
    if (!this.options.marketUrl) return undefined
    try {
      const escrow = await fetchOwnEscrow(this.options.marketUrl, this.options.account)
      return { freeBaseUnits: escrow.free, imbalancePrice: escrow.imbalancePrice }
    } catch (error) {
      this.options.counters.increment('escrow_query_failed')
      this.options.log.warn({ err: (error as Error).message }, 'agent: could not ask the market what the escrow has free; orders go out as planned')
      return undefined
    }
  }

  /** Signs and publishes the interval's orders (interval-orders.ts), bidding only what the escrow covers. */
  private async placeOrders(market: MarketState): Promise<void> {
    const { account, counters } = this.options
    const input = { netWh: this.forecast(market).netWh, strategy: this.options.strategy, market, owner: account.address }
    // Only a home with something to trade asks the market about its escrow.
    if (planIntervalOrders(input).orders.length === 0) return
    const escrow = await this.freeEscrow()
    const { orders, fit } = planIntervalOrders({ ...input, escrow })
    if (fit) this.noteEscrow(fit, escrow!.freeBaseUnits, market.openInterval)
    for (const order of orders) {
      this.options.publishOrder(await signOrder(account, order, market.chainId, market.settlement))
      counters.increment('orders_sent')
    }
    this.options.log.debug({ interval: market.openInterval, orders: orders.length }, 'agent: orders sent')
  }

  /** When the escrow cut the plan: a warning and a count; whenever that changes, the state flag. */
  private noteEscrow(fit: EscrowFit, freeBaseUnits: bigint, interval: number): void {
    if (fit.short) {
      this.options.counters.increment('orders_cut_for_escrow')
      this.options.log.warn(
        { interval, freeBaseUnits: freeBaseUnits.toString(), plannedHoldBaseUnits: fit.plannedHoldBaseUnits.toString(), keptHoldBaseUnits: fit.keptHoldBaseUnits.toString() },
        'agent: escrow cannot cover the planned orders; bidding only what it covers (vpp wallet deposit adds money)',
      )
    }
    if (fit.short !== this.escrowShort) {
      this.escrowShort = fit.short
      this.options.onEscrowFlag()
    }
  }
}
