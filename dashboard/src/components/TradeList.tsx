import type { TradeView } from '../../../protocol/api.ts'
import { formatEnergyWh, formatPrice, formatTime, shortHex } from '../format.ts'

export function TradeList({ trades, decimals, symbol }: { trades: TradeView[]; decimals: number; symbol?: string }) {
  if (trades.length === 0) return <p className="empty">No trades yet: they appear here as soon as an interval clears.</p>
  return (
    <div className="table-scroll">
      <table className="trades">
        <thead>
          <tr>
            <th scope="col">Interval</th>
            <th scope="col">Seller → buyer</th>
            <th scope="col">Energy</th>
            <th scope="col">Price</th>
            <th scope="col">Settlement</th>
          </tr>
        </thead>
        <tbody>
          {trades.map((t, i) => (
            <tr key={`${t.buyOrder}-${t.sellOrder}-${i}`} data-testid="trade-row">
              <td>{formatTime(t.interval)}</td>
              <td>
                {t.sellerAgent ?? shortHex(t.seller)} → {t.buyerAgent ?? shortHex(t.buyer)}
              </td>
              <td>{formatEnergyWh(t.energyWh)}</td>
              <td>{formatPrice(t.price, decimals, symbol)}</td>
              <td>
                {t.settlementStatus === 'settled' && t.settlementTx ? (
                  <span className="settled" title={t.settlementTx}>
                    ✓ {shortHex(t.settlementTx)}
                  </span>
                ) : (
                  <span className={`settlement-${t.settlementStatus}`}>{t.settlementStatus}</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
