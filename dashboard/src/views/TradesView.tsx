import type { AgentView, TradeView } from '../../../protocol/api.ts'
import type { MarketState } from '../../../protocol/messages.ts'
import { TradeList } from '../components/TradeList.tsx'

/** Every trade live, with its settlement on chain; filtered to one home on request. */
export function TradesView({ market, agents, trades, filter, onFilter }: { market: MarketState | null; agents: AgentView[]; trades: TradeView[]; filter: string; onFilter: (home: string) => void }) {
  const shown = filter ? trades.filter((t) => t.buyerAgent === filter || t.sellerAgent === filter) : trades
  return (
    <section aria-labelledby="trades-heading">
      <div className="section-head">
        <h2 id="trades-heading">Trades</h2>
        <label>
          Home{' '}
          <select value={filter} onChange={(e) => onFilter(e.target.value)} data-testid="trade-filter">
            <option value="">all homes</option>
            {agents.map((a) => (
              <option key={a.agentId} value={a.agentId}>
                {a.agentId}
              </option>
            ))}
          </select>
        </label>
      </div>
      <TradeList trades={shown} decimals={market?.tokenDecimals ?? 6} symbol={market?.tokenSymbol} />
    </section>
  )
}
