import { useMemo } from 'react'
import type { BookEntry } from '../../../protocol/api.ts'
import type { IntervalResult, MarketState } from '../../../protocol/messages.ts'
import { SupplyDemandChart } from '../components/SupplyDemandChart.tsx'
import { TimeChart } from '../components/TimeChart.tsx'
import { formatEnergyWh, formatPrice, formatTime } from '../format.ts'
import { useJson } from '../useJson.ts'

/** The last interval's curves, price and volume history, and the open interval's anonymised book. */
export function MarketView({ market, intervals, orderEvents }: { market: MarketState | null; intervals: IntervalResult[]; orderEvents: number }) {
  const decimals = market?.tokenDecimals ?? 6
  const last = intervals.find((r) => r.orders > 0)
  const lastBook = useJson<{ interval: number; orders: BookEntry[] }>(last ? `/api/book?interval=${last.interval}` : null, last?.interval)
  const openBook = useJson<{ interval: number; orders: BookEntry[] }>(market ? `/api/book?interval=${market.openInterval}` : null, `${market?.openInterval}:${orderEvents}`)
  const history = useMemo(() => [...intervals].sort((a, b) => a.interval - b.interval), [intervals])
  const times = useMemo(() => history.map((r) => r.interval), [history])
  const priceSeries = useMemo(() => [{ label: 'clearing price', color: '#0072b2', values: history.map((r) => (r.clearingPrice === null ? null : r.clearingPrice / 10 ** decimals)) }], [history, decimals])
  const volumeSeries = useMemo(() => [{ label: 'traded', color: '#009e73', values: history.map((r) => r.volumeWh) }], [history])
  const book = [...(openBook?.orders ?? [])].sort((a, b) => a.side - b.side || (a.side === 0 ? b.limitPrice - a.limitPrice : a.limitPrice - b.limitPrice))
  return (
    <>
      <SupplyDemandChart book={lastBook?.orders ?? []} clearingPrice={last?.clearingPrice ?? null} volumeWh={last?.volumeWh ?? 0} decimals={decimals} />
      <div className="two-charts">
        <TimeChart title="Clearing price" unit={`${market?.tokenSymbol ?? ''}/kWh`} times={times} series={priceSeries} testId="price-history" />
        <TimeChart title="Traded energy" unit="Wh" times={times} series={volumeSeries} testId="volume-history" />
      </div>
      <section aria-labelledby="book-heading">
        <h2 id="book-heading">Order book of the open interval{market ? ` (${formatTime(market.openInterval)})` : ''}</h2>
        {book.length === 0 ? (
          <p className="empty">No orders yet for the open interval.</p>
        ) : (
          <div className="table-scroll">
            <table className="trades" data-testid="order-book">
              <thead>
                <tr>
                  <th scope="col">Side</th>
                  <th scope="col">Energy</th>
                  <th scope="col">Limit</th>
                </tr>
              </thead>
              <tbody>
                {book.map((o, i) => (
                  <tr key={i} className={o.side === 0 ? 'row-bid' : 'row-ask'}>
                    <td>{o.side === 0 ? '▼ bid (buy)' : '▲ ask (sell)'}</td>
                    <td>{formatEnergyWh(o.energyWh)}</td>
                    <td>{formatPrice(o.limitPrice, decimals, market?.tokenSymbol)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  )
}
