import { useMemo } from 'react'
import type { Book } from '../../../protocol/api.ts'
import type { IntervalResult, MarketState } from '../../../protocol/messages.ts'
import { SupplyDemandChart } from '../components/SupplyDemandChart.tsx'
import { TimeChart } from '../components/TimeChart.tsx'
import { formatTime } from '../format.ts'
import { useJson } from '../useJson.ts'

/** The last interval's curves, price and volume history, and the open interval's anonymised book. */
export function MarketView({ market, intervals, orderEvents }: { market: MarketState | null; intervals: IntervalResult[]; orderEvents: number }) {
  const decimals = market?.tokenDecimals ?? 6
  const last = intervals.find((r) => r.orders > 0)
  const lastBook = useJson<Book>(last ? `/api/book?interval=${last.interval}` : null, last?.interval)
  const openBook = useJson<Book>(market ? `/api/book?interval=${market.openInterval}` : null, `${market?.openInterval}:${orderEvents}`)
  const history = useMemo(() => [...intervals].sort((a, b) => a.interval - b.interval), [intervals])
  const times = useMemo(() => history.map((r) => r.interval), [history])
  const priceSeries = useMemo(() => [{ label: 'clearing price', color: '#0072b2', values: history.map((r) => (r.clearingPrice === null ? null : r.clearingPrice / 10 ** decimals)) }], [history, decimals])
  const volumeSeries = useMemo(() => [{ label: 'traded', color: '#009e73', values: history.map((r) => r.volumeWh) }], [history])
  return (
    <>
      <SupplyDemandChart book={lastBook?.orders ?? []} clearingPrice={last?.clearingPrice ?? null} volumeWh={last?.volumeWh ?? 0} decimals={decimals} />
      <div className="two-charts">
        <TimeChart title="Clearing price" unit={`${market?.tokenSymbol ?? ''}/kWh`} times={times} series={priceSeries} testId="price-history" />
        <TimeChart title="Traded energy" unit="Wh" times={times} series={volumeSeries} testId="volume-history" />
      </div>
      <section aria-labelledby="book-heading">
        <h2 id="book-heading">Order book of the open interval{market ? ` (${formatTime(market.openInterval)})` : ''}</h2>
        {/* Limits are sealed until gate closure (SECURITY.md): only the counts are public before it. */}
        <p data-testid="order-book">
          {openBook ? `${openBook.bids} bids and ${openBook.asks} asks so far; their limit prices are sealed until gate closure.` : 'Loading…'}
        </p>
      </section>
    </>
  )
}
