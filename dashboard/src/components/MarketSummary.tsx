import { useEffect, useState } from 'react'
import type { IntervalResult, MarketState } from '../../../protocol/messages.ts'
import { formatEnergyWh, formatPrice, formatTime } from '../format.ts'

export function MarketSummary({ market, intervals, online, homes }: { market: MarketState | null; intervals: IntervalResult[]; online: number; homes: number }) {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 500)
    return () => clearInterval(timer)
  }, [])
  const decimals = market?.tokenDecimals ?? 6
  const lastCleared = intervals.find((r) => r.clearingPrice !== null)
  const tradedWh = intervals.reduce((sum, r) => sum + r.volumeWh, 0)
  const secondsLeft = market ? Math.max(0, Math.ceil(market.gateClosure - now / 1000)) : null

  return (
    <section className="summary" aria-label="Market summary">
      <div className="stat">
        <span className="stat-label">Open interval</span>
        <span className="stat-value">{market ? formatTime(market.openInterval) : '–'}</span>
        <span className="stat-note">{secondsLeft === null ? '' : `gate closes in ${secondsLeft} s`}</span>
      </div>
      <div className="stat">
        <span className="stat-label">Last clearing price</span>
        <span className="stat-value" data-testid="clearing-price">
          {lastCleared ? formatPrice(lastCleared.clearingPrice, decimals, market?.tokenSymbol) : '–'}
        </span>
        <span className="stat-note">{lastCleared ? `interval ${formatTime(lastCleared.interval)}` : 'waiting for the first match'}</span>
      </div>
      <div className="stat">
        <span className="stat-label">Traded recently</span>
        <span className="stat-value">{formatEnergyWh(tradedWh)}</span>
        <span className="stat-note">last {intervals.length} intervals</span>
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
