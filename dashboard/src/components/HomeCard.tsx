import type { AgentView } from '../../../protocol/api.ts'
import { formatWatts } from '../format.ts'

const BALANCED_W = 20

/** One home: what it makes, uses, stores and exchanges with the grid right now. */
export function HomeCard({ agent, partners = [] }: { agent: AgentView; partners?: string[] }) {
  const s = agent.snapshot
  const grid = s?.grid_w ?? null
  // Within a few watts of zero the home is balanced: neither buying nor selling.
  const role = grid === null || Math.abs(grid) < BALANCED_W ? 'balanced' : grid < 0 ? 'exporting' : 'importing'
  return (
    <article className={`home-card ${agent.online ? '' : 'home-offline'}`} data-testid="home-card" aria-label={`Home ${agent.agentId}`}>
      <header>
        <h3>{agent.agentId}</h3>
        <span className={`badge ${agent.online ? 'badge-online' : 'badge-offline'}`}>{agent.online ? 'online' : 'offline'}</span>
      </header>
      {agent.escrowShort && (
        <p className="escrow-short" role="status" data-testid="escrow-short">
          Escrow too low: bidding only what it covers
        </p>
      )}
      <dl>
        <dt>Solar</dt>
        <dd>{formatWatts(s?.pv_w)}</dd>
        <dt>Use</dt>
        <dd>{formatWatts(s?.load_w)}</dd>
        {s?.battery_w !== null && s?.battery_w !== undefined && (
          <>
            <dt>Battery</dt>
            <dd>
              {formatWatts(s.battery_w)} · {s.battery_soc_pct ?? '–'} %
            </dd>
          </>
        )}
        <dt>Grid</dt>
        <dd className={`grid-${role}`}>
          {grid === null ? '–' : role === 'balanced' ? 'balanced' : `${role === 'exporting' ? '▲ sells' : '▼ buys'} ${formatWatts(Math.abs(grid))}`}
        </dd>
        {partners.length > 0 && (
          <>
            <dt>Traded with</dt>
            <dd className="partners">{partners.join(', ')}</dd>
          </>
        )}
      </dl>
    </article>
  )
}
