import type { AgentView, TradeView } from '../../../protocol/api.ts'
import type { IntervalResult, MarketState } from '../../../protocol/messages.ts'
import { FlowMap } from '../components/FlowMap.tsx'
import { HomeCard } from '../components/HomeCard.tsx'
import { MarketSummary } from '../components/MarketSummary.tsx'
import { TradeList } from '../components/TradeList.tsx'
import { homeFlows, partnersOf } from '../logic/flows.ts'

const LATEST_TRADES = 8

/** Every home, live, who traded with whom in the last interval, and the latest trades. */
export function NeighbourhoodView({ market, agents, intervals, trades }: { market: MarketState | null; agents: AgentView[]; intervals: IntervalResult[]; trades: TradeView[] }) {
  const lastTraded = intervals.find((r) => r.trades.length > 0)
  const flows = homeFlows(lastTraded, agents)
  const partners = partnersOf(flows)
  return (
    <>
      <MarketSummary market={market} intervals={intervals} online={agents.filter((a) => a.online).length} homes={agents.length} />
      <div className="neighbourhood">
        <FlowMap agents={agents} flows={flows} />
        <section aria-labelledby="homes-heading" className="homes-section">
          <h2 id="homes-heading">Homes</h2>
          <div className="homes">
            {agents.map((a) => (
              <HomeCard key={a.agentId} agent={a} partners={partners.get(a.agentId) ?? []} />
            ))}
          </div>
        </section>
      </div>
      <section aria-labelledby="latest-heading">
        <h2 id="latest-heading">Latest trades</h2>
        <TradeList trades={trades.slice(0, LATEST_TRADES)} decimals={market?.tokenDecimals ?? 6} symbol={market?.tokenSymbol} />
      </section>
    </>
  )
}
