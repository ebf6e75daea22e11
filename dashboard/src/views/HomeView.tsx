import { useMemo } from 'react'
import type { AgentView, TradeView } from '../../../protocol/api.ts'
import type { MarketState } from '../../../protocol/messages.ts'
import type { TelemetrySample } from '../../../protocol/telemetry-history.ts'
import { HomeCard } from '../components/HomeCard.tsx'
import { HomeSelect } from '../components/HomeSelect.tsx'
import { TimeChart } from '../components/TimeChart.tsx'
import { TradeList } from '../components/TradeList.tsx'
import { EscrowPanel } from '../components/EscrowPanel.tsx'
import { formatEnergyWh, formatMoney } from '../format.ts'
import { homeEconomics } from '../logic/economics.ts'
import { useJson } from '../useJson.ts'

/** One home: its telemetry history, its trades, and what trading earned and saved it. */
export function HomeView({ market, agents, home, onHome, refresh }: { market: MarketState | null; agents: AgentView[]; home: string; onHome: (id: string) => void; refresh: number }) {
  const agent = agents.find((a) => a.agentId === home) ?? agents[0]
  const id = agent?.agentId
  const history = useJson<{ samples: TelemetrySample[] }>(id ? `/api/agents/${encodeURIComponent(id)}/telemetry?resolution=raw` : null, `${id}:${Math.floor(refresh / 5)}`)
  const trades = useJson<TradeView[]>(agent ? `/api/trades?limit=1000&owner=${agent.address}` : null, `${id}:${refresh}`)
  const samples = history?.samples ?? []
  const times = useMemo(() => samples.map((s) => Math.floor(Date.parse(s.ts) / 1000)), [samples])
  const series = useMemo(
    () => [
      { label: 'solar', color: '#e69f00', values: samples.map((s) => s.pv_w) },
      { label: 'use', color: '#cc79a7', values: samples.map((s) => s.load_w), dash: true },
      { label: 'grid (+ buys)', color: '#56b4e9', values: samples.map((s) => s.grid_w) },
      { label: 'battery (+ discharges)', color: '#009e73', values: samples.map((s) => s.battery_w), dash: true },
    ],
    [samples],
  )
  if (!agent) return <p className="empty">No homes yet.</p>
  const decimals = market?.tokenDecimals ?? 6
  const symbol = market?.tokenSymbol
  const econ = homeEconomics(trades ?? [], agent.address, market?.referenceTariffs)
  return (
    <>
      <div className="section-head">
        <h2>My home</h2>
        <HomeSelect agents={agents} value={agent.agentId} onChange={onHome} testId="home-select" />
      </div>
      <div className="home-top">
        <HomeCard agent={agent} partners={[]} />
        <section className="summary economics" aria-label="Earnings and savings" data-testid="economics">
          <div className="stat">
            <span className="stat-label">Sold to neighbours</span>
            <span className="stat-value">{formatEnergyWh(econ.soldWh)}</span>
            <span className="stat-note">earned {formatMoney(econ.earned, decimals, symbol)}</span>
          </div>
          <div className="stat">
            <span className="stat-label">Bought from neighbours</span>
            <span className="stat-value">{formatEnergyWh(econ.boughtWh)}</span>
            <span className="stat-note">paid {formatMoney(econ.paid, decimals, symbol)}</span>
          </div>
          <div className="stat">
            <span className="stat-label">Better off than with the utility</span>
            <span className="stat-value">{market?.referenceTariffs ? formatMoney(econ.extraVsFeedIn + econ.savedVsRetail, decimals, symbol) : '–'}</span>
            <span className="stat-note">{market?.referenceTariffs ? `+${formatMoney(econ.extraVsFeedIn, decimals, symbol)} over feed-in, ${formatMoney(econ.savedVsRetail, decimals, symbol)} under retail` : 'no reference tariffs configured'}</span>
          </div>
        </section>
      </div>
      <EscrowPanel address={agent.address} decimals={decimals} symbol={symbol} refresh={refresh} />
      <TimeChart title={`${agent.agentId}: power, last hour`} unit="W" times={times} series={series} testId="home-chart" />
      <h2>Trades of {agent.agentId}</h2>
      <TradeList trades={trades ?? []} decimals={decimals} symbol={symbol} />
    </>
  )
}
