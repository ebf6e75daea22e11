import type { AgentView, TradeView } from '../../../protocol/api.ts'
import type { MarketState } from '../../../protocol/messages.ts'
import { HomeSelect } from '../components/HomeSelect.tsx'
import { TradeList } from '../components/TradeList.tsx'

/** Every trade live, with its settlement on chain; filtered to one home on request. */
export function TradesView({ market, agents, trades, filter, onFilter }: { market: MarketState | null; agents: AgentView[]; trades: TradeView[]; filter: string; onFilter: (home: string) => void }) {
  const shown = filter ? trades.filter((t) => t.buyerAgent === filter || t.sellerAgent === filter) : trades
  return (
    <section aria-labelledby="trades-heading">
      <div className="section-head">
        <h2 id="trades-heading">Trades</h2>
        <HomeSelect agents={agents} value={filter} onChange={onFilter} testId="trade-filter" allLabel="all homes" />
      </div>
      <TradeList trades={shown} decimals={market?.tokenDecimals ?? 6} symbol={market?.tokenSymbol} />
    </section>
  )
}
