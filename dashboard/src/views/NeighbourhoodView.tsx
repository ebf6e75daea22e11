import type { AgentView } from '../../../protocol/api.ts'
import type { IntervalResult, MarketState } from '../../../protocol/messages.ts'
import { FlowMap } from '../components/FlowMap.tsx'
import { HomeCard } from '../components/HomeCard.tsx'
import { MarketSummary } from '../components/MarketSummary.tsx'
import { homeFlows, partnersOf } from '../logic/flows.ts'

/** Every home, live, and who traded with whom in the last interval. */
export function NeighbourhoodView({ market, agents, intervals }: { market: MarketState | null; agents: AgentView[]; intervals: IntervalResult[] }) {
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
    </>
  )
}
