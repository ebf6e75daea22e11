import { useEffect, useState } from 'react'
import type { IntervalResult, MarketState } from '../../../protocol/messages.ts'
import { formatEnergyWh, formatPrice, formatShare, formatTime } from '../format.ts'
import { neighbourShare } from '../logic/flows.ts'

/** The market at a glance: open interval and time to gate closure, last price, volume, neighbours' share, homes online. */
export function MarketSummary({ market, intervals, online, homes }: { market: MarketState | null; intervals: IntervalResult[]; online: number; homes: number }) {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 500)
    return () => clearInterval(timer)
  }, [])
  const decimals = market?.tokenDecimals ?? 6
  const lastCleared = intervals.find((r) => r.clearingPrice !== null)
  const lastInterval = intervals[0]
  const midnight = new Date(now)
  midnight.setHours(0, 0, 0, 0)
  const share = neighbourShare(intervals, midnight.getTime() / 1000)
  const secondsLeft = market ? Math.max(0, Math.ceil(market.gateClosure - now / 1000)) : null

  return (
    <section className="summary" aria-label="Market summary">
      <div className="stat">
        <span className="stat-label">Open interval</span>
        <span className="stat-value">{market ? formatTime(market.openInterval) : '–'}</span>
        <span className="stat-note" data-testid="gate-closure">{secondsLeft === null ? '' : `gate closes in ${secondsLeft} s`}</span>
      </div>
      <div className="stat">
        <span className="stat-label">Last clearing price</span>
        <span className="stat-value" data-testid="clearing-price">
          {lastCleared ? formatPrice(lastCleared.clearingPrice, decimals, market?.tokenSymbol) : '–'}
        </span>
        <span className="stat-note">{lastCleared ? `interval ${formatTime(lastCleared.interval)}` : 'waiting for the first match'}</span>
      </div>
      <div className="stat">
        <span className="stat-label">Traded last interval</span>
        <span className="stat-value" data-testid="traded-energy" data-interval={lastInterval?.interval}>{lastInterval ? formatEnergyWh(lastInterval.volumeWh) : '–'}</span>
        <span className="stat-note">{lastInterval ? `interval ${formatTime(lastInterval.interval)}` : ''}</span>
      </div>
      <div className="stat">
        <span className="stat-label">Demand met by neighbours</span>
        <span className="stat-value" data-testid="neighbour-share">{formatShare(share)}</span>
        <span className="stat-note">today</span>
      </div>
      <div className="stat">
        <span className="stat-label">Homes online</span>
        <span className="stat-value">
          {online} / {homes}
        </span>
      </div>
    </section>
  )
}
