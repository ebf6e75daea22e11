import type { AgentView } from '../../../protocol/api.ts'
import type { IntervalResult } from '../../../protocol/messages.ts'
import type { Topology } from '../../../market/engine/topology.ts'
import { formatEnergyWh, formatTime } from '../format.ts'
import { gridLoading } from '../logic/grid-loading.ts'

/** Transformer and feeder loading against their limits in the last interval, congestion, and homes offline. */
export function GridView({ topology, intervals, agents }: { topology: Topology | null; intervals: IntervalResult[]; agents: AgentView[] }) {
  const last = intervals.find((r) => r.links !== undefined)
  const lines = topology ? gridLoading(topology, last) : []
  const offline = agents.filter((a) => !a.online)
  return (
    <>
      <section aria-labelledby="grid-heading">
        <h2 id="grid-heading">Grid lines{last ? `, interval ${formatTime(last.interval)}` : ''}</h2>
        {lines.length === 0 ? (
          <p className="empty">A single-node community: no lines to load.</p>
        ) : (
          <div className="table-scroll">
            <table className="trades" data-testid="grid-lines">
              <thead>
                <tr>
                  <th scope="col">Line</th>
                  <th scope="col">Up / down</th>
                  <th scope="col">Limit</th>
                  <th scope="col">Loading</th>
                </tr>
              </thead>
              <tbody>
                {lines.map((l) => (
                  <tr key={l.node} data-testid="grid-line" className={l.congested ? 'congested' : ''}>
                    <th scope="row">
                      {l.node} <span className="muted">{l.level}</span>
                    </th>
                    <td>
                      ▲ {formatEnergyWh(l.upWh)} / ▼ {formatEnergyWh(l.downWh)}
                    </td>
                    <td>{l.capacityWh === null ? 'none' : formatEnergyWh(l.capacityWh)}</td>
                    <td>
                      {l.loading === null ? (
                        '–'
                      ) : (
                        <span className="loading">
                          <meter min={0} max={1} high={0.8} value={Math.min(1, l.loading)} aria-label={`${l.node} loading`} /> {Math.round(l.loading * 100)} %
                        </span>
                      )}
                      {l.congested && <strong className="congestion-flag"> ⚠ congested</strong>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section aria-labelledby="offline-heading">
        <h2 id="offline-heading">Homes offline</h2>
        {offline.length === 0 ? (
          <p className="empty" data-testid="offline-homes">Every home is online.</p>
        ) : (
          <ul data-testid="offline-homes">
            {offline.map((a) => (
              <li key={a.agentId}>
                {a.agentId} ({a.node ?? '–'}){a.lastSeen ? `, last seen ${new Date(a.lastSeen).toLocaleTimeString()}` : ''}
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  )
}
