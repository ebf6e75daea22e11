import { useEffect, useState, type KeyboardEvent } from 'react'
import type { Topology } from '../../market/engine/topology.ts'
import { ConnectionStatus } from './components/ConnectionStatus.tsx'
import { useJson } from './useJson.ts'
import { useLiveMarket } from './useLiveMarket.ts'
import { GridView } from './views/GridView.tsx'
import { HomeView } from './views/HomeView.tsx'
import { MarketView } from './views/MarketView.tsx'
import { NeighbourhoodView } from './views/NeighbourhoodView.tsx'
import { TradesView } from './views/TradesView.tsx'
import { MembersView } from './views/MembersView.tsx'

const VIEWS = [
  { id: 'neighbourhood', label: 'Neighbourhood' },
  { id: 'market', label: 'Market' },
  { id: 'trades', label: 'Trades' },
  { id: 'home', label: 'My home' },
  { id: 'grid', label: 'Grid' },
  { id: 'members', label: 'Members' },
] as const
type ViewId = (typeof VIEWS)[number]['id']

/** The view and home named in the address (`/?view=market`, `/?home=home-03`), so a link opens them. */
function fromLocation(): { view: ViewId; home: string } {
  const q = new URLSearchParams(window.location.search)
  const home = q.get('home') ?? ''
  const view = VIEWS.find((v) => v.id === q.get('view'))?.id ?? (home ? 'home' : 'neighbourhood')
  return { view, home }
}

export function App() {
  const live = useLiveMarket()
  const { status, market, agents, intervals, trades } = live
  const [{ view, home }, setPlace] = useState(fromLocation)
  const [tradeFilter, setTradeFilter] = useState('')
  const topology = useJson<Topology>('/api/topology', status)

  useEffect(() => {
    const onPop = () => setPlace(fromLocation())
    window.addEventListener('popstate', onPop)
    return () => window.removeEventListener('popstate', onPop)
  }, [])
  const go = (next: { view: ViewId; home?: string }) => {
    const place = { view: next.view, home: next.home ?? home }
    const q = new URLSearchParams()
    if (place.view !== 'neighbourhood') q.set('view', place.view)
    if (place.view === 'home' && place.home) q.set('home', place.home)
    window.history.pushState(null, '', q.size ? `?${q}` : window.location.pathname)
    setPlace(place)
  }
  // Arrow keys move between tabs, as in any tab list (WAI-ARIA Authoring Practices, "Tabs").
  const onTabKey = (e: KeyboardEvent<HTMLButtonElement>, index: number) => {
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0
    if (!step) return
    const next = VIEWS[(index + step + VIEWS.length) % VIEWS.length]!
    go({ view: next.id })
    document.getElementById(`tab-${next.id}`)?.focus()
  }

  return (
    <div className="app">
      <header className="topbar">
        <div>
          <h1>OpenVPP</h1>
          <p className="subtitle">{market ? `Neighbourhood ${market.community}` : 'Neighbourhood energy market'}</p>
        </div>
        <ConnectionStatus status={status} />
      </header>
      <nav className="tabs" role="tablist" aria-label="Views">
        {VIEWS.map((v, i) => (
          <button
            key={v.id}
            id={`tab-${v.id}`}
            role="tab"
            aria-selected={view === v.id}
            aria-controls="view"
            tabIndex={view === v.id ? 0 : -1}
            className={view === v.id ? 'tab tab-active' : 'tab'}
            onClick={() => go({ view: v.id })}
            onKeyDown={(e) => onTabKey(e, i)}
            data-testid={`tab-${v.id}`}
          >
            {v.label}
          </button>
        ))}
      </nav>
      <main id="view" role="tabpanel" aria-labelledby={`tab-${view}`}>
        {view === 'neighbourhood' && <NeighbourhoodView market={market} agents={agents} intervals={intervals} trades={trades} />}
        {view === 'market' && <MarketView market={market} intervals={intervals} orderEvents={live.orderEvents} />}
        {view === 'trades' && <TradesView market={market} agents={agents} trades={trades} filter={tradeFilter} onFilter={setTradeFilter} />}
        {view === 'home' && <HomeView market={market} agents={agents} home={home} onHome={(id) => go({ view: 'home', home: id })} refresh={live.intervalEvents} />}
        {view === 'grid' && <GridView topology={topology} intervals={intervals} agents={agents} />}
        {view === 'members' && <MembersView refresh={live.memberEvents} />}
      </main>
    </div>
  )
}
