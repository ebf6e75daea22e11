import type { BookEntry } from '../../../protocol/api.ts'
import { supplyDemandCurves, type CurveStep } from '../logic/curves.ts'

const W = 640
const H = 280
const PAD = { left: 56, right: 12, top: 12, bottom: 36 }

/** The last interval's supply and demand as step curves, with the clearing point where they met. */
export function SupplyDemandChart({ book, clearingPrice, volumeWh, decimals }: { book: BookEntry[]; clearingPrice: number | null; volumeWh: number; decimals: number }) {
  const { demand, supply } = supplyDemandCurves(book)
  const maxWh = Math.max(1, demand.at(-1)?.toWh ?? 0, supply.at(-1)?.toWh ?? 0)
  const prices = [...demand, ...supply].map((s) => s.price)
  const maxPrice = Math.max(1, ...prices, clearingPrice ?? 0) * 1.05
  const x = (wh: number) => PAD.left + (wh / maxWh) * (W - PAD.left - PAD.right)
  const y = (price: number) => H - PAD.bottom - (price / maxPrice) * (H - PAD.top - PAD.bottom)
  const path = (steps: CurveStep[]) => steps.map((s, i) => `${i === 0 ? 'M' : 'L'}${x(s.fromWh)},${y(s.price)} L${x(s.toWh)},${y(s.price)}`).join(' ')
  const unit = (p: number) => (p / 10 ** decimals).toFixed(2)
  if (book.length === 0) return <p className="empty">No orders in the last interval yet.</p>
  return (
    <figure className="chart" data-testid="supply-demand">
      <figcaption>Supply and demand, last interval</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Supply and demand curves${clearingPrice !== null ? `, cleared ${volumeWh} Wh at ${unit(clearingPrice)} per kWh` : ', no match'}`}>
        <line x1={PAD.left} y1={H - PAD.bottom} x2={W - PAD.right} y2={H - PAD.bottom} className="axis" />
        <line x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={H - PAD.bottom} className="axis" />
        {[0, 0.5, 1].map((f) => (
          <text key={f} x={PAD.left - 6} y={y(maxPrice * f) + 4} textAnchor="end" className="tick">
            {unit(maxPrice * f)}
          </text>
        ))}
        <text x={W - PAD.right} y={H - 8} textAnchor="end" className="tick">
          {maxWh} Wh
        </text>
        <path d={path(demand)} className="curve curve-demand" />
        <path d={path(supply)} className="curve curve-supply" />
        {clearingPrice !== null && volumeWh > 0 && <circle cx={x(volumeWh)} cy={y(clearingPrice)} r={6} className="clearing-point"><title>cleared here</title></circle>}
      </svg>
      <p className="legend">
        <span className="key key-demand">— bids (demand)</span> <span className="key key-supply">- - asks (supply)</span> <span className="key">● clearing point</span>
      </p>
    </figure>
  )
}
