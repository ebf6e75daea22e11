import { ConnectionStatus } from './components/ConnectionStatus.tsx'
import { HomeCard } from './components/HomeCard.tsx'
import { MarketSummary } from './components/MarketSummary.tsx'
import { TradeList } from './components/TradeList.tsx'
import { useLiveMarket } from './useLiveMarket.ts'

export function App() {
  const { status, market, agents, intervals, trades } = useLiveMarket()
  return (
    <div className="app">
      <header className="topbar">
        <div>
          <h1>OpenVPP</h1>
          <p className="subtitle">{market ? `Neighbourhood ${market.community}` : 'Neighbourhood energy market'}</p>
        </div>
        <ConnectionStatus status={status} />
      </header>
      <main>
        <MarketSummary market={market} intervals={intervals} online={agents.filter((a) => a.online).length} homes={agents.length} />
        <section aria-labelledby="homes-heading">
          <h2 id="homes-heading">Homes</h2>
          <div className="homes">
            {agents.map((a) => (
              <HomeCard key={a.agentId} agent={a} />
            ))}
          </div>
        </section>
        <section aria-labelledby="trades-heading">
          <h2 id="trades-heading">Trades</h2>
          <TradeList trades={trades} decimals={market?.tokenDecimals ?? 6} symbol={market?.tokenSymbol} />
        </section>
      </main>
    </div>
  )
}
