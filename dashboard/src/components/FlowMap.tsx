import type { AgentView } from '../../../protocol/api.ts'
import type { HomeFlow } from '../logic/flows.ts'
import { formatWatts } from '../format.ts'

const SIZE = 360
const R = 140

/**
 * The street as a picture: homes around a circle, grouped by transformer, an arrow from each seller to
 * each buyer of the last interval, thicker for more energy.
 */
export function FlowMap({ agents, flows }: { agents: AgentView[]; flows: HomeFlow[] }) {
  const ordered = [...agents].sort((a, b) => (a.node ?? '').localeCompare(b.node ?? '') || a.agentId.localeCompare(b.agentId))
  const at = new Map(ordered.map((a, i) => {
    const angle = (2 * Math.PI * i) / Math.max(1, ordered.length) - Math.PI / 2
    return [a.agentId, { x: SIZE / 2 + R * Math.cos(angle), y: SIZE / 2 + R * Math.sin(angle) }]
  }))
  const maxWh = Math.max(1, ...flows.map((f) => f.energyWh))
  return (
    <figure className="flow-map" data-testid="flow-map">
      <figcaption>Who traded with whom, last interval</figcaption>
      <svg viewBox={`0 0 ${SIZE} ${SIZE}`} role="img" aria-label={flows.length ? flows.map((f) => `${f.from} sold ${f.energyWh} Wh to ${f.to}`).join('; ') : 'no trades in the last interval'}>
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="12" markerHeight="12" markerUnits="userSpaceOnUse" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" className="arrowhead" />
          </marker>
        </defs>
        {flows.map((f) => {
          const a = at.get(f.from)
          const b = at.get(f.to)
          if (!a || !b) return null
          // Stop short of the buyer's circle so the arrowhead stays visible.
          const len = Math.hypot(b.x - a.x, b.y - a.y) || 1
          const end = { x: b.x - ((b.x - a.x) / len) * 22, y: b.y - ((b.y - a.y) / len) * 22 }
          return (
            <line key={`${f.from}-${f.to}`} x1={a.x} y1={a.y} x2={end.x} y2={end.y} className="flow" strokeWidth={1.5 + (5 * f.energyWh) / maxWh} markerEnd="url(#arrow)" data-testid="flow">
              <title>{`${f.from} → ${f.to}: ${f.energyWh} Wh`}</title>
            </line>
          )
        })}
        {ordered.map((a) => {
          const p = at.get(a.agentId)!
          const grid = a.snapshot?.grid_w ?? 0
          const role = !a.online ? 'offline' : grid < -20 ? 'exporting' : grid > 20 ? 'importing' : 'balanced'
          return (
            <g key={a.agentId} className={`flow-home flow-${role}`}>
              <circle cx={p.x} cy={p.y} r={18}>
                <title>{`${a.agentId} (${a.node ?? ''}): solar ${formatWatts(a.snapshot?.pv_w)}, use ${formatWatts(a.snapshot?.load_w)}${role === 'offline' ? ', offline' : ''}`}</title>
              </circle>
              <text x={p.x} y={p.y + 4} textAnchor="middle">
                {a.agentId.replace(/^home-/, '')}
              </text>
            </g>
          )
        })}
      </svg>
    </figure>
  )
}
