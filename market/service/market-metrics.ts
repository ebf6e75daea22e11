import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { IntervalResult } from '../../protocol/messages.ts'

/** The market's Prometheus metrics (`GET /metrics`), one registry per market. */
export class MarketMetrics {
  readonly registry = new Registry()
  readonly ordersAccepted = new Counter({ name: 'vpp_orders_accepted_total', help: 'Orders accepted', registers: [this.registry] })
  readonly ordersRejected = new Counter({ name: 'vpp_orders_rejected_total', help: 'Orders rejected, by reason', labelNames: ['reason'], registers: [this.registry] })
  readonly clearingSeconds = new Histogram({ name: 'vpp_clearing_duration_seconds', help: 'Time to clear one interval', buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 1, 5], registers: [this.registry] })
  readonly tradedWh = new Counter({ name: 'vpp_energy_traded_wh_total', help: 'Energy traded, Wh', registers: [this.registry] })
  readonly intervalsCleared = new Counter({ name: 'vpp_intervals_cleared_total', help: 'Intervals cleared', registers: [this.registry] })
  readonly clearingPrice = new Gauge({ name: 'vpp_clearing_price', help: 'Last clearing price, token base units per kWh', registers: [this.registry] })
  readonly lastVolumeWh = new Gauge({ name: 'vpp_interval_volume_wh', help: 'Energy traded in the last cleared interval, Wh', registers: [this.registry] })
  readonly settlements = new Counter({ name: 'vpp_settlements_total', help: 'Settlement transactions, by outcome', labelNames: ['status'], registers: [this.registry] })
  readonly agentsOnline = new Gauge({ name: 'vpp_agents_online', help: 'Homes whose agent is online', registers: [this.registry] })

  /** One interval cleared: its volume and price. */
  cleared(result: IntervalResult): void {
    this.intervalsCleared.inc()
    this.tradedWh.inc(result.volumeWh)
    this.lastVolumeWh.set(result.volumeWh)
    if (result.clearingPrice !== null) this.clearingPrice.set(result.clearingPrice)
  }
}
