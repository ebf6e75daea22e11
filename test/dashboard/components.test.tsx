import { describe, expect, it } from 'vitest'
import { renderToStaticMarkup } from 'react-dom/server'
import type { AgentView, TradeView } from '../../protocol/api.ts'
import type { IntervalResult } from '../../protocol/messages.ts'
import { FlowMap } from '../../dashboard/src/components/FlowMap.tsx'
import { HomeCard } from '../../dashboard/src/components/HomeCard.tsx'
import { SupplyDemandChart } from '../../dashboard/src/components/SupplyDemandChart.tsx'
import { TradeList } from '../../dashboard/src/components/TradeList.tsx'
import { GridView } from '../../dashboard/src/views/GridView.tsx'
import { TradesView } from '../../dashboard/src/views/TradesView.tsx'

const agent = (agentId: string, online = true, gridW = -500): AgentView => ({
  agentId,
  address: `0x${agentId.replace(/\D/g, '').padStart(40, '0')}` as `0x${string}`,
  online,
  session: 1,
  lastSeen: '2026-11-23T10:00:00.000Z',
  node: 'tx-a',
  snapshot: {
    device: { manufacturer: null, model: null, serial: null, version: null },
    inverter_ac_w: 2000, pv_w: 2000, grid_w: gridW, battery_w: null, battery_soc_pct: null, load_w: 1500,
    energy: { pv_total_wh: null, grid_import_wh: null, grid_export_wh: null }, models: [1], ts: '2026-11-23T10:00:00.000Z',
  },
})
const tradeView = (sellerAgent: string, buyerAgent: string, settlementStatus: TradeView['settlementStatus'], settlementTx: string | null): TradeView => ({
  interval: 1_800_000_000, buyer: agent(buyerAgent).address, seller: agent(sellerAgent).address, buyOrder: `0x${'1'.repeat(64)}`, sellOrder: `0x${'2'.repeat(64)}`,
  energyWh: 120, price: 168_000, sellerPrice: 168_000, node: 'tx-a', settlementTx, settlementStatus, buyerAgent, sellerAgent,
})
const count = (html: string, testId: string) => html.split(`data-testid="${testId}"`).length - 1

describe('dashboard components', () => {
  it('HomeCard shows live power, the grid direction in words, and who the home traded with', () => {
    const html = renderToStaticMarkup(<HomeCard agent={agent('home-01')} partners={['home-02', 'home-04']} />)
    expect(count(html, 'home-card')).toBe(1)
    expect(html).toContain('2.0\u00a0kW')
    expect(html).toContain('▲ sells 500\u00a0W')
    expect(html).toContain('home-02, home-04')
  })

  it('TradeList shows one row per trade with its settlement transaction or status', () => {
    const html = renderToStaticMarkup(<TradeList trades={[tradeView('home-01', 'home-02', 'settled', `0x${'a'.repeat(64)}`), tradeView('home-03', 'home-02', 'pending', null)]} decimals={6} symbol="dUSD" />)
    expect(count(html, 'trade-row')).toBe(2)
    expect(html).toContain('home-01 → home-02')
    expect(html).toContain('✓ 0xaaaaaa…aaaa')
    expect(html).toContain('0.168 dUSD/kWh')
    expect(html).toContain('>pending<')
  })

  it('TradesView keeps only the chosen home’s trades', () => {
    const trades = [tradeView('home-01', 'home-02', 'settled', `0x${'a'.repeat(64)}`), tradeView('home-03', 'home-04', 'settled', `0x${'b'.repeat(64)}`)]
    const html = renderToStaticMarkup(<TradesView market={null} agents={[agent('home-01'), agent('home-03')]} trades={trades} filter="home-04" onFilter={() => {}} />)
    expect(count(html, 'trade-row')).toBe(1)
    expect(html).toContain('home-03 → home-04')
  })

  it('FlowMap draws one arrow per seller–buyer pair and describes it in words', () => {
    const html = renderToStaticMarkup(<FlowMap agents={[agent('home-01'), agent('home-02', true, 800), agent('home-03', false)]} flows={[{ from: 'home-01', to: 'home-02', energyWh: 40 }]} />)
    expect(count(html, 'flow')).toBe(1)
    expect(html).toContain('home-01 sold 40 Wh to home-02')
    expect(html).toContain('flow-offline')
  })

  it('SupplyDemandChart draws both curves and marks the clearing point', () => {
    const html = renderToStaticMarkup(<SupplyDemandChart book={[{ side: 0, energyWh: 50, limitPrice: 200_000 }, { side: 1, energyWh: 50, limitPrice: 100_000 }]} clearingPrice={150_000} volumeWh={50} decimals={6} />)
    expect(html).toContain('curve-demand')
    expect(html).toContain('curve-supply')
    expect(html).toContain('class="clearing-point"')
    expect(html).toContain('cleared 50 Wh at 0.15 per kWh')
  })

  it('GridView shows each line against its limit, congestion, and homes offline', () => {
    const topology = [
      { id: 'feeder', parent: null, level: 'feeder' as const, capacityKw: null, feePerKwh: 10_000 },
      { id: 'tx-a', parent: 'feeder', level: 'transformer' as const, capacityKw: 1, feePerKwh: 0 },
    ]
    const last = { community: 'x', interval: 1, clearingPrice: null, volumeWh: 0, bestBid: null, bestAsk: null, orders: 0, trades: [], nodes: [], congested: ['tx-a'], links: [{ node: 'tx-a', capacityWh: 250, upWh: 250, downWh: 0 }], settlement: { status: 'nothing', tx: null, error: null } } satisfies IntervalResult
    const html = renderToStaticMarkup(<GridView topology={topology} intervals={[last]} agents={[agent('home-01'), agent('home-02', false)]} />)
    expect(count(html, 'grid-line')).toBe(1)
    expect(html).toContain('100 %')
    expect(html).toContain('⚠ congested')
    expect(html).toContain('home-02 (tx-a)')
  })
})
